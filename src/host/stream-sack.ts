/**
 * Selective acknowledgement for the stream (RFC 2018 blocks): the receiver's side, which turns
 * its out-of-order buffer into SACK blocks, and the sender's, which marks the segments those
 * blocks cover. Loss detection on top of the marks lives in the connection (`stream-protocol.ts`).
 * @module
 */

import { MAX_SACK_BLOCKS, type SackBlock } from './stream-segment.js';

/** `a + n` in 32-bit sequence space. */
function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance from `b` to `a` in 32-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * The SACK blocks describing `ooo` (out-of-order data above `rcvNxt`, ascending), merged into
 * contiguous ranges: first the range holding `recentSeq` (the latest arrival, as RFC 2018 4
 * asks, so the sender learns of the newest data even if earlier ACKs were lost), then the
 * others from the highest down, at most {@link MAX_SACK_BLOCKS}. Empty when nothing is held.
 */
export function sackBlocks(ooo: readonly { seq: number; data: Uint8Array }[], rcvNxt: number, recentSeq: number | undefined): SackBlock[] {
  const ranges: [number, number][] = [];
  for (const e of ooo) {
    const start = e.seq;
    const end = seqAdd(e.seq, e.data.length);
    if (seqDiff(end, rcvNxt) <= 0) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && seqDiff(start, last[1]) <= 0) {
      if (seqDiff(end, last[1]) > 0) last[1] = end;
    } else {
      ranges.push([seqDiff(start, rcvNxt) < 0 ? rcvNxt : start, end]);
    }
  }
  if (ranges.length === 0) return [];
  let first = ranges.length - 1;
  if (recentSeq !== undefined) {
    const i = ranges.findIndex(([s, e]) => seqDiff(recentSeq, s) >= 0 && seqDiff(recentSeq, e) < 0);
    if (i >= 0) first = i;
  }
  const out: SackBlock[] = [ranges[first]!];
  for (let i = ranges.length - 1; i >= 0 && out.length < MAX_SACK_BLOCKS; i--) if (i !== first) out.push(ranges[i]!);
  return out;
}

/** Does a block of `blocks` cover all of `[seq, seq + len)`? Zero-length segments are never covered. */
export function sackCovers(blocks: readonly SackBlock[], seq: number, len: number): boolean {
  if (len === 0) return false;
  const end = seqAdd(seq, len);
  for (const [s, e] of blocks) {
    if (seqDiff(seq, s) >= 0 && seqDiff(end, e) <= 0) return true;
  }
  return false;
}
