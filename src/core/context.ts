/**
 * What the engine's packet handlers share: configuration, crypto, the local identity, the
 * association table and the output queues. Internal to the core.
 * @module
 */
import { bytesToHex } from '../bytes.js';
import type { CryptoProvider, SigningKey, VerifyingKey } from '../crypto/provider.js';
import type { PeerKey } from './peer-key.js';
import type { HashName, SignatureScheme } from '../crypto/keys.js';
import type { HostIdParam } from '../wire/index.js';
import type { Association } from './association.js';
import type { EngineConfig } from './config.js';
import type { DropReason, EngineEvent, PeerLocator, Transmit } from './events.js';
import type { Registry } from './registration.js';
import type { RelayService } from './relay.js';
import type { R1Factory } from './responder.js';
import type { PuzzleLoad } from './puzzle-load.js';

/** The local host as the handlers see it, per HIP version. */
export interface LocalSide {
  hit: Uint8Array;
  hostId: HostIdParam;
  signingKey: SigningKey;
  scheme: SignatureScheme;
  hiAlgorithm: number;
  /** RHASH of our HIT suite: used when we are the responder. */
  rhash: HashName;
  /** HIT suite byte for HIT_SUITE_LIST checks (v2). */
  hitSuite: number;
}

/** Counters of the engine, all monotonically increasing. */
export interface EngineStats {
  /** HIP packets handed to the engine, whether processed or dropped. */
  received: number;
  /** HIP packets the engine asked its driver to send, retransmissions and NOTIFYs included. */
  sent: number;
  /** Dropped received packets, per reason; reasons never seen are absent. */
  dropped: Partial<Record<DropReason, number>>;
  /** NOTIFY packets sent (error reports to peers). */
  notifiesSent: number;
  /** NOTIFY packets not sent because the global budget (`notifyPerSecond`) was spent. */
  notifiesSuppressed: number;
  /** Associations that reached ESTABLISHED. */
  established: number;
  /** Associations that failed. */
  failed: number;
  /** NAT keepalives sent (parameterless NOTIFYs on idle paths). */
  keepalivesSent: number;
}

/** Shared state and helpers of the packet handlers. */
export interface EngineContext<L extends PeerLocator> {
  readonly config: EngineConfig;
  readonly provider: CryptoProvider;
  readonly random: (n: number) => Uint8Array;
  readonly r1: R1Factory;
  /** The responder's load and the puzzle difficulty it calls for. */
  readonly load: PuzzleLoad;
  readonly stats: EngineStats;
  /** Our side for a version; undefined when the identity cannot speak it (v1 needs RSA). */
  local(version: 1 | 2): LocalSide | undefined;
  /** Associations by peer HIT hex. */
  readonly associations: Map<string, Association<L>>;
  transmit(t: Transmit<L>): void;
  emit(e: EngineEvent): void;
  drop(reason: DropReason, packetType?: number, peerHit?: Uint8Array, detail?: string): void;
  allocateSpi(): number;
  releaseSpi(spi: number): void;
  /**
   * A peer's decoded key, HIT and imported verifying key, cached by HOST_ID bytes: decoding and
   * importing a key costs more than verifying with it.
   */
  peerKey(hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): CachedPeerKey;
  /**
   * Send a NOTIFY, unless the global budget is spent. Signed only when `signed` is true, which
   * callers set only for a peer that has proven its identity: a stranger never costs a
   * private-key operation.
   */
  notify(version: 1 | 2, peerHit: Uint8Array, to: L, notifyType: number, data: Uint8Array, now: number, signed?: boolean): void;
  /** Registrations (RFC 8003) and the rendezvous service (RFC 8004). */
  readonly registry: Registry<L>;
  /** The HIP relay (RFC 5770 / RFC 9028), server and client side. */
  readonly relay: RelayService<L>;
}

/** A peer key with its provider handle. */
export interface CachedPeerKey extends PeerKey {
  verifyingKey: VerifyingKey;
}

/**
 * Hex text of HITs already seen, by array identity: the data path asks for the same peer's
 * association on every packet (sent, received, where to), with the same HIT array each time.
 * Callers never mutate a HIT array once it names an association.
 */
const hitKeys = new WeakMap<Uint8Array, string>();

/** Map key of a HIT. */
export function hitKey(hit: Uint8Array): string {
  let k = hitKeys.get(hit);
  if (k === undefined) {
    k = bytesToHex(hit);
    hitKeys.set(hit, k);
  }
  return k;
}
