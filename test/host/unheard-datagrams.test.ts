/** UnheardDatagrams: what the host keeps to resend to a peer that restarted (host/peer-loss.ts). */
import { describe, expect, it } from 'vitest';
import { RESEND_LIMIT, UnheardDatagrams } from '../../src/host/peer-loss.js';

const dg = (n: number, size = 4): { srcPort: number; dstPort: number; data: Uint8Array } => ({ srcPort: 1, dstPort: 2, data: new Uint8Array(size).fill(n & 0xff) });

describe('UnheardDatagrams', () => {
  it('keeps a private copy of each datagram, in order, and forgets what was sent before the peer was last heard', () => {
    const u = new UnheardDatagrams();
    const d = dg(1);
    u.record('p', d, 10, undefined);
    d.data.fill(9); // the caller reuses its buffer
    u.record('p', dg(2), 20, undefined);
    u.record('p', dg(3), 30, 15); // heard at 15: the datagram of t=10 was delivered
    expect(u.count('p')).toBe(2);
    expect(u.take('p', 15).map((x) => x.data[0])).toEqual([2, 3]);
    expect(u.count('p')).toBe(0);
    u.record('q', dg(4), 40, undefined);
    expect(u.take('q', 0).map((x) => x.data[0])).toEqual([4]);
  });

  it('take() leaves out what was sent before the given time', () => {
    const u = new UnheardDatagrams();
    for (let t = 0; t < 5; t++) u.record('p', dg(t), t * 10, undefined);
    expect(u.take('p', 25).map((x) => x.data[0])).toEqual([3, 4]);
  });

  it('is bounded per peer by datagrams and by bytes, keeping the newest', () => {
    const u = new UnheardDatagrams();
    const n = RESEND_LIMIT.datagrams + 300;
    for (let i = 0; i < n; i++) u.record('p', dg(i), i, undefined);
    expect(u.count('p')).toBe(RESEND_LIMIT.datagrams);
    const kept = u.take('p', 0);
    expect(kept[0]!.data[0]).toBe((n - RESEND_LIMIT.datagrams) & 0xff);
    expect(kept.at(-1)!.data[0]).toBe((n - 1) & 0xff);

    const big = 60 * 1024;
    for (let i = 0; i < 10; i++) u.record('b', dg(i, big), i, undefined);
    const bytes = u.take('b', 0);
    expect(bytes.length).toBe(Math.floor(RESEND_LIMIT.bytes / big));
    expect(bytes.at(-1)!.data[0]).toBe(9);
  });

  it('a peer heard after every datagram (a ping-pong) keeps at most one remembered', () => {
    const u = new UnheardDatagrams();
    for (let i = 0; i < 1000; i++) u.record('p', dg(i), i, i - 0.5);
    expect(u.count('p')).toBe(1);
    expect(u.take('p', 0)[0]!.data[0]).toBe(999 & 0xff);
  });
});
