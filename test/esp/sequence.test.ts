import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { InboundSa, OutboundSa } from '../../src/esp/sa.js';
import { ALL_SUITES, keysFor } from './reference.js';

const MAX = (1n << 64n) - 1n;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipEspError) return e.code;
    throw e;
  }
  return 'OK';
}

describe('outbound sequence numbers', () => {
  it('start at 1 and count up, the low half on the wire', () => {
    const out = new OutboundSa(keysFor(13));
    expect(out.seq).toBe(0n);
    for (let i = 1; i <= 3; i++) {
      const p = out.seal(new Uint8Array(0), 59);
      expect(out.seq).toBe(BigInt(i));
      expect([...p.subarray(4, 8)]).toEqual([0, 0, 0, i]);
      expect([...p.subarray(8, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, i]); // GCM IV = 64-bit seq
    }
  });

  it('carry into the high half at 2^32', () => {
    const out = new OutboundSa(keysFor(12), { initialSeq: 0xfffffffen });
    const a = out.seal(new Uint8Array(1), 17);
    const b = out.seal(new Uint8Array(1), 17);
    expect(out.seq).toBe(0x1_0000_0000n);
    expect([...a.subarray(4, 16)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect([...b.subarray(4, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  for (const suite of ALL_SUITES) {
    it(`suite ${suite}: the last packet carries 2^64 - 1, then ERR_ESP_SEQ_EXHAUSTED`, () => {
      const out = new OutboundSa(keysFor(suite), { initialSeq: MAX - 2n });
      const p1 = out.seal(new Uint8Array(4), 6);
      const p2 = out.seal(new Uint8Array(4), 6);
      expect(out.seq).toBe(MAX);
      expect([...p1.subarray(4, 8)]).toEqual([0xff, 0xff, 0xff, 0xfe]);
      expect([...p2.subarray(4, 8)]).toEqual([0xff, 0xff, 0xff, 0xff]);
      expect(code(() => out.seal(new Uint8Array(4), 6))).toBe('ERR_ESP_SEQ_EXHAUSTED');
      expect(code(() => out.seal(new Uint8Array(0), 6))).toBe('ERR_ESP_SEQ_EXHAUSTED');
      expect(out.seq).toBe(MAX);
      expect(out.stats.packets).toBe(2);
      expect(out.needsRekey).toBe(true);
    });
  }

  it('flags needsRekey once the threshold is reached, and keeps sealing', () => {
    const out = new OutboundSa(keysFor(8), { rekeyThreshold: 5n });
    const inbound = new InboundSa(keysFor(8));
    for (let i = 1; i <= 4; i++) {
      inbound.open(out.seal(new Uint8Array(1), 17));
      expect(out.needsRekey, `after ${i}`).toBe(false);
    }
    inbound.open(out.seal(new Uint8Array(1), 17));
    expect(out.seq).toBe(5n);
    expect(out.needsRekey).toBe(true);
    inbound.open(out.seal(new Uint8Array(1), 17));
    expect(out.needsRekey).toBe(true);
  });

  it('flags needsRekey across the high half and by default at 2^64 - 2^32', () => {
    const custom = new OutboundSa(keysFor(13), { rekeyThreshold: 0x3_0000_0000n, initialSeq: 0x2_ffff_fffen });
    custom.seal(new Uint8Array(0), 59);
    expect(custom.needsRekey).toBe(false);
    custom.seal(new Uint8Array(0), 59);
    expect(custom.needsRekey).toBe(true);

    const threshold = (1n << 64n) - (1n << 32n);
    const dflt = new OutboundSa(keysFor(13), { initialSeq: threshold - 2n });
    expect(dflt.needsRekey).toBe(false);
    dflt.seal(new Uint8Array(0), 59);
    expect(dflt.needsRekey).toBe(false);
    dflt.seal(new Uint8Array(0), 59);
    expect(dflt.needsRekey).toBe(true);
    expect(new OutboundSa(keysFor(13), { initialSeq: threshold }).needsRekey).toBe(true);
  });

  it('refuses sequence options outside 0..2^64-1', () => {
    for (const bad of [-1n, 1n << 64n, 5 as unknown as bigint]) {
      expect(code(() => new OutboundSa(keysFor(8), { initialSeq: bad }))).toBe('ERR_ESP_BAD_OPTION');
      expect(code(() => new OutboundSa(keysFor(8), { rekeyThreshold: bad }))).toBe('ERR_ESP_BAD_OPTION');
    }
  });

  it('refuses a random source that returns too few IV bytes', () => {
    const out = new OutboundSa(keysFor(9), { randomIv: () => new Uint8Array(8) });
    expect(code(() => out.seal(new Uint8Array(1), 6))).toBe('ERR_ESP_BAD_RANDOM');
  });
});
