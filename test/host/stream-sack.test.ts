/**
 * SACK-based loss recovery, the congestion window's reaction to loss, and pacing of the stream
 * over an unreliable carrier, on the in-memory network with a fake clock (stream-protocol-sim).
 * Each test pins a behaviour that breaks when its path is removed or wrong.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { decodeSegment, encodeSegment, type Segment } from '../../src/host/stream-protocol.js';
import { sackBlocks, sackCovers } from '../../src/host/stream-sack.js';
import { HIT_A, HIT_B, Sim, dataSegments, payload, type SimOptions } from './stream-protocol-sim.js';

const NO_FLAGS = { syn: false, ack: false, fin: false, rst: false, psh: false };

describe('SACK option codec (RFC 2018)', () => {
  const ack: Segment = { srcPort: 22, dstPort: 40000, seq: 7, ack: 1000, flags: { ...NO_FLAGS, ack: true }, window: 100, data: new Uint8Array(0) };

  it('encodes NOP, NOP, kind 5 and the blocks, with the data offset covering them', () => {
    const bytes = encodeSegment({ ...ack, sack: [[2200, 3400], [5000, 6200]] }, HIT_A, HIT_B);
    expect(bytes.length).toBe(20 + 4 + 16);
    expect(bytes[12]! >> 4).toBe(10); // 40 bytes of header
    expect(bytesToHex(bytes.subarray(20))).toBe('01010512' + '00000898' + '00000d48' + '00001388' + '00001838');
    expect(decodeSegment(bytes, HIT_A, HIT_B)).toEqual({ ...ack, sack: [[2200, 3400], [5000, 6200]] });
  });

  it('round-trips data after the option and leaves segments without blocks at 20 bytes', () => {
    const data = payload(50, 3);
    const seg = { ...ack, data, sack: [[1, 2], [3, 4], [5, 6], [0xfffffff0, 0x10]] as const };
    expect(decodeSegment(encodeSegment(seg, HIT_A, HIT_B), HIT_A, HIT_B)).toEqual(seg);
    expect(encodeSegment({ ...ack, sack: [] }, HIT_A, HIT_B).length).toBe(20);
    expect(() => encodeSegment({ ...ack, sack: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]] }, HIT_A, HIT_B)).toThrow(/SACK/);
  });

  it('receiver blocks merge adjacent out-of-order data, put the latest arrival first, and stop at four', () => {
    const ooo = [2000, 3000, 5000, 7000, 9000, 11000].map((seq) => ({ seq, data: new Uint8Array(1000) }));
    // 2000..4000 is one range; the others stand alone; the latest arrival was at 5000.
    expect(sackBlocks(ooo, 1000, 5000)).toEqual([[5000, 6000], [11000, 12000], [9000, 10000], [7000, 8000]]);
    expect(sackBlocks(ooo.slice(0, 2), 1000, undefined)).toEqual([[2000, 4000]]);
    expect(sackBlocks([], 1000, undefined)).toEqual([]);
    expect(sackCovers([[2000, 4000]], 3000, 1000)).toBe(true);
    expect(sackCovers([[2000, 4000]], 3500, 1000)).toBe(false);
  });
});

/** A sim whose client loses the first transmission of the data segments numbered in `lose` (1-based), and `again` more of each. */
function lossySim(lose: number[], opts: SimOptions & { again?: number } = {}): { sim: Sim; lostSeqs: number[] } {
  let n = 0;
  const lostSeqs: number[] = [];
  const dropsLeft = new Map<number, number>();
  const sim = new Sim({
    minDelay: 10,
    maxDelay: 10,
    ...opts,
    drop: (seg, from) => {
      if (from !== 'a' || seg.data.length === 0 || seg.flags.syn) return false;
      const left = dropsLeft.get(seg.seq);
      if (left !== undefined) {
        if (left === 0) return false;
        dropsLeft.set(seg.seq, left - 1);
        return true;
      }
      if (!lose.includes(++n)) return false;
      lostSeqs.push(seg.seq);
      dropsLeft.set(seg.seq, opts.again ?? 0);
      return true;
    },
  });
  return { sim, lostSeqs };
}

/** Times at which `a` sent the segment starting at `seq`. */
function sendTimes(sim: Sim, seq: number): number[] {
  return dataSegments(sim, 'a').filter((w) => w.seg.seq === seq).map((w) => w.t);
}

describe('SACK loss recovery', () => {
  const data = payload(1200 * 120, 7);

  it('repairs three holes in one flight within one round trip, with no timeout', () => {
    const { sim, lostSeqs } = lossySim([30, 33, 36]);
    sim.send('a', data, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), data)).toBe(0);
    expect(sim.a.stats.lostBySack).toBe(3);
    expect(sim.a.stats.retransmissions).toBe(3);
    const resent = lostSeqs.map((s) => sendTimes(sim, s)[1]!);
    // All three resent within one 20 ms round trip of each other (NewReno: one hole per round trip).
    expect(Math.max(...resent) - Math.min(...resent)).toBeLessThan(20);
  });

  it('without SACK blocks (a peer that sends none) the same holes take a round trip each', () => {
    const { sim, lostSeqs } = lossySim([30, 33, 36], { stripSack: true });
    sim.send('a', data, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), data)).toBe(0);
    expect(sim.a.stats.lostBySack).toBe(0);
    const resent = lostSeqs.map((s) => sendTimes(sim, s)[1]!);
    expect(Math.max(...resent) - Math.min(...resent)).toBeGreaterThanOrEqual(40);
  });

  it('finds a lost retransmission by packet number, long before the retransmission timeout', () => {
    const { sim, lostSeqs } = lossySim([30], { again: 1 });
    sim.send('a', data, { end: true });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), data)).toBe(0);
    const times = sendTimes(sim, lostSeqs[0]!);
    expect(times.length).toBe(3);
    // The 200 ms RTO floor would space them by 200 ms or more; packet numbers take ~ one round trip.
    expect(times[2]! - times[1]!).toBeLessThan(100);
    expect(sim.a.stats.lostBySack).toBe(2);
  });
});

describe('congestion window under loss', () => {
  /** Run and record every reduction of a's congestion window: [before, after]. */
  function reductions(sim: Sim): [number, number][] {
    const out: [number, number][] = [];
    let last = sim.a.congestionWindow;
    sim.run({
      until: () => {
        const w = sim.a.congestionWindow;
        if (w < last) out.push([last, w]);
        last = w;
        return false;
      },
    });
    return out;
  }

  it('three losses in one flight halve the window once; a loss a few round trips later halves it again', () => {
    const data = payload(1200 * 400, 8);
    const { sim } = lossySim([30, 33, 36, 300], { config: { sendWindowSegments: 1000 } });
    sim.send('a', data, { end: true });
    sim.open();
    const r = reductions(sim);
    expect(Buffer.compare(sim.received('b'), data)).toBe(0);
    expect(r.length).toBe(2);
    for (const [before, after] of r) {
      expect(after).toBeLessThanOrEqual(before / 2 + 1);
      expect(after).toBeGreaterThan(before / 4);
    }
    expect(sim.a.stats.lostBySack).toBe(4);
  });
});

describe('pacing', () => {
  it('a window of new data leaves spread over the round trip, not in one burst', () => {
    const sim = new Sim({ minDelay: 20, maxDelay: 20, config: { sendWindowSegments: 2000, sendBufferBytes: 4 << 20 } });
    sim.send('a', payload(1200 * 600, 9));
    sim.open();
    sim.run();
    expect(sim.received('b').length).toBe(1200 * 600);
    const cwnd = sim.a.congestionWindow;
    expect(cwnd).toBeGreaterThan(200 * 1200);
    // The sender now idles with a large window; the application writes a lot at once.
    const t0 = sim.now;
    const before = sim.a.stats.pacingDelays;
    sim.send('a', payload(1200 * 300, 10));
    sim.appWrite('a');
    sim.pump();
    sim.run();
    const burst = dataSegments(sim, 'a').filter((w) => w.t === t0).length;
    // At most about 4 ms worth at 1.25 windows per 40 ms round trip (1/8 of the window), never the window.
    expect(burst).toBeLessThanOrEqual(Math.ceil(cwnd / 8 / 1200) + 1);
    expect(burst).toBeGreaterThanOrEqual(10);
    expect(sim.a.stats.pacingDelays).toBeGreaterThan(before);
    // The rest follows at about 1.25 windows per round trip.
    const sent = dataSegments(sim, 'a').filter((w) => w.t >= t0);
    expect(sent.reduce((n, w) => n + w.seg.data.length, 0)).toBe(300 * 1200);
    const rate = (1.25 * cwnd) / sim.a.smoothedRttMs!;
    expect(sent[sent.length - 1]!.t - t0).toBeGreaterThan((0.9 * (300 - burst) * 1200) / rate);
  });
});
