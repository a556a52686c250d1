/**
 * The UPDATE state an association carries (the exchanges themselves are in update.ts). Kept apart
 * so the association can hold it without importing the handlers.
 * @module
 */
import type { DhKeyPair } from '../crypto/provider.js';
import type { HipParam } from '../wire/index.js';
import type { EspSaParams, PeerLocator } from './events.js';
import type { HipKeys } from './session-keys.js';

/** Why we sent an UPDATE that waits for its ACK. */
export type UpdatePurpose = 'announce' | 'verify' | 'rekey' | 'probe' | 'loss' | 'register';

/** Work waiting for the outstanding UPDATE to be acknowledged. */
export type Want<L extends PeerLocator> =
  | { kind: 'announce'; addresses: Uint8Array[]; ports?: number[] }
  | { kind: 'verify'; locator: L }
  /**
   * Our rekey (`answer` unset: start one), or our answer to the peer's rekey request, which had
   * to wait because another UPDATE of ours was outstanding (`answer`: the rekey state exists).
   */
  | { kind: 'rekey'; dh: boolean; answer?: true }
  | { kind: 'probe' }
  | { kind: 'loss' }
  /** A REG_REQUEST (RFC 8003 §3.3: renewal, change or cancellation of a registration). */
  | { kind: 'register'; request: HipParam };

export interface Outstanding<L extends PeerLocator> {
  seq: number;
  packet: Uint8Array;
  to: L;
  retries: number;
  purpose: UpdatePurpose;
  /** verify: the locator being checked. */
  pathKey?: string;
  /** announce: the addresses announced, to announce again if this UPDATE is cancelled. */
  addresses?: Uint8Array[];
  /** announce: their ports, when they are transport candidates (RFC 9028). */
  ports?: number[];
  /** register: the REG_REQUEST sent, to send again if this UPDATE is cancelled. */
  request?: HipParam;
  /** announce: the retransmission round to the peer's known locators in progress (shotgun.ts). */
  round?: { targets: L[]; next: number; at: number };
}

/** A rekey in progress (RFC 7402 §6.9). */
export interface Rekey {
  /** The SPI we asked the peer to send to from now on. */
  newLocalSpi: number;
  /** KEYMAT index we proposed. */
  index: number;
  /** The peer's ESP_INFO (its new SPI and index), once seen. */
  peer: { newSpi: number; index: number } | undefined;
  /** Our UPDATE carrying our ESP_INFO was acknowledged. */
  acked: boolean;
  /** New DH key of ours, when the rekey renews the DH secret. */
  dh: DhKeyPair | undefined;
  /** The peer's new DH public value, once seen. */
  peerDh: Uint8Array | undefined;
  /** The new SA pair, once both ESP_INFOs are known. */
  sa?: EspSaParams;
  /** The association's keys after the rekey (KEYMAT position, DH secret). */
  keys?: HipKeys;
}

/** UPDATE state of one association. */
export class UpdateState<L extends PeerLocator> {
  /** Our next Update ID (RFC 7401 §5.2.16: the first is 0). */
  nextSeq = 0;
  out: Outstanding<L> | undefined;
  /** When `out` is retransmitted next. */
  timerAt: number | undefined;
  readonly wants: Want<L>[] = [];
  /** The last peer Update ID we processed, and the UPDATE we answered it with. */
  peerSeq: number | undefined;
  reply: Uint8Array | undefined;
  rekey: Rekey | undefined;
}

