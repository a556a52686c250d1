/**
 * What the host keeps per established association: the ESP SAs (or libhipl clear-text mode),
 * where the peer is, and traffic counters.
 * @module
 */
import type { EspSaParams } from '../core/events.js';
import { formatHit } from '../crypto/hit.js';
import { InboundSa, OutboundSa, type EspSequenceMode } from '../esp/sa.js';
import type { HostLocator } from './locator.js';

/** Per-association counters. */
export interface SessionStats {
  /** Authenticated packets received (ESP, or clear text from a libhipl peer). */
  packetsIn: number;
  /** Packets sent: ESP packets (datagrams and stream segments), or clear-text payloads to libhipl. */
  packetsOut: number;
  /** Bytes received inside ESP (inner UDP/TCP header included) or as clear text. */
  bytesIn: number;
  /** Bytes sent inside ESP (inner UDP/TCP header included) or as clear text. */
  bytesOut: number;
  /**
   * Authentic packets whose source was not the peer's verified locator (a NAT rebinding, or a
   * captured packet re-sent by someone else): delivered, but replies still go to the verified one.
   */
  otherSource: number;
  /** ICMPv6 echo requests from the peer answered (hipd's heartbeat, or `ping6` to our HIT). */
  echoesAnswered: number;
  /**
   * Drops by reason: ESP `auth`, `replay`, `malformed`; `no-port` (no socket bound);
   * `inner-udp-malformed`; `icmpv6-*` (bad checksum, a type we do not answer); `inner-<protocol>`
   * for an inner protocol the host does not carry (e.g. `inner-sctp`).
   */
  drops: Record<string, number>;
}

/** An established association as the data path sees it. */
export class Session {
  readonly outbound: OutboundSa | undefined;
  readonly inbound: InboundSa | undefined;
  /** A `rekey` event was already emitted for this association. */
  rekeyRequested = false;
  readonly stats: SessionStats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, otherSource: 0, echoesAnswered: 0, drops: {} };
  /** When the host last told the engine we sent on this association (see HipHost's touch). */
  lastTouch = -Infinity;
  /** When the host last told the engine the peer sent on this association. */
  lastPeerTouch = -Infinity;
  /** Canonical text of {@link peerHit}, made once (the data path names the peer per packet). */
  readonly peerHitText: string;

  constructor(
    readonly peerHit: Uint8Array,
    readonly localHit: Uint8Array,
    readonly version: 1 | 2,
    public locator: HostLocator,
    readonly sa: EspSaParams,
    /** libhipl mode: application bytes travel in clear on the carrier (HIPV1-PROFILE 12). */
    readonly clearText: boolean,
    replayWindow: number | undefined,
    rekeyThreshold?: bigint,
    /** What the ESP integrity check covers of the sequence number (`'32bit'`: hipd's form). */
    readonly espSequence: EspSequenceMode = 'esn',
  ) {
    this.peerHitText = formatHit(peerHit);
    if (!clearText) {
      this.outbound = new OutboundSa(
        { suite: sa.suite, spi: sa.peerSpi, encKey: sa.outbound.enc, authKey: sa.outbound.auth },
        rekeyThreshold === undefined ? { sequence: this.espSequence } : { rekeyThreshold, sequence: this.espSequence },
      );
      this.inbound = new InboundSa(
        { suite: sa.suite, spi: sa.localSpi, encKey: sa.inbound.enc, authKey: sa.inbound.auth },
        replayWindow === undefined ? { sequence: this.espSequence } : { replayWindow, sequence: this.espSequence },
      );
    }
  }

  /** Count a drop. */
  drop(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }
}
