/** UnheardDatagrams: what the host keeps to resend to a peer that restarted (host/peer-loss.ts). */
import fc from 'fast-check';
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

describe('UnheardDatagrams ring', () => {
  it('whatever the sizes, keeps the newest datagrams in order with their bytes, within the limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 20_000, max: 65_000 })), heard: fc.boolean() }), { minLength: 1, maxLength: 400 }),
        (sends) => {
          const u = new UnheardDatagrams();
          const sent: { d: ReturnType<typeof dg>; at: number }[] = [];
          let heardAt: number | undefined;
          sends.forEach(({ size, heard }, i) => {
            if (heard) heardAt = i - 0.5;
            const d = { srcPort: i & 0xffff, dstPort: (i * 7) & 0xffff, data: new Uint8Array(size).fill(i & 0xff) };
            u.record('p', d, i, heardAt);
            sent.push({ d, at: i });
          });
          const count = u.count('p');
          const kept = u.take('p', -1);
          expect(kept.length).toBe(count);
          // A suffix of what was sent since the peer was last heard, newest always kept.
          const since = sent.filter((x) => heardAt === undefined || x.at >= heardAt);
          const expected = since.slice(since.length - kept.length);
          expect(kept.length).toBeGreaterThanOrEqual(1);
          expect(kept.length).toBeLessThanOrEqual(RESEND_LIMIT.datagrams);
          expect(kept.reduce((n, x) => n + x.data.length, 0)).toBeLessThanOrEqual(RESEND_LIMIT.bytes);
          kept.forEach((x, k) => {
            expect(x.srcPort).toBe(expected[k]!.d.srcPort);
            expect(x.dstPort).toBe(expected[k]!.d.dstPort);
            expect(Buffer.from(x.data).equals(Buffer.from(expected[k]!.d.data))).toBe(true);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
