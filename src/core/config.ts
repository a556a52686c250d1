/**
 * Configuration of the protocol engine, with the defaults a user gets when leaving an option
 * out. Everything here is plain data so it can be logged and compared.
 * @module
 */
import type { RegistrarOptions } from './registration.js';
import { checkEngineConfig } from './config-check.js';
import { badOption } from './option-check.js';

/** Retransmission of I1, I2, CLOSE and UPDATE: exponential backoff with a retry limit. */
export interface RetransmitConfig {
  /** First timeout in milliseconds. Default 1000 (RFC 7401 only asks for more than the worst RTT). */
  initialMs: number;
  /** Upper bound of one timeout after doubling. Default 16000. */
  maxMs: number;
  /** Retransmissions of I1 before the BEX fails. Default 5 (HIPL's HIP_RETRANSMIT_MAX). */
  i1Retries: number;
  /** Retransmissions of I2 before the BEX fails. Default 5. */
  i2Retries: number;
  /** Retransmissions of CLOSE before the association is dropped anyway. Default 3. */
  closeRetries: number;
  /** Retransmissions of UPDATE before the association is closed. Default 5. */
  updateRetries: number;
}

/** Puzzle and R1 precomputation settings of the responder. */
export interface PuzzleConfig {
  /** Difficulty K in bits. Default 1. Raise at run time with `engine.setPuzzleDifficulty()`. */
  difficulty: number;
  /**
   * Lifetime exponent: the initiator may spend 2^(lifetime-32) seconds solving. Default 37 (32 s),
   * for HIPv1 R1s too (libhipl does not check it).
   */
  lifetime: number;
  /**
   * Initiator: the highest difficulty K it will solve. Default 20 (about a million hashes); an
   * R1 asking more fails the BEX with `puzzle-unsolved`.
   */
  maxDifficulty: number;
  /**
   * Initiator: hashes tried per turn while solving a puzzle. Between slices the engine arms a
   * `solve` timer due at once, so a host yields to its event loop and a hard puzzle never
   * blocks it; past the puzzle's lifetime the BEX fails with `puzzle-unsolved`. Default 4096.
   */
  sliceAttempts: number;
  /**
   * Responder: raise K under load (RFC 7401 §4.1.1). When `loadThreshold` I2s reach the DH step
   * within one second, K rises by 2 bits (up to `maxAdaptiveDifficulty`) and a new R1
   * generation starts; each quiet second lowers it by one bit, back to `difficulty`. While K is
   * raised, I1s get an ECDH group only (an I1 cannot make us pay for MODP). Default true.
   */
  adaptive: boolean;
  /**
   * Responder: I2 DH computations per second that count as load. Default 1000: an I2 costs the
   * responder about 0.5 ms of CPU, so this is about half a core; at 200, K rose under ordinary
   * traffic (a few hundred handshakes a second) and throttled legitimate clients to ~50/s.
   */
  loadThreshold: number;
  /** Responder: the highest K load can raise the difficulty to. Default 16. */
  maxAdaptiveDifficulty: number;
  /**
   * How often the puzzle secret, the R1_COUNTER and the responder's DH keys rotate, in ms.
   * Default 120000. R1s are built and signed once per rotation; DH keys are therefore reused for
   * at most this long (RFC 7401 allows reuse during I1 storms).
   */
  rotationMs: number;
}

/**
 * Which peers a responder accepts. `undefined` accepts every peer that proves its identity;
 * an array is an allow-list of HIT strings; a function decides per peer.
 */
export type PeerPolicy = readonly string[] | ((peer: { hit: string; version: 1 | 2 }) => boolean);

/** Options of a HIP engine. Every field has a default (see {@link resolveEngineConfig}). */
export interface EngineConfig {
  /** Protocol version used when initiating. Default 2. Overridable per peer in `connect()`. */
  version: 1 | 2;
  /** DH groups offered (initiator, in I1) and preferred (responder, in R1), HIPv2. Default [7, 8, 3, 11, 4]. */
  dhGroups: number[];
  /** HIP_CIPHER list for ENCRYPTED (HIPv2). Default [2 AES-128-CBC, 4 AES-256-CBC]. */
  hipCiphers: number[];
  /** ESP transforms offered, HIPv2. Default [13 AES-GCM-16, 8 AES-128-CBC+HMAC-SHA-256, 9 AES-256-CBC+HMAC-SHA-256]. */
  espSuites: number[];
  /** ESP transforms offered in HIPv1 (libhipl interop). Default [1]: libhipl takes the first it supports. */
  espSuitesV1: number[];
  /** HIP_TRANSFORM list of HIPv1. Default [1] (AES-CBC + HMAC-SHA1). */
  hipTransformsV1: number[];
  /** Send the HOST_ID inside ENCRYPTED in I2 (HIPv2 and HIPv1). Default false (in clear, like libhipl). */
  encryptHostId: boolean;
  /** Offer/accept NAT_TRAVERSAL_MODE UDP-ENCAPSULATION in R1/I2. Default false. */
  natMode: boolean;
  /**
   * Hole punching (RFC 9028, simplified): a relay client that answered a peer through its relay
   * server announces its server-reflexive address to the peer and both run connectivity checks
   * (UPDATE with ECHO_REQUEST_SIGNED) on the direct path; data moves there when one succeeds
   * and stays relayed otherwise. Default true.
   */
  holePunching: boolean;
  /** Accept an R1 from any HIT when `connect()` was given no HIT. Default false. */
  opportunistic: boolean;
  /** Responder policy. Default: accept every authenticated peer. */
  policy: PeerPolicy | undefined;
  /** Act as a registrar (RFC 8003): REG_INFO in R1, and, with type 1, a rendezvous server (RFC 8004). Default none. */
  registrar: RegistrarOptions | undefined;
  /** Allow the insecure suites (NULL encryption: ESP 7, HIP cipher 1, v1 transform 5). Default false. */
  allowInsecure: boolean;
  /** Puzzle and R1 rotation. */
  puzzle: PuzzleConfig;
  /** Retransmission. */
  retransmit: RetransmitConfig;
  /** An established association idle for this long is closed (UAL). Default 600000 ms (10 min). 0 disables. */
  idleTimeoutMs: number;
  /** How long CLOSED lingers to re-acknowledge a retransmitted CLOSE. Default 2000 ms. */
  closedLingerMs: number;
  /** R2-SENT becomes ESTABLISHED after this long without traffic (the EC timer). Default 10000 ms. */
  r2SentDwellMs: number;
  /**
   * At most this many NOTIFY error replies per second, for all peers together (the sender HIT
   * of a stranger's packet is its own choice, so a per-HIT limit would limit nothing). Replies
   * to peers that have not proven their identity are unsigned: no private-key operation.
   * Default 10.
   */
  notifyPerSecond: number;
  /** DH groups accepted from a libhipl (v1) R1, in preference order. Default [3]. */
  dhGroupsV1: number[];
  /**
   * NAT keepalive: after this many ms without sending anything to a peer, send it a HIP NOTIFY
   * without parameters (RFC 5770 §5.3, UDP-ENCAPSULATION mode), so the NAT keeps the mapping.
   * Only an idle path gets one; data resets the clock. 0 disables. Default 0; hosts in NAT mode
   * use 15000 (RFC 5770 §4.7: at least every 15 s).
   */
  keepaliveMs: number;
  /**
   * Liveness: after this many ms without hearing the peer, probe the path with an UPDATE that must
   * be acknowledged; if no ACK comes after every retransmission (`retransmit.updateRetries`), a
   * `path` event reports it dead. 0 disables. Default 0; hosts in NAT mode use 30000.
   */
  livenessMs: number;
  /**
   * Peer loss (a peer that restarted and lost its state, and drops our packets without a word):
   * when we have sent the peer data and heard nothing from it for this many ms, probe it with an
   * UPDATE it must acknowledge; if no ACK comes after {@link LOSS_PROBE_RETRIES} retransmissions,
   * the association is dropped and a `peer-lost` event tells the driver to run the BEX again and
   * resend what it sent since `lastHeard`. A live peer answers the probe and is not disturbed.
   * 0 disables. Default 5000.
   */
  peerLossMs: number;
  /**
   * At most this many associations, in every state, in the table. When it is full, an I2 from a
   * HIT with no association is dropped (`association-limit`) before any DH or signature work,
   * and `connect()` to a new peer throws `ERR_HIP_ASSOCIATION_LIMIT`; an existing association
   * is never evicted for a newcomer. Default 16384: at the ~33 KiB a host spends per
   * association (ESP SAs, replay window, session) that is about 530 MiB, well under Node's
   * default heap limit, so a flood of solved puzzles under fresh HITs meets this limit before it
   * exhausts memory.
   */
  maxAssociations: number;
}

/**
 * Retransmissions of a peer-loss probe before the peer counts as lost (fewer than
 * `retransmit.updateRetries`: with the default timers the probe is sent at 0, 1, 3 and 7 s and
 * given up at 15 s).
 */
export const LOSS_PROBE_RETRIES = 3;

/** The defaults, frozen. Documented field by field in {@link EngineConfig}. */
export const DEFAULT_ENGINE_CONFIG: Readonly<EngineConfig> = Object.freeze({
  version: 2,
  dhGroups: [7, 8, 3, 11, 4],
  hipCiphers: [2, 4],
  espSuites: [13, 8, 9],
  espSuitesV1: [1],
  hipTransformsV1: [1],
  encryptHostId: false,
  natMode: false,
  holePunching: true,
  opportunistic: false,
  policy: undefined,
  registrar: undefined,
  allowInsecure: false,
  puzzle: Object.freeze({ difficulty: 1, lifetime: 37, rotationMs: 120_000, maxDifficulty: 20, sliceAttempts: 4096, adaptive: true, loadThreshold: 1000, maxAdaptiveDifficulty: 16 }),
  retransmit: Object.freeze({
    initialMs: 1000,
    maxMs: 16_000,
    i1Retries: 5,
    i2Retries: 5,
    closeRetries: 3,
    updateRetries: 5,
  }),
  idleTimeoutMs: 600_000,
  closedLingerMs: 2000,
  r2SentDwellMs: 10_000,
  notifyPerSecond: 10,
  dhGroupsV1: [3],
  keepaliveMs: 0,
  livenessMs: 0,
  peerLossMs: 5000,
  maxAssociations: 16_384,
}) as Readonly<EngineConfig>;

/** Options as a user writes them: any subset, nested objects partial too. */
export type EngineOptions = Partial<Omit<EngineConfig, 'puzzle' | 'retransmit'>> & {
  /** Puzzle and R1 rotation; unset fields keep their defaults. */
  puzzle?: Partial<PuzzleConfig>;
  /** Retransmission; unset fields keep their defaults. */
  retransmit?: Partial<RetransmitConfig>;
};

/**
 * Fill in defaults and check the result.
 *
 * @throws `HipArgumentError` `ERR_HIP_BAD_OPTION` (message and `details.option` name the option)
 *   for a value the engine cannot work with: e.g. `dhGroups: []`, `puzzle.difficulty: 300`,
 *   `retransmit.initialMs: NaN`.
 *
 * @example
 * ```ts
 * const cfg = resolveEngineConfig({ espSuites: [8], puzzle: { difficulty: 10 } });
 * ```
 */
export function resolveEngineConfig(options: EngineOptions = {}): EngineConfig {
  const d = DEFAULT_ENGINE_CONFIG;
  if (options === null || typeof options !== 'object') throw badOption('engine', 'must be an object', options);
  const config: EngineConfig = {
    ...d,
    ...stripUndefined(options),
    dhGroups: list('dhGroups', options.dhGroups, d.dhGroups),
    hipCiphers: list('hipCiphers', options.hipCiphers, d.hipCiphers),
    espSuites: list('espSuites', options.espSuites, d.espSuites),
    espSuitesV1: list('espSuitesV1', options.espSuitesV1, d.espSuitesV1),
    hipTransformsV1: list('hipTransformsV1', options.hipTransformsV1, d.hipTransformsV1),
    dhGroupsV1: list('dhGroupsV1', options.dhGroupsV1, d.dhGroupsV1),
    puzzle: { ...d.puzzle, ...stripUndefined(object('puzzle', options.puzzle)) },
    retransmit: { ...d.retransmit, ...stripUndefined(object('retransmit', options.retransmit)) },
  };
  checkEngineConfig(config);
  return config;
}

/** A copy of a list option, or of its default. */
function list(name: string, v: readonly number[] | undefined, dflt: readonly number[]): number[] {
  if (v === undefined) return [...dflt];
  if (!Array.isArray(v)) throw badOption(name, 'must be a list', v);
  return [...(v as number[])];
}

/** A nested options object, or an empty one. */
function object<T extends object>(name: string, v: T | undefined): T | Record<string, never> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object') throw badOption(name, 'must be an object', v);
  return v;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
