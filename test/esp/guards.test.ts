// Edges of src/esp that mutation testing found unguarded (issue 8): every error names what went
// wrong (code, message, details), the replay window's boundaries at the ring size and across a
// 2^32 subspace, the replay-vs-forgery verdict, and the rekey threshold. See test/MUTATION.md for
// the mutants judged equivalent.
import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { ReplayWindow } from '../../src/esp/replay.js';
import { espSpi, InboundSa, OutboundSa, type SaKeys } from '../../src/esp/sa.js';
import { SpiAllocator } from '../../src/esp/spi.js';
import { espSuite } from '../../src/esp/suites.js';
import { keysFor, refSeal, refSealPlain, u32 } from './reference.js';

const TWO32 = 2 ** 32;

/** The HipEspError `fn` throws (fails the test if it throws nothing or something else). */
function espError(fn: () => unknown): HipEspError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipEspError) return e;
    throw e;
  }
  expect.fail('expected a HipEspError');
}

describe('ESP errors say what went wrong', () => {
  it('SA keys that are not an object', () => {
    for (const bad of [null, 42, 'keys', undefined]) {
      const e = espError(() => new InboundSa(bad as unknown as SaKeys));
      expect(e.code).toBe('ERR_ESP_BAD_ARGUMENT');
      expect(e.message).toBe('SA keys must be an object');
    }
  });

  it('an SPI below 256', () => {
    const e = espError(() => new OutboundSa({ ...keysFor(8), spi: 5 }));
    expect(e.code).toBe('ERR_ESP_BAD_SA');
    expect(e.message).toContain('got 5');
    expect(e.details).toEqual({ spi: 5 });
  });

  it('keys of the wrong length name the suite and both lengths', () => {
    const enc = espError(() => new InboundSa({ ...keysFor(8), encKey: new Uint8Array(3) }));
    expect(enc.code).toBe('ERR_ESP_BAD_KEY');
    expect(enc.message).toBe('suite 8 needs a 16-byte encryption key');
    expect(enc.details).toEqual({ suite: 8, expected: 16, actual: 3 });
    const auth = espError(() => new InboundSa({ ...keysFor(8), authKey: new Uint8Array(3) }));
    expect(auth.message).toBe('suite 8 needs a 32-byte authentication key');
    expect(auth.details).toEqual({ suite: 8, expected: 32, actual: 3 });
  });

  it('an unsupported suite', () => {
    const e = espError(() => espSuite(99));
    expect(e.code).toBe('ERR_ESP_UNSUPPORTED_SUITE');
    expect(e.message).toContain('99');
    expect(e.details).toEqual({ suite: 99 });
  });

  it('bad seal() arguments and options name themselves', () => {
    const out = new OutboundSa(keysFor(8));
    expect(espError(() => out.seal('x' as unknown as Uint8Array, 17)).message).toContain('payload');
    expect(espError(() => out.seal(new Uint8Array(1), 256)).message).toContain('got 256');
    for (const option of ['initialSeq', 'rekeyThreshold'] as const) {
      const e = espError(() => new OutboundSa(keysFor(8), { [option]: -1n }));
      expect(e.code).toBe('ERR_ESP_BAD_OPTION');
      expect(e.message).toContain(option);
      expect(e.details).toEqual({ option });
    }
    const short = new OutboundSa(keysFor(8), { randomIv: () => new Uint8Array(3) });
    expect(espError(() => short.seal(new Uint8Array(1), 17)).message).toContain('fewer than 16 bytes');
  });

  it('the last sequence number 2^64-1 is refused only once it would be used', () => {
    const out = new OutboundSa(keysFor(13), { initialSeq: 2n ** 64n - 1n });
    const e = espError(() => out.seal(new Uint8Array(1), 17));
    expect(e.code).toBe('ERR_ESP_SEQ_EXHAUSTED');
    expect(e.message).toContain('rekeyed');
    expect(e.details).toEqual({ spi: out.spi });
  });

  it('espSpi of a packet shorter than an SPI', () => {
    expect(espError(() => espSpi(new Uint8Array(3))).message).toBe('ESP packet shorter than its SPI');
  });

  it('a replay window size out of range', () => {
    const e = espError(() => new ReplayWindow(0));
    expect(e.message).toContain('got 0');
    expect(e.details).toEqual({ replayWindow: 0 });
  });

  it('the SPI allocator: a short random source, and 64 draws at most', () => {
    expect(espError(() => new SpiAllocator().allocate(() => new Uint8Array(3))).message).toContain('fewer than 4 bytes');
    let draws = 0;
    const e = espError(() =>
      new SpiAllocator().allocate(() => {
        draws++;
        return new Uint8Array(4); // SPI 0 is reserved: never acceptable
      }),
    );
    expect(draws).toBe(64);
    expect(e.code).toBe('ERR_ESP_SPI_EXHAUSTED');
    expect(e.message).toContain('64');
    expect(e.details).toEqual({ live: 0 });
  });
});

describe('InboundSa.open: each drop has its own reason, message and details', () => {
  const keys8 = keysFor(8);
  const spi = u32(keys8.spi);

  it('shorter than the header; exactly the header (an empty CBC ciphertext)', () => {
    const sa = new InboundSa(keys8);
    const short = espError(() => sa.open(spi));
    expect(short.code).toBe('ERR_ESP_MALFORMED');
    expect(short.message).toBe('ESP packet shorter than its 8-byte header');
    expect(short.details).toEqual({ spi: keys8.spi });
    const header = espError(() => sa.open(Uint8Array.from([...spi, 0, 0, 0, 1])));
    expect(header.message).toContain('not a multiple of 16');
    expect(header.details).toEqual({ spi: keys8.spi, length: 8 });
    expect(sa.stats.drops.malformed).toBe(2);
  });

  it('a packet for another SPI', () => {
    const e = espError(() => new InboundSa(keys8).open(Uint8Array.from([0, 0, 4, 210, 0, 0, 0, 1])));
    expect(e.code).toBe('ERR_ESP_BAD_SPI');
    expect(e.message).toBe(`ESP packet for SPI 1234 reached the SA of SPI ${keys8.spi}`);
  });

  it('a GCM packet too short for its trailer and ICV', () => {
    const k = keysFor(13);
    const e = espError(() => new InboundSa(k).open(Uint8Array.from([...u32(k.spi), 0, 0, 0, 1, 1, 2, 3])));
    expect(e.message).toBe('ESP packet too short for its trailer and ICV');
    expect(e.details).toEqual({ spi: k.spi, length: 11 });
  });

  it('a packet just long enough for the two trailer bytes and the ICV is judged by its ICV, one byte less is malformed', () => {
    // NULL (7): header 8 + 2 + ICV 16; GCM (13): header 8 + IV 8 + 2 + ICV 16; GCM (12): ICV 8.
    for (const [suite, min] of [[7, 26], [13, 34], [12, 26]] as const) {
      const k = keysFor(suite);
      const sa = new InboundSa(k);
      const packet = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i < 4 ? u32(k.spi)[i]! : i === 7 ? 1 : 0));
      expect(espError(() => sa.open(packet(min))).code, `suite ${suite}`).toBe('ERR_ESP_AUTH');
      const short = espError(() => sa.open(packet(min - 1)));
      expect(short.message, `suite ${suite}`).toBe('ESP packet too short for its trailer and ICV');
    }
  });

  it('duplicates and packets left of the window are told apart', () => {
    const k = keysFor(13);
    const sa = new InboundSa(k, { replayWindow: 32 });
    const p1 = refSeal({ ...k, seq: 1n, payload: new Uint8Array([1]), nextHeader: 17 });
    sa.open(p1);
    const dup = espError(() => sa.open(p1));
    expect(dup.code).toBe('ERR_ESP_REPLAY');
    expect(dup.message).toBe('ESP packet already received');
    expect(dup.details).toEqual({ spi: k.spi, seqHigh: 0, seqLow: 1 });
    sa.open(refSeal({ ...k, seq: 40n, payload: new Uint8Array([1]), nextHeader: 17 }));
    const p2 = refSeal({ ...k, seq: 2n, payload: new Uint8Array([1]), nextHeader: 17 });
    const old = espError(() => sa.open(p2));
    expect(old.message).toBe('ESP packet left of the replay window');
    expect(old.details).toEqual({ spi: k.spi, seqHigh: 0, seqLow: 2 });
  });

  for (const suite of [8, 13] as const) {
    it(`suite ${suite}: a forgery whose low half reads as an old number is "auth", a genuine old packet is "replay"`, () => {
      const k = keysFor(suite);
      const sa = new InboundSa(k);
      const old = refSeal({ ...k, seq: 10n, iv: new Uint8Array(16), payload: new Uint8Array([1]), nextHeader: 17 });
      sa.open(refSeal({ ...k, seq: 100n, iv: new Uint8Array(16), payload: new Uint8Array([2]), nextHeader: 17 }));
      // Low half 10 is inferred as 2^32 + 10 (ahead); read one subspace lower it is left of the window.
      const replay = espError(() => sa.open(old));
      expect(replay.code).toBe('ERR_ESP_REPLAY');
      expect(replay.details).toEqual({ spi: k.spi, seqHigh: 0, seqLow: 10 });
      const forged = old.slice();
      forged[forged.length - 1]! ^= 1;
      const auth = espError(() => sa.open(forged));
      expect(auth.code).toBe('ERR_ESP_AUTH');
      expect(auth.message).toBe('ESP ICV does not match');
      expect(auth.details).toEqual({ spi: k.spi, seqHigh: 1, seqLow: 10 });
      expect(sa.stats.drops).toEqual({ malformed: 0, auth: 1, replay: 1 });
    });
  }

  it('authentic plaintext whose pad length exceeds it, or whose padding is not 1, 2, 3, ...', () => {
    const k = keysFor(7);
    const sa = new InboundSa(k);
    const tooLong = refSealPlain({ ...k, seq: 1n, plaintext: Uint8Array.from([1, 2, 200, 17]) });
    const e1 = espError(() => sa.open(tooLong));
    expect(e1.message).toBe('ESP pad length exceeds the payload');
    expect(e1.details).toEqual({ spi: k.spi, padLength: 200 });
    const badPad = refSealPlain({ ...k, seq: 2n, plaintext: Uint8Array.from([9, 2, 9, 9, 9, 9, 2, 17]) });
    const e2 = espError(() => sa.open(badPad));
    expect(e2.message).toBe('ESP padding bytes are not 1, 2, 3, ...');
    expect(e2.details).toEqual({ spi: k.spi, padLength: 2 });
    // Neither counts as received: the same numbers still open once they carry good plaintext.
    expect([...sa.open(refSealPlain({ ...k, seq: 1n, plaintext: Uint8Array.from([5, 0, 0, 17]) })).payload]).toEqual([5, 0]);
  });
});

describe('OutboundSa rekey threshold', () => {
  it('needsRekey turns true at the threshold and stays true', () => {
    const out = new OutboundSa(keysFor(13), { rekeyThreshold: 3n });
    const flags = Array.from({ length: 5 }, () => {
      out.seal(new Uint8Array(1), 17);
      return out.needsRekey;
    });
    expect(flags).toEqual([false, false, true, true, true]);
  });

  it('a threshold in the next 2^32 subspace is reached only there', () => {
    const out = new OutboundSa(keysFor(13), { initialSeq: 2n ** 32n - 2n, rekeyThreshold: 2n ** 32n + 1n });
    const flags = Array.from({ length: 3 }, () => {
      out.seal(new Uint8Array(1), 17);
      return [out.seq, out.needsRekey];
    });
    expect(flags).toEqual([
      [2n ** 32n - 1n, false],
      [2n ** 32n, false],
      [2n ** 32n + 1n, true],
    ]);
  });
});

describe('OutboundSa and InboundSa argument edges', () => {
  it('an SA created at or past its rekey threshold needs a rekey before it seals anything', () => {
    expect(new OutboundSa(keysFor(13), { initialSeq: 5n, rekeyThreshold: 5n }).needsRekey).toBe(true);
    expect(new OutboundSa(keysFor(13), { initialSeq: 6n, rekeyThreshold: 5n }).needsRekey).toBe(true);
    expect(new OutboundSa(keysFor(13), { initialSeq: 4n, rekeyThreshold: 5n }).needsRekey).toBe(false);
  });

  it('keys that are not byte arrays are refused without a length to report', () => {
    const enc = espError(() => new InboundSa({ ...keysFor(8), encKey: 'k'.repeat(16) as unknown as Uint8Array }));
    expect(enc.details).toEqual({ suite: 8, expected: 16, actual: undefined });
    const auth = espError(() => new OutboundSa({ ...keysFor(8), authKey: null as unknown as Uint8Array }));
    expect(auth.details).toEqual({ suite: 8, expected: 32, actual: undefined });
  });

  it('SPIs 256 and 2^32-1 are the ends of the range', () => {
    for (const spi of [256, 0xffffffff]) expect(new OutboundSa(keysFor(8, spi)).spi).toBe(spi);
    for (const spi of [255, 2 ** 32, 256.5]) expect(espError(() => new InboundSa(keysFor(8, spi))).code).toBe('ERR_ESP_BAD_SA');
  });

  it('next header 0 and 255 are sealed; fractions and NaN are refused', () => {
    const k = keysFor(13);
    const out = new OutboundSa(k);
    const inbound = new InboundSa(k);
    for (const nh of [0, 255]) expect(inbound.open(out.seal(Uint8Array.of(1), nh)).nextHeader).toBe(nh);
    for (const nh of [1.5, Number.NaN, -1]) expect(espError(() => out.seal(Uint8Array.of(1), nh)).code).toBe('ERR_ESP_BAD_ARGUMENT');
  });

  it('a random source that returns more than 16 bytes: the IV is its first 16, the rest is not used', () => {
    const k = keysFor(8);
    const long = Uint8Array.from({ length: 200 }, (_, i) => i);
    const packet = new OutboundSa(k, { randomIv: () => long }).seal(Uint8Array.of(9, 9), 17);
    expect([...packet.subarray(8, 24)]).toEqual([...long.subarray(0, 16)]);
    expect([...new InboundSa(k).open(packet).payload]).toEqual([9, 9]);
  });

  it('an AES-CBC packet with an empty ciphertext, or shorter than IV and ICV, is malformed', () => {
    const k = keysFor(8);
    for (const length of [40, 24]) {
      const p = new Uint8Array(length);
      p.set(u32(k.spi));
      p[7] = 1;
      const e = espError(() => new InboundSa(k).open(p));
      expect(e.message, `length ${length}`).toBe('AES-CBC ciphertext is empty or not a multiple of 16 bytes');
    }
  });

  it('espSpi reads exactly four bytes, the high bit included', () => {
    expect(espSpi(Uint8Array.of(0, 0, 1, 0))).toBe(256);
    expect(espSpi(Uint8Array.of(0xff, 0xff, 0xff, 0xfe, 7))).toBe(0xfffffffe);
  });
});

describe('ReplayWindow boundaries', () => {
  it('status: numbers outside 1..2^64-1 are stale', () => {
    const w = new ReplayWindow(32);
    expect(w.status(0, 0)).toBe('stale');
    expect(w.status(-1, 5)).toBe('stale');
    expect(w.status(TWO32, 5)).toBe('stale');
    expect(w.status(0, 1)).toBe('fresh');
  });

  it('inferHigh when the top is exactly one window above 0', () => {
    const w = new ReplayWindow(64);
    w.update(0, 64);
    expect(w.inferHigh(0)).toBe(1); // 0:0 is not a sequence number; 1:0 is the next one after wrap
    expect(w.inferHigh(1)).toBe(0);
  });

  it('a jump of exactly the ring size minus one keeps the old top remembered', () => {
    const w = new ReplayWindow(32);
    w.update(0, 100);
    w.update(0, 131);
    expect(w.status(0, 100)).toBe('duplicate');
    expect(w.status(0, 101)).toBe('fresh');
  });

  it('a jump farther than the ring forgets every slot, so numbers inside the new window are fresh', () => {
    const w = new ReplayWindow(32);
    w.update(0, 5); // ring slot 5
    w.update(0, 100); // 95 ahead: more than the 32-slot ring
    expect(w.status(0, 69)).toBe('fresh'); // slot 5 again, 31 behind the top: inside the window
    expect(w.update(0, 69)).toBe(true);
  });

  it('sliding across a 2^32 boundary forgets the slots it reuses', () => {
    const w = new ReplayWindow(32);
    w.update(0, TWO32 - 29); // ring slot 3
    w.update(0, TWO32 - 10);
    w.update(1, 5); // 15 ahead, across the subspace boundary
    expect(w.status(1, 3)).toBe('fresh'); // slot 3 again, never received
    expect(w.status(0, TWO32 - 10)).toBe('duplicate');
    expect(w.status(0, TWO32 - 29)).toBe('stale');
  });

  it('olderReadingIsStale only for numbers ahead of the window whose lower reading is left of it', () => {
    const w = new ReplayWindow(64);
    w.update(1, 100);
    expect(w.olderReadingIsStale(2, 10)).toBe(true); // 1:10 is 90 behind
    expect(w.olderReadingIsStale(2, 50)).toBe(false); // 1:50 is inside the window
    expect(w.olderReadingIsStale(1, 90)).toBe(false); // inside the window, not ahead
    expect(w.olderReadingIsStale(1, 100)).toBe(false); // a duplicate
    expect(w.olderReadingIsStale(0, 200)).toBe(false); // no subspace below 0
    const fresh = new ReplayWindow(64);
    fresh.update(0, 100);
    expect(fresh.olderReadingIsStale(0, 200)).toBe(false);
    // Inside the window but one subspace below the top: not ahead, whatever its low half.
    const two = new ReplayWindow(64);
    two.update(2, 5);
    expect(two.status(1, TWO32 - 10)).toBe('fresh');
    expect(two.olderReadingIsStale(1, TWO32 - 10)).toBe(false);
    // Beyond 2^64 - 1 there is no sequence number to be ahead of the window.
    const last = new ReplayWindow(64);
    last.update(TWO32 - 1, 100);
    expect(last.olderReadingIsStale(TWO32, 10)).toBe(false);
  });
});
