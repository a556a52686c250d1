/**
 * The bytes a stream's user has written and the stream has not yet cut into segments.
 *
 * A write is copied once, into blocks of a fixed size (a whole number of segments), so that a
 * full-size segment taken from the queue is a view of one block, never a join of two writes:
 * a 64 KiB write does not line up with a 65280-byte segment, and joining them would copy every
 * byte a second time. Small writes get a block of their own size (a ping-pong's 64 bytes must
 * not pin a 64 KiB block until acknowledged), and small pieces are joined into one segment.
 * @module
 */

import { Buffer } from 'node:buffer';

/** Below this, the end of a block is joined with the next block rather than sent as a short segment. */
const SHORT_PIECE = 4096;

/** Whole blocks kept for reuse (a writer refills them as ACKs free them; more would only hold memory). */
const MAX_SPARE = 4;

/**
 * A FIFO of written bytes, taken out in segment-sized pieces. The pieces taken are views of
 * the queue's own blocks: the queue never writes into a byte it has handed out.
 *
 * @example
 * ```ts
 * const q = new SendQueue(1200);
 * q.push(bytes);
 * const seg = q.take(Math.min(1200, q.length)); // may be shorter: see take()
 * ```
 */
export class SendQueue {
  /** Bytes queued, not yet taken. */
  length = 0;
  /** Blocks from `head` on hold queued bytes; the last may have room left (`tailFill < its length`). */
  private blocks: Uint8Array[] = [];
  private head = 0;
  /** Offset of the first untaken byte in `blocks[head]`. */
  private headOff = 0;
  /** Bytes filled in the last block. */
  private tailFill = 0;
  /** Size of a block for bulk writes: the largest multiple of the segment size up to 64 KiB (at least one segment). */
  private readonly blockBytes: number;
  /** Whole blocks given back by {@link recycle}, filled again before new ones are allocated. */
  private spare: Uint8Array[] = [];

  /** @param segmentBytes the largest segment the queue is cut into (the stream's MSS). */
  constructor(segmentBytes: number) {
    this.blockBytes = segmentBytes * Math.max(1, Math.floor(65536 / segmentBytes));
  }

  /** Copy `data` to the end of the queue. */
  push(data: Uint8Array): void {
    let off = 0;
    const n = data.length;
    const tail = this.blocks.length > this.head ? this.blocks[this.blocks.length - 1]! : undefined;
    if (tail !== undefined && this.tailFill < tail.length) {
      const k = Math.min(tail.length - this.tailFill, n);
      tail.set(k === n ? data : data.subarray(0, k), this.tailFill);
      this.tailFill += k;
      off = k;
    }
    while (off < n) {
      const rest = n - off;
      // A bulk write gets whole blocks (its remainder starts one that the next write tops up); a
      // small write gets exactly its size.
      const block = n < SHORT_PIECE ? allocBytes(rest) : (this.spare.pop() ?? allocBytes(this.blockBytes));
      const k = Math.min(block.length, rest);
      block.set(off === 0 && k === n ? data : data.subarray(off, off + k), 0);
      this.blocks.push(block);
      this.tailFill = k;
      off += k;
    }
    this.length += n;
  }

  /**
   * Take up to `n` bytes (1 <= n <= {@link length}) from the front. A full-size segment is a
   * view of one block; when the front block holds fewer than `n` bytes, its rest is returned
   * alone (a shorter segment, no copy) unless that rest is small, in which case the pieces are
   * joined into a new buffer of `n` bytes.
   */
  take(n: number): Uint8Array {
    const block = this.blocks[this.head]!;
    const end = this.head === this.blocks.length - 1 ? this.tailFill : block.length;
    const avail = end - this.headOff;
    if (avail >= n || avail >= SHORT_PIECE) {
      const k = Math.min(n, avail);
      const out = block.subarray(this.headOff, this.headOff + k);
      this.advance(k, block);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const b = this.blocks[this.head]!;
      const bEnd = this.head === this.blocks.length - 1 ? this.tailFill : b.length;
      const k = Math.min(n - filled, bEnd - this.headOff);
      out.set(b.subarray(this.headOff, this.headOff + k), filled);
      filled += k;
      this.advance(k, b);
    }
    return out;
  }

  /**
   * Give back a piece {@link take} returned, once nothing will read it again (it was sent and
   * acknowledged over a carrier that never needs it resent): when it is a whole block, a later
   * write fills it instead of a new allocation, so a bulk transfer reuses a window's worth of
   * blocks rather than leaving one 64 KiB buffer per segment to the garbage collector.
   */
  recycle(piece: Uint8Array): void {
    if (piece.byteOffset === 0 && piece.length === this.blockBytes && piece.buffer.byteLength === this.blockBytes && this.spare.length < MAX_SPARE) {
      this.spare.push(piece);
    }
  }

  /** Drop everything queued. */
  clear(): void {
    this.blocks = [];
    this.head = 0;
    this.headOff = 0;
    this.tailFill = 0;
    this.length = 0;
  }

  /** `k` bytes of `block` (the front one) were taken: move past it once it is used up. */
  private advance(k: number, block: Uint8Array): void {
    this.headOff += k;
    this.length -= k;
    // A block stays until its last byte is taken; the last block may still be filled by later
    // writes, behind the bytes already taken.
    if (this.headOff < block.length) return;
    this.head++;
    this.headOff = 0;
    if (this.head === this.blocks.length) {
      this.blocks = [];
      this.head = 0;
      this.tailFill = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.blocks.length) {
      // Drop the used slots now and then rather than shifting the array on every block.
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
  }
}

/** Uninitialized memory: every byte is written before it is taken. */
function allocBytes(n: number): Uint8Array {
  return Buffer.allocUnsafe(n);
}
