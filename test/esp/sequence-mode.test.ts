/**
 * Issue 13: HIPL's hipd computes the ESP ICV over the 32-bit sequence number only (no ESN high
 * half). An SA with `sequence: '32bit'` does the same, byte for byte against an independent
 * reference; the two forms refuse each other's packets; a '32bit' sender never wraps.
 */
import { describe, expect, it } from 'vitest';
import { HipEspError } from '../../src/errors.js';
import { InboundSa, OutboundSa, type EspSequenceMode } from '../../src/esp/sa.js';
import { ALL_SUITES, keysFor, refSeal, type RefSuite } from './reference.js';

const IV = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const payload = new TextEncoder().encode('ping between HITs');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HipEspError) return e.code;
    throw e;
  }
  return 'OK';
}

function sealer(suite: RefSuite, sequence: EspSequenceMode, initialSeq = 0n): OutboundSa {
  return new OutboundSa(keysFor(suite), { sequence, initialSeq, randomIv: (n) => IV.slice(0, n) });
}

describe("ESP sequence mode '32bit' (hipd's ICV)", () => {
  for (const suite of ALL_SUITES) {
    it(`suite ${suite}: seals exactly as RFC 4303 without ESN, and only a '32bit' receiver opens it`, () => {
      const k = keysFor(suite);
      for (const seq of [1n, 2n, 0xfffffffen]) {
        const out = sealer(suite, '32bit', seq - 1n);
        const packet = out.seal(payload, 58);
        const ref = refSeal({ suite, spi: k.spi, seq, encKey: k.encKey, authKey: k.authKey, iv: IV, payload, nextHeader: 58, sequence: '32bit' });
        expect(Buffer.from(packet).toString('hex')).toBe(Buffer.from(ref).toString('hex'));
        // the ESN form of the same packet differs (its ICV covers SeqHigh = 0 too)
        const esn = sealer(suite, 'esn', seq - 1n).seal(payload, 58);
        expect(Buffer.from(esn).equals(Buffer.from(packet))).toBe(false);

        const in32 = new InboundSa(k, { sequence: '32bit' });
        expect(in32.open(packet)).toMatchObject({ nextHeader: 58, seq });
        const inEsn = new InboundSa(k);
        expect(code(() => inEsn.open(packet))).toBe('ERR_ESP_AUTH');
        expect(code(() => new InboundSa(k, { sequence: '32bit' }).open(esn))).toBe('ERR_ESP_AUTH');
      }
    });
  }

  it('a packet left of the window is named so (a 32-bit receiver never reads it as one subspace up)', () => {
    const out = sealer(8, '32bit');
    const inbound = new InboundSa(keysFor(8), { sequence: '32bit' });
    const first = out.seal(payload, 17);
    for (let i = 0; i < 100; i++) out.seal(payload, 17);
    inbound.open(out.seal(payload, 17)); // 102
    let err: HipEspError | undefined;
    try {
      inbound.open(first);
    } catch (e) {
      err = e as HipEspError;
    }
    expect(err?.code).toBe('ERR_ESP_REPLAY');
    expect(err?.message).toBe('ESP packet left of the replay window');
  });

  it('keeps the replay window: a repeated packet is dropped as a replay', () => {
    const out = sealer(8, '32bit');
    const inbound = new InboundSa(keysFor(8), { sequence: '32bit' });
    const p1 = out.seal(payload, 17);
    inbound.open(p1);
    expect(code(() => inbound.open(p1))).toBe('ERR_ESP_REPLAY');
    expect(inbound.sequence).toBe('32bit');
  });

  it('never wraps: after 2^32 - 1 the sender refuses with ERR_ESP_SEQ_EXHAUSTED', () => {
    const out = sealer(1, '32bit', 0xfffffffdn);
    const inbound = new InboundSa(keysFor(1), { sequence: '32bit' });
    expect(inbound.open(out.seal(payload, 17)).seq).toBe(0xfffffffen);
    expect(inbound.open(out.seal(payload, 17)).seq).toBe(0xffffffffn);
    expect(code(() => out.seal(payload, 17))).toBe('ERR_ESP_SEQ_EXHAUSTED');
    expect(out.seq).toBe(0xffffffffn);
    expect(out.needsRekey).toBe(true);
    // the ESN form simply carries on into the high half
    const esn = sealer(1, 'esn', 0xffffffffn);
    esn.seal(payload, 17);
    expect(esn.seq).toBe(0x1_0000_0000n);
  });

  it("asks for a rekey well before the 32-bit limit by default", () => {
    expect(sealer(8, '32bit', (1n << 32n) - (1n << 20n) - 1n).needsRekey).toBe(false);
    expect(sealer(8, '32bit', (1n << 32n) - (1n << 20n)).needsRekey).toBe(true);
    expect(sealer(8, 'esn', (1n << 32n) - (1n << 20n)).needsRekey).toBe(false);
  });

  it('refuses an unknown mode with ERR_ESP_BAD_OPTION', () => {
    expect(code(() => new OutboundSa(keysFor(8), { sequence: 'esn64' as EspSequenceMode }))).toBe('ERR_ESP_BAD_OPTION');
    expect(code(() => new InboundSa(keysFor(8), { sequence: 64 as unknown as EspSequenceMode }))).toBe('ERR_ESP_BAD_OPTION');
  });

  it('each side says its mode; a bad mode and the 32-bit limit are named in the error', () => {
    expect(new OutboundSa(keysFor(8)).sequence).toBe('esn');
    expect(sealer(8, '32bit').sequence).toBe('32bit');
    expect(new InboundSa(keysFor(8)).sequence).toBe('esn');
    let bad: HipEspError | undefined;
    try {
      new OutboundSa(keysFor(8), { sequence: 'esn64' as EspSequenceMode });
    } catch (e) {
      bad = e as HipEspError;
    }
    expect(bad?.message).toBe("sequence must be 'esn' or '32bit', got esn64");
    expect(bad?.details).toEqual({ option: 'sequence' });
    const out = sealer(8, '32bit', 0xffffffffn);
    let full: HipEspError | undefined;
    try {
      out.seal(payload, 17);
    } catch (e) {
      full = e as HipEspError;
    }
    expect(full?.message).toBe('ESP sequence number space (32 bits) exhausted; the SA must be rekeyed');
    expect(full?.details).toEqual({ spi: out.spi });
  });
});
