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

function joined(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
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
    expect(joined(segs)).toEqual(pattern(0, off));
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
    expect(joined(segs)).toEqual(pattern(0, writes * 65536));
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
    expect(joined(drain(q, 1200))).toEqual(pattern(0, 3000));
  });

  it('joins small writes into one segment', () => {
    const q = new SendQueue(1200);
    for (let i = 0; i < 10; i++) q.push(pattern(i * 64, 64));
    const seg = q.take(Math.min(1200, q.length));
    expect(seg.length).toBe(640);
    expect(joined([seg])).toEqual(pattern(0, 640));
  });

  it('fills the last block behind bytes already taken without changing them', () => {
    const q = new SendQueue(1200);
    q.push(pattern(0, 5000));
    const first = q.take(1200);
    const second = q.take(3800);
    q.push(pattern(5000, 20000));
    expect(joined([first])).toEqual(pattern(0, 1200));
    expect(joined([second])).toEqual(pattern(1200, 3800));
    expect(joined(drain(q, 1200))).toEqual(pattern(5000, 20000));
  });

  it('clear() forgets everything', () => {
    const q = new SendQueue(1200);
    q.push(pattern(0, 100000));
    q.take(1200);
    q.clear();
    expect(q.length).toBe(0);
    q.push(pattern(7, 10));
    expect(joined([q.take(10)])).toEqual(pattern(7, 10));
  });
});
