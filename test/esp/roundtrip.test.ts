import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { HipEspError } from '../../src/errors.js';
import { espSpi, InboundSa, OutboundSa } from '../../src/esp/sa.js';
import { espPacketLength } from '../../src/esp/suites.js';
import { ALL_SUITES, keysFor, REF_SUITES, refPlaintext, refSealPlain, type RefSuite } from './reference.js';

/** Run fn and return the HipEspError code it throws; fail on success or on any other error. */
function espErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof HipEspError)) throw new Error(`not a HipEspError: ${String(e)}`);
    return e.code;
  }
  throw new Error('did not throw');
}

/** Smallest packet each layout can hold: header, IV, one block or the 2 trailer bytes, ICV. */
function minLength(suite: RefSuite): number {
  const r = REF_SUITES[suite];
  if (r.mode === 'cbc') return 8 + 16 + 16 + r.icv;
  if (r.mode === 'gcm') return 8 + 8 + 2 + r.icv;
  return 8 + 2 + r.icv;
}

describe.each(ALL_SUITES)('suite %i', (suite) => {
  it('round-trips payloads of 0..300 bytes with any next header', () => {
    const keys = keysFor(suite, 0x1000 + suite);
    const out = new OutboundSa(keys);
    const inbound = new InboundSa(keys);
    let n = 0n;
    let bytes = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (payload, nh) => {
        const packet = out.seal(payload, nh);
        n += 1n;
        bytes += payload.length;
        expect(packet.length).toBe(espPacketLength(suite, payload.length));
        expect(espSpi(packet)).toBe(keys.spi);
        const r = inbound.open(packet);
        expect(bytesToHex(r.payload)).toBe(bytesToHex(payload));
        expect(r.nextHeader).toBe(nh);
        expect(r.seq).toBe(n);
      }),
      { numRuns: 300 },
    );
    expect(out.stats).toEqual({ packets: Number(n), bytes });
    expect(inbound.stats).toEqual({ packets: Number(n), bytes, drops: { malformed: 0, auth: 0, replay: 0 } });
    expect(inbound.highestSeq).toBe(n);
  });

  it('rejects any tampered byte: SPI bytes with ERR_ESP_BAD_SPI, the rest with ERR_ESP_AUTH', () => {
    const keys = keysFor(suite);
    const packet = new OutboundSa(keys, { initialSeq: 4n }).seal(new Uint8Array(47).fill(0xa5), 17);
    fc.assert(
      fc.property(fc.nat({ max: packet.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        const bad = Uint8Array.from(packet);
        bad[pos]! ^= mask;
        const inbound = new InboundSa(keys);
        const seqLow = (bad[4]! << 24) | (bad[5]! << 16) | (bad[6]! << 8) | bad[7]!;
        const want = pos < 4 ? 'ERR_ESP_BAD_SPI' : seqLow === 0 ? 'ERR_ESP_REPLAY' : 'ERR_ESP_AUTH';
        expect(espErrorCode(() => inbound.open(bad))).toBe(want);
        expect(inbound.stats.packets).toBe(0);
        // The genuine packet still goes through: the forgery did not touch the window.
        expect(inbound.open(packet).seq).toBe(5n);
      }),
      { numRuns: 200 },
    );
    // And exhaustively, one flip per byte.
    for (let pos = 4; pos < packet.length; pos++) {
      const bad = Uint8Array.from(packet);
      bad[pos]! ^= 0x40;
      expect(espErrorCode(() => new InboundSa(keys).open(bad)), `byte ${pos}`).toBe('ERR_ESP_AUTH');
    }
  });

  it('rejects a packet for another SPI without counting it as a drop', () => {
    const packet = new OutboundSa(keysFor(suite, 0x5000)).seal(new Uint8Array(10), 6);
    const inbound = new InboundSa(keysFor(suite, 0x5001));
    const err = (() => {
      try {
        inbound.open(packet);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HipEspError);
    expect((err as HipEspError).code).toBe('ERR_ESP_BAD_SPI');
    expect((err as HipEspError).details).toMatchObject({ spi: 0x5000, expected: 0x5001 });
    expect(inbound.stats.drops).toEqual({ malformed: 0, auth: 0, replay: 0 });
  });

  it('rejects truncated packets: ERR_ESP_MALFORMED below the layout minimum, never a non-ESP error', () => {
    const keys = keysFor(suite);
    const packet = new OutboundSa(keys).seal(new Uint8Array(100).fill(3), 17);
    const min = minLength(suite);
    for (let len = 0; len < packet.length; len++) {
      const inbound = new InboundSa(keys);
      const code = espErrorCode(() => inbound.open(packet.subarray(0, len)));
      if (len < min) expect(code, `length ${len}`).toBe('ERR_ESP_MALFORMED');
      else if (REF_SUITES[suite].mode === 'cbc' && (len - 24 - REF_SUITES[suite].icv) % 16 !== 0) expect(code).toBe('ERR_ESP_MALFORMED');
      else expect(code, `length ${len}`).toBe('ERR_ESP_AUTH');
      expect(inbound.stats.packets).toBe(0);
    }
  });

  it('survives arbitrary bytes (with our SPI or not) with HipEspError only', () => {
    const keys = keysFor(suite, 0x01020304);
    const inbound = new InboundSa(keys);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.boolean(), (junk, ourSpi) => {
        const p = Uint8Array.from(junk);
        if (ourSpi && p.length >= 4) p.set([1, 2, 3, 4], 0);
        const code = espErrorCode(() => inbound.open(p));
        expect(['ERR_ESP_MALFORMED', 'ERR_ESP_BAD_SPI', 'ERR_ESP_AUTH', 'ERR_ESP_REPLAY']).toContain(code);
      }),
      { numRuns: 300 },
    );
    expect(inbound.stats.packets).toBe(0);
    expect(inbound.highestSeq).toBe(0n);
  });

  it('checks the padding of authentic packets: bytes 1,2,3,... and a pad length that fits', () => {
    const keys = keysFor(suite);
    const iv = new Uint8Array(16).fill(9);
    const good = refPlaintext(suite, new Uint8Array(5).fill(0xee), 17);
    const padLen = good[good.length - 2]!;
    expect(padLen).toBeGreaterThan(0);
    const badByte = Uint8Array.from(good);
    badByte[5 + padLen - 1] = 0; // last pad byte should be padLen
    const tooLong = Uint8Array.from(good);
    tooLong[tooLong.length - 2] = tooLong.length - 1; // pad length beyond the plaintext
    const inbound = new InboundSa(keys);
    let seq = 0n;
    for (const plaintext of [badByte, tooLong]) {
      seq += 1n;
      const packet = refSealPlain({ ...keys, seq, iv, plaintext });
      expect(espErrorCode(() => inbound.open(packet))).toBe('ERR_ESP_MALFORMED');
    }
    expect(inbound.stats.drops).toEqual({ malformed: 2, auth: 0, replay: 0 });
    // Neither moved the window: both sequence numbers are still acceptable.
    expect(inbound.highestSeq).toBe(0n);
    for (const s of [2n, 1n]) {
      const r = inbound.open(refSealPlain({ ...keys, seq: s, iv, plaintext: good }));
      expect(r.seq).toBe(s);
      expect(r.payload.length).toBe(5);
    }
  });
});

describe('SA construction', () => {
  it('refuses unknown suites, bad SPIs, wrong key lengths and bad arguments with typed errors', () => {
    const k8 = keysFor(8);
    expect(espErrorCode(() => new OutboundSa({ ...k8, suite: 3 }))).toBe('ERR_ESP_UNSUPPORTED_SUITE');
    expect(espErrorCode(() => new InboundSa({ ...k8, suite: 10 }))).toBe('ERR_ESP_UNSUPPORTED_SUITE');
    for (const spi of [0, 1, 255, -1, 2 ** 32, 1.5, NaN]) {
      expect(espErrorCode(() => new OutboundSa({ ...k8, spi })), `spi ${spi}`).toBe('ERR_ESP_BAD_SA');
    }
    expect(new InboundSa({ ...k8, spi: 256 }).spi).toBe(256);
    expect(new InboundSa({ ...k8, spi: 0xffffffff }).spi).toBe(0xffffffff);
    expect(espErrorCode(() => new OutboundSa({ ...k8, encKey: new Uint8Array(32) }))).toBe('ERR_ESP_BAD_KEY');
    expect(espErrorCode(() => new OutboundSa({ ...k8, authKey: new Uint8Array(20) }))).toBe('ERR_ESP_BAD_KEY');
    // GCM needs the salt: a bare 16-byte AES key is not enough.
    expect(espErrorCode(() => new InboundSa({ ...keysFor(13), encKey: new Uint8Array(16) }))).toBe('ERR_ESP_BAD_KEY');
    expect(espErrorCode(() => new InboundSa({ ...keysFor(7), encKey: new Uint8Array(16) }))).toBe('ERR_ESP_BAD_KEY');
    const out = new OutboundSa(k8);
    expect(espErrorCode(() => out.seal(new Uint8Array(1), 256))).toBe('ERR_ESP_BAD_ARGUMENT');
    expect(espErrorCode(() => out.seal(new Uint8Array(1), -1))).toBe('ERR_ESP_BAD_ARGUMENT');
    expect(espErrorCode(() => out.seal('text' as unknown as Uint8Array, 6))).toBe('ERR_ESP_BAD_ARGUMENT');
    expect(out.seq).toBe(0n);
    expect(espErrorCode(() => new InboundSa(k8).open('x' as unknown as Uint8Array))).toBe('ERR_ESP_MALFORMED');
  });

  it('keeps its own copy of the keys', () => {
    const keys = keysFor(9);
    const encKey = Uint8Array.from(keys.encKey);
    const out = new OutboundSa({ ...keys, encKey });
    encKey.fill(0);
    const packet = out.seal(new Uint8Array([1, 2, 3]), 6);
    expect([...new InboundSa(keys).open(packet).payload]).toEqual([1, 2, 3]);
  });

  it('uses a fresh random IV per CBC packet by default', () => {
    const out = new OutboundSa(keysFor(8));
    const ivs = new Set<string>();
    for (let i = 0; i < 600; i++) ivs.add(bytesToHex(out.seal(new Uint8Array(0), 59).subarray(8, 24)));
    expect(ivs.size).toBe(600);
  });

  it('accepts a payload that is a view into a larger buffer', () => {
    const big = Uint8Array.from({ length: 64 }, (_, i) => i);
    for (const suite of ALL_SUITES) {
      const keys = keysFor(suite);
      const r = new InboundSa(keys).open(new OutboundSa(keys).seal(big.subarray(10, 30), 17));
      expect([...r.payload]).toEqual([...big.subarray(10, 30)]);
    }
  });

  it('espSpi reads the first 4 bytes and refuses shorter input', () => {
    expect(espSpi(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0]))).toBe(0xdeadbeef);
    expect(espSpi(new Uint8Array([0, 0, 0, 0]))).toBe(0);
    expect(espErrorCode(() => espSpi(new Uint8Array(3)))).toBe('ERR_ESP_MALFORMED');
  });
});
