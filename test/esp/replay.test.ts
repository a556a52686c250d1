import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { ReplayWindow } from '../../src/esp/replay.js';
import { InboundSa, OutboundSa } from '../../src/esp/sa.js';
import { ALL_SUITES, keysFor, refSeal } from './reference.js';

const TWO32 = 2 ** 32;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipEspError) return e.code;
    throw e;
  }
  return 'OK';
}

/** n packets from a sender starting after `initialSeq`, index i carrying seq initialSeq + 1 + i. */
function sealMany(suite: (typeof ALL_SUITES)[number], n: number, initialSeq = 0n) {
  const keys = keysFor(suite);
  const out = new OutboundSa(keys, { initialSeq });
  const packets = Array.from({ length: n }, (_, i) => out.seal(new Uint8Array([i & 255, 1, 2]), 17));
  return { keys, packets };
}

describe('ReplayWindow', () => {
  it('accepts each number once, in any order inside the window', () => {
    const w = new ReplayWindow(64);
    const order = [5, 1, 3, 2, 64, 4, 10, 9];
    for (const s of order) {
      expect(w.check(s)).toEqual({ seqHigh: 0, status: 'fresh' });
      expect(w.update(0, s)).toBe(true);
      expect(w.check(s).status).toBe('duplicate');
      expect(w.update(0, s)).toBe(false);
    }
    expect(w.top).toBe(64n);
    // 64 - 64 + 1 = 1 is the window's left edge; 1 was seen, 6 was not.
    expect(w.status(0, 6)).toBe('fresh');
    expect(w.status(0, 1)).toBe('duplicate');
    w.update(0, 65);
    expect(w.status(0, 1)).toBe('stale');
    expect(w.status(0, 2)).toBe('duplicate');
    expect(w.status(0, 0)).toBe('stale');
  });

  it('never changes on check and matches a model set for random traffic', () => {
    for (const size of [1, 32, 64, 100, 1024]) {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 400 }), (seqs) => {
          const w = new ReplayWindow(size);
          const seen = new Set<number>();
          let top = 0;
          for (const s of seqs) {
            const model = s > top ? 'fresh' : s <= top - size ? 'stale' : seen.has(s) ? 'duplicate' : 'fresh';
            expect(w.status(0, s)).toBe(model);
            // With ESN, a number left of the window reads as one from the next 2^32 subspace
            // (whose ICV will then fail); only status() with an explicit high half says stale.
            expect(w.check(s)).toEqual(model === 'stale' ? { seqHigh: 1, status: 'fresh' } : { seqHigh: 0, status: model });
            expect(w.update(0, s)).toBe(model === 'fresh');
            if (model === 'fresh') {
              seen.add(s);
              top = Math.max(top, s);
            }
          }
          expect(w.top).toBe(BigInt(top));
        }),
        { numRuns: 60 },
      );
    }
  });

  it('infers the high half per RFC 4303 A2.2 in both cases', () => {
    const w = new ReplayWindow(64);
    // Before any earlier subspace exists, everything reads as high half 0.
    expect(w.inferHigh(0xffffff00)).toBe(0);
    expect(w.inferHigh(5)).toBe(0);
    // Case A: window [2^32 + 37, 2^32 + 100] inside subspace 1.
    w.update(1, 100);
    expect(w.inferHigh(37)).toBe(1);
    expect(w.inferHigh(100)).toBe(1);
    expect(w.inferHigh(0xfffffff0)).toBe(1);
    expect(w.inferHigh(36)).toBe(2);
    expect(w.inferHigh(0)).toBe(2);
    // Case B: top = 2^33 + 10, window [2^33 - 53, 2^33 + 10] spans subspaces 1 and 2.
    w.update(2, 10);
    expect(w.inferHigh(TWO32 - 53)).toBe(1);
    expect(w.inferHigh(TWO32 - 1)).toBe(1);
    expect(w.inferHigh(0)).toBe(2);
    expect(w.inferHigh(11)).toBe(2);
    expect(w.inferHigh(TWO32 - 54)).toBe(2);
  });

  it('treats numbers beyond 2^64 - 1 as stale', () => {
    const w = new ReplayWindow(32);
    w.update(0xffffffff, 0xfffffff0);
    expect(w.inferHigh(5)).toBe(TWO32);
    expect(w.check(5).status).toBe('stale');
    expect(w.update(TWO32, 5)).toBe(false);
    expect(w.check(0xffffffff).status).toBe('fresh');
    expect(w.update(0xffffffff, 0xffffffff)).toBe(true);
    expect(w.top).toBe((1n << 64n) - 1n);
  });

  it('refuses window sizes outside 1..65536', () => {
    for (const size of [0, -1, 1.5, 65537, NaN]) {
      expect(code(() => new ReplayWindow(size))).toBe('ERR_ESP_BAD_OPTION');
      expect(code(() => new InboundSa(keysFor(8), { replayWindow: size }))).toBe('ERR_ESP_BAD_OPTION');
    }
    expect(new ReplayWindow(65536).size).toBe(65536);
  });
});

describe.each(ALL_SUITES)('InboundSa replay protection, suite %i', (suite) => {
  it('rejects duplicates and accepts reordered packets once', () => {
    const { keys, packets } = sealMany(suite, 10);
    const inbound = new InboundSa(keys);
    for (const i of [0, 4, 2, 9, 1, 3, 8, 5, 7, 6]) {
      expect(inbound.open(packets[i]!).seq).toBe(BigInt(i + 1));
      expect(code(() => inbound.open(packets[i]!))).toBe('ERR_ESP_REPLAY');
    }
    expect(inbound.stats.packets).toBe(10);
    expect(inbound.stats.drops.replay).toBe(10);
    expect(inbound.stats.drops.auth).toBe(0);
  });

  it('rejects a genuine packet left of the window as a replay, not a forgery', () => {
    const { keys, packets } = sealMany(suite, 200);
    const inbound = new InboundSa(keys);
    inbound.open(packets[199]!); // seq 200: the window is now [137, 200]
    expect(inbound.open(packets[136]!).seq).toBe(137n);
    expect(code(() => inbound.open(packets[135]!))).toBe('ERR_ESP_REPLAY');
    expect(code(() => inbound.open(packets[9]!))).toBe('ERR_ESP_REPLAY');
    expect(inbound.stats.drops).toEqual({ malformed: 0, auth: 0, replay: 2 });
  });
});

describe('InboundSa window sizes', () => {
  for (const size of [32, 64, 1024]) {
    it(`window of ${size}: the left edge is accepted, one further is not`, () => {
      const { keys, packets } = sealMany(13, size + 50);
      const inbound = new InboundSa(keys, size === 64 ? {} : { replayWindow: size });
      expect(inbound.replayWindow).toBe(size);
      const top = size + 50; // seq of the last packet
      inbound.open(packets[top - 1]!);
      const edge = top - size + 1;
      expect(inbound.open(packets[edge - 1]!).seq).toBe(BigInt(edge));
      expect(code(() => inbound.open(packets[edge - 2]!))).toBe('ERR_ESP_REPLAY');
      // Everything between is still fresh exactly once.
      for (let s = edge + 1; s < top; s++) expect(inbound.open(packets[s - 1]!).seq).toBe(BigInt(s));
      for (let s = edge; s <= top; s++) expect(code(() => inbound.open(packets[s - 1]!))).toBe('ERR_ESP_REPLAY');
    });
  }
});

describe('Extended Sequence Numbers', () => {
  for (const suite of ALL_SUITES) {
    it(`suite ${suite}: crossing 2^32 in order and out of order, high half inferred`, () => {
      // The sender starts just below 2^32; a fresh receiver reads high half 0 until the window
      // nears the boundary, then infers 1 for the low halves that wrapped.
      const start = BigInt(TWO32) - 40n;
      const { keys, packets } = sealMany(suite, 80, start);
      const inbound = new InboundSa(keys);
      // The first packets read as high half 0 (correct: they are below 2^32).
      for (let i = 0; i < 30; i++) expect(inbound.open(packets[i]!).seq).toBe(start + 1n + BigInt(i));
      // Out of order across the boundary: 2^32 + 5 before 2^32 - 5 .. 2^32 + 4.
      const order = [44, 34, 39, 40, 35, 36, 37, 38, 41, 42, 43, 30, 31, 32, 33];
      for (const i of order) {
        const r = inbound.open(packets[i]!);
        expect(r.seq).toBe(start + 1n + BigInt(i));
      }
      for (let i = 45; i < 80; i++) expect(inbound.open(packets[i]!).seq).toBe(start + 1n + BigInt(i));
      expect(inbound.highestSeq).toBe(start + 80n);
      expect(inbound.highestSeq > BigInt(TWO32)).toBe(true);
      // Replays from both sides of the boundary are still caught.
      expect(code(() => inbound.open(packets[38]!))).toBe('ERR_ESP_REPLAY');
      expect(code(() => inbound.open(packets[79]!))).toBe('ERR_ESP_REPLAY');
      expect(code(() => inbound.open(packets[0]!))).toBe('ERR_ESP_REPLAY');
      expect(inbound.stats.drops.auth).toBe(0);
    });
  }

  it('a jump of more than the window into the next subspace works', () => {
    const keys = keysFor(8);
    const iv = new Uint8Array(16);
    const inbound = new InboundSa(keys);
    const seqs = [1n, 0xfffffff0n, 0x1_0000_0010n, 0x1_0000_0009n, 0x1_8000_0000n, 0x2_0000_0001n];
    for (const seq of seqs) {
      expect(inbound.open(refSeal({ ...keys, seq, iv, payload: new Uint8Array(3), nextHeader: 17 })).seq).toBe(seq);
    }
  });
});

describe('forged packets do not move the window', () => {
  for (const suite of ALL_SUITES) {
    it(`suite ${suite}`, () => {
      const { keys, packets } = sealMany(suite, 5);
      const inbound = new InboundSa(keys);
      inbound.open(packets[0]!);
      // A forgery claiming seq 1000 (the genuine packet 2 with its sequence field rewritten).
      const forged = Uint8Array.from(packets[1]!);
      forged.set([0, 0, 0x03, 0xe8], 4);
      expect(code(() => inbound.open(forged))).toBe('ERR_ESP_AUTH');
      // A forgery far ahead, into the next subspace.
      forged.set([0, 0, 0, 0], 4);
      expect(code(() => inbound.open(forged))).toBe('ERR_ESP_REPLAY'); // seq 0 is never valid
      forged.set([0xff, 0xff, 0xff, 0x00], 4);
      expect(code(() => inbound.open(forged))).toBe('ERR_ESP_AUTH');
      expect(inbound.highestSeq).toBe(1n);
      // Had the window moved to 1000 (or 2^32 - 256), seq 2 would now be stale.
      for (let i = 1; i < 5; i++) expect(inbound.open(packets[i]!).seq).toBe(BigInt(i + 1));
      expect(inbound.stats.drops).toEqual({ malformed: 0, auth: 2, replay: 1 });
    });
  }
});
