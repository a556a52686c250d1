/**
 * The host's side of peer loss (the decision is the engine's, core/peer-loss.ts): remember the
 * datagrams sent to each peer since it was last heard, so that when the engine reports the peer
 * lost (it restarted and dropped them silently), they can be sent again on the new association.
 *
 * What counts as "heard": any authenticated packet from the peer (ESP, an UPDATE such as the
 * answer to a loss probe). A datagram sent before that is taken as delivered and forgotten, so a
 * one-way sender to a live peer never sends anything twice. The memory is bounded per peer
 * ({@link RESEND_LIMIT}): past it the oldest datagrams are forgotten (they are then lost if the
 * peer turns out to have restarted, as they would have been without this).
 * @module
 */

/** A datagram as the host sends it (inner UDP ports and payload). */
export interface SentDatagram {
  /** Our port. */
  srcPort: number;
  /** The peer's port. */
  dstPort: number;
  /** Payload (a private copy). */
  data: Uint8Array;
}

/** Most datagrams and bytes remembered per peer for a resend. */
export const RESEND_LIMIT = Object.freeze({ datagrams: 256, bytes: 256 * 1024 });

/** Bytes of a peer's ring before it first grows: a peer that answers keeps one datagram. */
const INITIAL_RING_BYTES = 8 * 1024;
/** Slots of a peer's ring before it first grows. */
const INITIAL_SLOTS = 16;

/**
 * The datagrams sent to one peer, oldest first, copied into one byte ring (no allocation per
 * datagram, and nothing for the garbage collector to trace or move while they wait): slot `i`
 * holds the send time, the ports and where its bytes lie in `data`. The ring grows by doubling
 * up to {@link RESEND_LIMIT}; a datagram's bytes are never split, so one that does not fit
 * before the end of `data` starts again at 0.
 */
class Unheard {
  data = new Uint8Array(INITIAL_RING_BYTES);
  at = new Float64Array(INITIAL_SLOTS);
  /** Per slot: offset in `data`, length, source port, destination port. */
  meta = new Int32Array(INITIAL_SLOTS * 4);
  head = 0;
  count = 0;
  /** Where the next datagram's bytes go. */
  end = 0;

  push(d: SentDatagram, now: number): void {
    const len = d.data.length;
    // Larger than the whole limit: it could never be kept (no datagram is; UDP stops at 64 KiB).
    if (len > RESEND_LIMIT.bytes) return;
    if (this.count === this.at.length && this.at.length < RESEND_LIMIT.datagrams) this.grow(this.data.length, this.at.length * 2);
    if (this.count === this.at.length) this.dropOldest();
    let at = this.place(len);
    while (at < 0 && this.data.length < RESEND_LIMIT.bytes) {
      this.grow(Math.min(RESEND_LIMIT.bytes, Math.max(this.data.length * 2, len)), this.at.length);
      at = this.place(len);
    }
    while (at < 0) {
      this.dropOldest();
      at = this.place(len);
    }
    this.data.set(d.data, at);
    const slot = (this.head + this.count) % this.at.length;
    this.at[slot] = now;
    const m = slot * 4;
    this.meta[m] = at;
    this.meta[m + 1] = len;
    this.meta[m + 2] = d.srcPort;
    this.meta[m + 3] = d.dstPort;
    this.count++;
    this.end = at + len;
  }

  /** Where `len` bytes fit without overwriting a kept datagram, or -1. */
  place(len: number): number {
    if (len > this.data.length) return -1;
    if (this.count === 0) return 0;
    const start = this.meta[this.head * 4]!;
    const end = this.end;
    if (start < end) {
      // Kept bytes in [start, end): free after end, else from 0 up to start.
      if (end + len <= this.data.length) return end;
      return len <= start ? 0 : -1;
    }
    // Kept bytes wrap around: free only between end and start.
    return end + len <= start ? end : -1;
  }

  dropOldest(): void {
    this.head = (this.head + 1) % this.at.length;
    if (--this.count === 0) {
      this.head = 0;
      this.end = 0;
    }
  }

  /** The datagrams kept, oldest first, with their send times (their bytes copied out). */
  entries(): { d: SentDatagram; at: number }[] {
    const out: { d: SentDatagram; at: number }[] = [];
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head + k) % this.at.length;
      const m = slot * 4;
      const off = this.meta[m]!;
      out.push({ d: { srcPort: this.meta[m + 2]!, dstPort: this.meta[m + 3]!, data: this.data.slice(off, off + this.meta[m + 1]!) }, at: this.at[slot]! });
    }
    return out;
  }

  /** Move the kept datagrams, in order, into rings of the given sizes. */
  grow(bytes: number, slots: number): void {
    const kept = this.entries();
    this.data = new Uint8Array(bytes);
    this.at = new Float64Array(slots);
    this.meta = new Int32Array(slots * 4);
    this.head = 0;
    this.count = 0;
    this.end = 0;
    for (const e of kept) this.push(e.d, e.at);
  }
}

/** Datagrams sent to each peer since it was last heard. */
export class UnheardDatagrams {
  private readonly byHit = new Map<string, Unheard>();

  /**
   * Remember `d`, sent to `hit` at `now`; forget what was sent before `heardAt`. Runs for every
   * datagram sent, so it copies the data into the peer's ring and allocates nothing.
   */
  record(hit: string, d: SentDatagram, now: number, heardAt: number | undefined): void {
    let u = this.byHit.get(hit);
    if (u === undefined) this.byHit.set(hit, (u = new Unheard()));
    if (heardAt !== undefined) while (u.count > 0 && u.at[u.head]! < heardAt) u.dropOldest();
    u.push(d, now);
  }

  /** Take (and forget) what was sent to `hit` at or after `heardAt`, oldest first. */
  take(hit: string, heardAt: number): SentDatagram[] {
    const u = this.byHit.get(hit);
    this.byHit.delete(hit);
    return u ? u.entries().filter((x) => x.at >= heardAt).map((x) => x.d) : [];
  }

  /** Forget everything sent to `hit` (its association ended). */
  forget(hit: string): void {
    this.byHit.delete(hit);
  }

  /** Datagrams remembered for `hit`. */
  count(hit: string): number {
    return this.byHit.get(hit)?.count ?? 0;
  }
}
