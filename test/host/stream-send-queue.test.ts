import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../src/host/stream-send-queue.js';

/** Bytes 0, 1, 2, ... (mod 251) from `start`, so any misplaced byte shows. */
function pattern(start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (start + i) % 251;
  return out;
}

function drain(q: SendQueue, mss: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (q.length > 0) out.push(q.take(Math.min(mss, q.length)));
  return out;
}

function joined(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

describe('SendQueue', () => {
  it('gives back exactly the bytes written, in order, across writes that do not line up with segments', () => {
    const q = new SendQueue(65280);
    let off = 0;
    for (let i = 0; i < 5; i++) {
      q.push(pattern(off, 65536));
      off += 65536;
    }
    expect(q.length).toBe(off);
    const segs = drain(q, 65280);
    expect(joined(segs).equals(pattern(0, off))).toBe(true);
    expect(q.length).toBe(0);
  });

  it('cuts a bulk burst into full segments that are views of the queue, not copies', () => {
    const q = new SendQueue(65280);
    for (let i = 0; i < 4; i++) q.push(pattern(i * 65536, 65536));
    const segs = drain(q, 65280);
    // 4 writes of 64 KiB: four full segments and one of the rest (4 * 256 bytes).
    expect(segs.map((s) => s.length)).toEqual([65280, 65280, 65280, 65280, 1024]);
  });

  it('takes segments as views of a few shared blocks, not as copies joining two writes', () => {
    const q = new SendQueue(1200);
    const writes = 10;
    for (let i = 0; i < writes; i++) q.push(pattern(i * 65536, 65536));
    const segs = drain(q, 1200);
    expect(joined(segs).equals(pattern(0, writes * 65536))).toBe(true);
    // Blocks hold 54 segments (64800 bytes): 11 of them for 640 KiB. A copy per write plus a
    // joined copy wherever a segment straddles two writes would make 19 buffers.
    const buffers = new Set(segs.map((s) => s.buffer));
    expect(buffers.size).toBeLessThanOrEqual(Math.ceil((writes * 65536) / 64800));
  });

  it('copies a write, so the writer may reuse its buffer at once', () => {
    const q = new SendQueue(1200);
    const buf = pattern(0, 3000);
    q.push(buf);
    buf.fill(0);
    expect(joined(drain(q, 1200)).equals(pattern(0, 3000))).toBe(true);
  });

  it('joins small writes into one segment', () => {
    const q = new SendQueue(1200);
    for (let i = 0; i < 10; i++) q.push(pattern(i * 64, 64));
    const seg = q.take(Math.min(1200, q.length));
    expect(seg.length).toBe(640);
    expect(joined([seg]).equals(pattern(0, 640))).toBe(true);
  });

  it('fills the last block behind bytes already taken without changing them', () => {
    const q = new SendQueue(1200);
    q.push(pattern(0, 5000));
    const first = q.take(1200);
    const second = q.take(3800);
    q.push(pattern(5000, 20000));
    expect(joined([first]).equals(pattern(0, 1200))).toBe(true);
    expect(joined([second]).equals(pattern(1200, 3800))).toBe(true);
    expect(joined(drain(q, 1200)).equals(pattern(5000, 20000))).toBe(true);
  });

  it('clear() forgets everything', () => {
    const q = new SendQueue(1200);
    q.push(pattern(0, 100000));
    q.take(1200);
    q.clear();
    expect(q.length).toBe(0);
    q.push(pattern(7, 10));
    expect(joined([q.take(10)]).equals(pattern(7, 10))).toBe(true);
  });
});

describe('SendQueue.recycle', () => {
  it('refills blocks given back, so a long transfer reuses a few buffers', () => {
    const mss = 65280;
    const q = new SendQueue(mss);
    const seen = new Set<ArrayBufferLike>();
    let off = 0;
    let out = 0;
    const inFlight: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      q.push(pattern(off, 65536));
      off += 65536;
      while (q.length >= mss) {
        const seg = q.take(mss);
        expect(joined([seg]).equals(pattern(out, seg.length))).toBe(true);
        out += seg.length;
        seen.add(seg.buffer);
        inFlight.push(seg);
        // Four segments in flight; the oldest is acknowledged and given back.
        if (inFlight.length > 4) q.recycle(inFlight.shift()!);
      }
    }
    expect(seen.size).toBeLessThan(12);
  });

  it('keeps pieces that are not whole blocks out of reuse', () => {
    const q = new SendQueue(1200);
    q.push(pattern(0, 70000));
    const seg = q.take(1200);
    q.recycle(seg);
    q.push(pattern(70000, 70000));
    // The recycled view was part of a larger block: nothing was overwritten behind it.
    expect(joined([seg]).equals(pattern(0, 1200))).toBe(true);
    expect(joined(drain(q, 1200)).equals(pattern(1200, 138800))).toBe(true);
  });
});
