/**
 * Pacing for a stream over an unreliable carrier (RFC 9002 7.7): a token bucket that lets data
 * segments leave at about 1.25 congestion windows per smoothed round trip instead of in one
 * burst per ACK, which a queue on the path (or `tc netem`'s) would overflow and drop.
 *
 * Sans-IO like the connection that owns it: time comes in as `now` (ms), and when a segment
 * must wait the pacer says until when, so the connection can arm its timer.
 * @module
 */

/** Rate above one window per round trip, so pacing never becomes the bottleneck (RFC 9002 7.7). */
const PACING_GAIN = 1.25;

/**
 * Bursts of this many milliseconds of sending are allowed. Node timers fire a few ms late
 * under load; a bucket smaller than that slack would waste the time between a timer's due
 * date and when it really ran.
 */
const BURST_MS = 4;

/** Bounds of the bucket in segments: small windows still start with a short burst, large ones stay smooth. */
const MIN_BURST_SEGMENTS = 10;
const MAX_BURST_SEGMENTS = 256;

/** A token bucket in bytes, refilled at `1.25 * cwnd / srtt`. */
export class Pacer {
  private tokens: number;
  private last: number | undefined;

  /** The segment size, which sets the bucket's bounds (the connection changes it when the segment size changes). */
  segmentBytes: number;

  /** @param segmentBytes The segment size, which sets the bucket's bounds. */
  constructor(segmentBytes: number) {
    this.segmentBytes = segmentBytes;
    this.tokens = MIN_BURST_SEGMENTS * segmentBytes;
  }

  /**
   * May a segment of `bytes` leave at `now`? Without an RTT estimate there is no rate, so
   * everything may (the congestion window alone limits the first flights).
   */
  canSend(bytes: number, now: number, cwnd: number, srttMs: number | undefined): boolean {
    if (srttMs === undefined) return true;
    this.refill(now, cwnd, srttMs);
    // A segment larger than the bucket (tiny windows) goes once the bucket is full.
    // (A byte of slack absorbs floating-point rounding of the refill, which could otherwise
    // ask for a wake-up a femtosecond later, forever.)
    return this.tokens + 1 >= Math.min(bytes, this.capacity(cwnd, srttMs));
  }

  /** Take `bytes` out of the bucket: call for every data segment sent (it may go below zero). */
  onSend(bytes: number): void {
    this.tokens -= bytes;
  }

  /** When a segment of `bytes` refused by {@link canSend} at `now` may go, in ms. */
  nextSendTime(bytes: number, now: number, cwnd: number, srttMs: number): number {
    const want = Math.min(bytes, this.capacity(cwnd, srttMs)) - this.tokens;
    return now + Math.max(1, want) / this.rate(cwnd, srttMs);
  }

  private rate(cwnd: number, srttMs: number): number {
    // Bytes per ms; a sub-millisecond RTT (loopback) makes this so large that pacing vanishes.
    return (PACING_GAIN * cwnd) / Math.max(srttMs, 0.01);
  }

  private capacity(cwnd: number, srttMs: number): number {
    const burst = this.rate(cwnd, srttMs) * BURST_MS;
    return Math.min(MAX_BURST_SEGMENTS * this.segmentBytes, Math.max(MIN_BURST_SEGMENTS * this.segmentBytes, burst));
  }

  private refill(now: number, cwnd: number, srttMs: number): void {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.capacity(cwnd, srttMs), this.tokens + (now - this.last) * this.rate(cwnd, srttMs));
    }
    if (this.last === undefined || now > this.last) this.last = now;
  }
}
