/**
 * The receive-side anti-replay window of an ESP SA with 64-bit Extended Sequence Numbers
 * (RFC 4303 §3.4.3 and Appendix A).
 *
 * Only the low 32 bits of a sequence number travel in the packet. The receiver infers the high
 * half from where its window stands (RFC 4303 A2.2): with `T` the highest authenticated sequence
 * number (`Th`/`Tl` its halves) and `W` the window size,
 *
 * ```
 * Case A, Tl >= W - 1 (window inside one 2^32 subspace):  Seql >= Tl - W + 1 ? Th     : Th + 1
 * Case B, Tl <  W - 1 (window spans two subspaces):        Seql >= Tl - W + 1 ? Th - 1 : Th
 *         (in case B, Tl - W + 1 is taken modulo 2^32)
 * ```
 *
 * Put differently: the packet is read as the one sequence number in `[T - W + 1, T - W + 2^32]`
 * whose low half matches. Before any subspace below `Th = 0` exists (while `T < W - 1`), the
 * high half is 0. The resynchronisation of RFC 4303 A3 (after more than 2^32 lost packets) is
 * not implemented: HIP rekeys long before that could matter.
 *
 * The window is checked before the ICV (cheap early drop of duplicates) and updated only after
 * the packet has been authenticated, so a forged packet can never move it.
 * @module
 */

import { HipEspError } from '../errors.js';

/**
 * Where a sequence number stands relative to the window: `'fresh'` (never seen, may be
 * accepted), `'duplicate'` (inside the window and already accepted) or `'stale'` (left of the
 * window, or a number no sender may use: 0 or beyond 2^64 - 1).
 */
export type ReplayStatus = 'fresh' | 'duplicate' | 'stale';

/** Smallest and largest window sizes accepted by {@link ReplayWindow}. */
export const REPLAY_WINDOW_LIMITS = {
  /** Smallest window: 1 packet. */
  min: 1,
  /** Largest window: 65536 packets. */
  max: 65536
} as const;

const TWO32 = 4294967296;

/**
 * A sliding anti-replay window over 64-bit sequence numbers. Sequence numbers are handled as
 * their two 32-bit halves so the per-packet path needs no bigint arithmetic.
 *
 * @example
 * ```ts
 * const w = new ReplayWindow(64);
 * const { seqHigh, status } = w.check(seqLowFromPacket);
 * if (status === 'fresh' && icvVerifies(seqHigh)) w.update(seqHigh, seqLowFromPacket);
 * ```
 */
export class ReplayWindow {
  /** Number of sequence numbers, ending at the highest accepted one, that are remembered. */
  readonly size: number;
  #topHi = 0;
  #topLo = 0;
  // A ring of bits, one per sequence number modulo its length (a power of two >= size, >= 32,
  // so it divides 2^32 and the low half alone gives the index).
  readonly #bits: Uint32Array;
  readonly #mask: number;

  /**
   * An empty window: nothing received yet, highest sequence number 0.
   *
   * @param size window size in packets; RFC 4303 asks for at least 32 and suggests 64.
   * @throws HipEspError `ERR_ESP_BAD_OPTION` when size is not an integer in 1..65536.
   */
  constructor(size = 64) {
    if (!Number.isInteger(size) || size < REPLAY_WINDOW_LIMITS.min || size > REPLAY_WINDOW_LIMITS.max) {
      throw new HipEspError('ERR_ESP_BAD_OPTION', `replay window size must be an integer in 1..65536, got ${String(size)}`, { replayWindow: size });
    }
    this.size = size;
    let ring = 32;
    while (ring < size) ring *= 2;
    this.#bits = new Uint32Array(ring / 32);
    this.#mask = ring - 1;
  }

  /** The highest sequence number accepted so far (0n before the first). */
  get top(): bigint {
    return (BigInt(this.#topHi) << 32n) | BigInt(this.#topLo);
  }

  /**
   * The high 32 bits the sender most likely used for a packet carrying `seqLow` (RFC 4303
   * A2.2). Before any subspace below 0 exists it answers 0 rather than -1; it answers 2^32
   * when the packet could only lie beyond 2^64 - 1, which {@link ReplayWindow.status} calls
   * stale.
   */
  inferHigh(seqLow: number): number {
    const w = this.size;
    const th = this.#topHi;
    const tl = this.#topLo;
    if (tl >= w - 1) return seqLow >= tl - w + 1 ? th : th + 1;
    if (th === 0) return 0;
    return seqLow >= tl - w + 1 + TWO32 ? th - 1 : th;
  }

  /** Where the sequence number `seqHigh:seqLow` stands; changes nothing. */
  status(seqHigh: number, seqLow: number): ReplayStatus {
    if (seqHigh < 0 || seqHigh >= TWO32 || (seqHigh === 0 && seqLow === 0)) return 'stale';
    const th = this.#topHi;
    const tl = this.#topLo;
    if (seqHigh > th || (seqHigh === th && seqLow > tl)) return 'fresh';
    // Exact while the difference is below 2^53; anything larger is stale either way.
    const behind = (th - seqHigh) * TWO32 + (tl - seqLow);
    if (behind >= this.size) return 'stale';
    const i = seqLow & this.#mask;
    return (this.#bits[i >>> 5]! >>> (i & 31)) & 1 ? 'duplicate' : 'fresh';
  }

  /**
   * Infer the high half for `seqLow` and report where that sequence number stands, without
   * changing the window: the check to make before verifying the ICV.
   */
  check(seqLow: number): {
    /** The inferred high 32 bits of the 64-bit sequence number (feeds the ICV). */
    seqHigh: number;
    /** Where `seqHigh:seqLow` stands relative to the window. */
    status: ReplayStatus;
  } {
    const seqHigh = this.inferHigh(seqLow);
    return { seqHigh, status: this.status(seqHigh, seqLow) };
  }

  /**
   * True when `seqHigh:seqLow` lies ahead of the window but the same low half, read one
   * subspace lower, would fall left of it. Such a packet whose ICV fails under the inferred
   * high half is most likely a replay of an old packet: worth one more ICV check to tell.
   */
  olderReadingIsStale(seqHigh: number, seqLow: number): boolean {
    if (seqHigh < 1 || this.status(seqHigh, seqLow) !== 'fresh') return false;
    const th = this.#topHi;
    if (!(seqHigh > th || (seqHigh === th && seqLow > this.#topLo))) return false;
    return this.status(seqHigh - 1, seqLow) === 'stale';
  }

  /**
   * Mark `seqHigh:seqLow` as received, sliding the window forward if it is the new highest.
   * Call only after the packet has been authenticated.
   *
   * @returns false (and changes nothing) when the number is not fresh.
   */
  update(seqHigh: number, seqLow: number): boolean {
    if (this.status(seqHigh, seqLow) !== 'fresh') return false;
    const th = this.#topHi;
    const tl = this.#topLo;
    const bits = this.#bits;
    const mask = this.#mask;
    if (seqHigh > th || (seqHigh === th && seqLow > tl)) {
      const ahead = (seqHigh - th) * TWO32 + (seqLow - tl);
      if (ahead > mask) {
        bits.fill(0);
      } else {
        // Forget the numbers that slide out: their ring slots are reused by the new ones.
        for (let k = 1; k <= ahead; k++) {
          const i = (tl + k) & mask;
          bits[i >>> 5]! &= ~(1 << (i & 31));
        }
      }
      this.#topHi = seqHigh;
      this.#topLo = seqLow;
    }
    const i = seqLow & mask;
    bits[i >>> 5]! |= 1 << (i & 31);
    return true;
  }
}
