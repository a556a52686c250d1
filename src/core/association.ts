/**
 * The state one host keeps about one peer (a HIP association), and its states (RFC 7401 4.4.2).
 * @module
 */
import type { DhKeyPair, VerifyingKey } from '../crypto/provider.js';
import type { PuzzleSearch } from '../crypto/puzzle.js';
import type { PublicKeyMaterial, SignatureScheme } from '../crypto/keys.js';
import type { EspSaParams, FailureReason, PeerLocator } from './events.js';
import { PathTable } from './paths.js';
import type { HipKeys } from './session-keys.js';
import { UpdateState } from './update-state.js';

/** Association states of RFC 7401 4.4.2. */
export const HipState = Object.freeze({
  /** No state with this peer: the start, and where every association ends. */
  UNASSOCIATED: 'UNASSOCIATED',
  /** Initiator: I1 sent, waiting for an R1. */
  I1_SENT: 'I1-SENT',
  /** Initiator: I2 sent, waiting for the R2. */
  I2_SENT: 'I2-SENT',
  /**
   * Responder: R2 sent; becomes ESTABLISHED on the peer's first data or UPDATE, or when the EC
   * timer expires.
   */
  R2_SENT: 'R2-SENT',
  /** Base exchange complete: keys agreed, ESP SAs in place. */
  ESTABLISHED: 'ESTABLISHED',
  /** CLOSE sent, waiting for CLOSE_ACK (retransmitting CLOSE meanwhile). */
  CLOSING: 'CLOSING',
  /** CLOSE received and acknowledged; lingers to re-acknowledge a retransmitted CLOSE. */
  CLOSED: 'CLOSED',
  /** The base exchange failed (e.g. retries exhausted, downgrade); the engine forgets the peer at once. */
  E_FAILED: 'E-FAILED',
} as const);

/** One of the {@link HipState} values. */
export type HipStateValue = (typeof HipState)[keyof typeof HipState];

/** What the association's single timer does when it fires. */
export type TimerKind = 'retransmit' | 'idle' | 'linger' | 'dwell' | 'solve';

/** Initiator: a puzzle being solved a slice at a time, and the R1 it came from. */
export interface SolveJob {
  search: PuzzleSearch;
  /** Attempt limit: 2^(K+6) hashes fail only for a broken puzzle. */
  budget: number;
  /** The puzzle's lifetime: past it the responder no longer takes the solution. */
  deadline: number;
  /** A copy of the R1 bytes (the parsed packet below points into them). */
  raw: Uint8Array;
  /** What the verified R1 said and what was negotiated from it. */
  finish: (j: Uint8Array, now: number) => void;
}

/** The peer's proven identity. */
export interface PeerIdentity {
  publicKey: PublicKeyMaterial;
  verifyingKey: VerifyingKey;
  schemes: SignatureScheme[];
  hiAlgorithm: number;
}

/** Mutable per-peer state. Internal to the engine; read it through `engine.association()`. */
export class Association<L extends PeerLocator> {
  state: HipStateValue = HipState.UNASSOCIATED;
  role: 'initiator' | 'responder' = 'initiator';
  /** Peer HIT; all zero while an opportunistic BEX waits for its R1. */
  peerHit: Uint8Array;
  locator: L;
  candidates: L[];
  startedAt: number;
  lastActivity: number;

  peer: PeerIdentity | undefined;
  hipKeys: HipKeys | undefined;
  sa: EspSaParams | undefined;
  dh: DhKeyPair | undefined;
  /** Initiator: our DH group offer, for the downgrade check. */
  offeredGroups: number[] = [];
  /** Initiator: the responder's HOST_ID TLV from its R1, needed for HIP_MAC_2. */
  r1HostIdTlv: Uint8Array | undefined;
  /** Initiator: R1_COUNTER of the R1 we answered (v2), to accept only newer R1s in I2-SENT. */
  r1Counter: bigint | undefined;
  /**
   * Responder: SHA-256 of the I2 that created this association (checksum field zeroed), to
   * recognise its retransmissions and replays for as long as the association lives; a digest,
   * not the packet, since it is kept that long.
   */
  i2Digest: Uint8Array | undefined;
  /**
   * Responder (v2): our R2, resent when the initiator retransmits its I2 (our R2 was lost);
   * released by {@link Association.confirm}, once the peer has shown it got the R2.
   */
  r2: Uint8Array | undefined;
  /** The packet retransmitted by the timer (I1, I2, CLOSE). */
  pending: Uint8Array | undefined;
  pendingType = 0;
  retries = 0;
  /** Initiator in I1-SENT: the round of I1s to the candidates (shotgun.ts). */
  shotgun: { next: number; roundAt: number } | undefined;
  timerAt: number | undefined;
  timerKind: TimerKind | undefined;
  /**
   * Initiator: why the last answer to our I1/I2 was refused (an R1 from another identity, a
   * bad signature). If the BEX then times out, this is the reason it fails with.
   */
  lastDrop: { reason: FailureReason; detail: string } | undefined;
  /** Initiator: the puzzle being solved (I1-SENT, or I2-SENT after a newer R1). */
  solving: SolveJob | undefined;
  /** Why we are closing: reported in the `closed` event once the close completes. */
  closeReason: 'local' | 'idle' = 'local';
  /** The echo nonce of our CLOSE. */
  closeNonce: Uint8Array | undefined;
  /** The peer's locators and their states; `locator` is its current ACTIVE one (paths.ts). */
  paths: PathTable<L>;
  /** UPDATE exchanges: SEQ/ACK, rekey, checks (update.ts). */
  readonly update = new UpdateState<L>();
  /** When authenticated traffic from the peer last arrived (liveness). */
  lastReceived: number;
  /** When we last sent the peer anything (NAT keepalives go out only on an idle path). */
  lastSent: number;
  /** A probe or announcement went unanswered: the path is reported dead until the peer is heard. */
  pathDead = false;
  /** When we first sent data since the peer was last heard (peer loss); undefined when answered. */
  unansweredSince: number | undefined;
  /** DH group of the base exchange, reused by a rekey with a new DH key. */
  dhGroup: number | undefined;

  constructor(
    readonly version: 1 | 2,
    readonly localHit: Uint8Array,
    peerHit: Uint8Array,
    locator: L,
    now: number,
  ) {
    this.peerHit = peerHit;
    this.locator = locator;
    this.candidates = [locator];
    this.startedAt = now;
    this.lastActivity = now;
    this.lastReceived = now;
    this.lastSent = now;
    this.paths = new PathTable(locator, now);
  }

  /**
   * The peer sent authenticated traffic (ESP or an UPDATE) in R2-SENT: it has our R2, so the
   * association is ESTABLISHED (RFC 7401 4.4.2) and the R2 kept for its retransmission goes.
   * A later copy of the I2 is still recognised by {@link Association.i2Digest} and dropped.
   */
  confirm(): void {
    this.state = HipState.ESTABLISHED;
    this.r2 = undefined;
  }

  setTimer(kind: TimerKind, at: number): void {
    this.timerKind = kind;
    this.timerAt = at;
  }

  clearTimer(): void {
    this.timerKind = undefined;
    this.timerAt = undefined;
  }
}
