/**
 * sealParts (a payload in pieces, the packet in pieces for a gathered write) must produce the
 * very packet seal produces: same bytes for GCM (its IV is the sequence number), and for every
 * suite a packet the receiver opens to the joined pieces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InboundSa, OutboundSa } from '../../src/esp/sa.js';
import { ALL_SUITES, keysFor } from './reference.js';

const pieces = fc.oneof(
  fc.array(fc.uint8Array({ minLength: 0, maxLength: 200 }), { minLength: 1, maxLength: 4 }),
  // Past the 16 KiB that AES-GCM gathers into one cipher call: sealed piece by piece.
  fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.uint8Array({ minLength: 16_400, maxLength: 20_000 })).map(([a, b]) => [a, b]),
);

describe.each(ALL_SUITES)('suite %i: sealParts', (suite) => {
  it('seals pieces into a packet that opens to the joined pieces, in sequence with seal', () => {
    const keys = keysFor(suite, 0x2000 + suite);
    const out = new OutboundSa(keys);
    const inbound = new InboundSa(keys);
    fc.assert(
      fc.property(pieces, fc.integer({ min: 0, max: 255 }), (parts, nh) => {
        const packet = Buffer.concat(out.sealParts(parts, nh));
        const opened = inbound.open(packet);
        expect(Buffer.from(opened.payload).equals(Buffer.concat(parts))).toBe(true);
        expect(opened.nextHeader).toBe(nh);
        // seal and sealParts share one sequence counter.
        expect(inbound.open(out.seal(Uint8Array.of(1, 2, 3), nh)).seq).toBe(opened.seq + 1n);
      }),
      { numRuns: 60 },
    );
  });
});

describe('AES-GCM sealParts', () => {
  it('gives exactly the bytes seal gives for the same sequence number', () => {
    for (const suite of ALL_SUITES.filter((s) => s === 12 || s === 13)) {
      const keys = keysFor(suite, 0x3000 + suite);
      const a = new OutboundSa(keys);
      const b = new OutboundSa(keys);
      fc.assert(
        fc.property(pieces, (parts) => {
          expect(Buffer.concat(a.sealParts(parts, 6)).equals(b.seal(Buffer.concat(parts), 6) as Buffer)).toBe(true);
        }),
        { numRuns: 60 },
      );
    }
  });
});

describe.each(ALL_SUITES)('suite %i: sealParts counts', (suite) => {
  it('one packet and the joined payload length per call, as seal does', () => {
    const out = new OutboundSa(keysFor(suite, 0x4000 + suite));
    out.sealParts([Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(40)], 17);
    out.sealParts([new Uint8Array(7)], 17);
    out.seal(new Uint8Array(5), 17);
    expect(out.stats).toEqual({ packets: 3, bytes: 55 });
  });
});

describe('AES-GCM sealParts returns pieces, not a joined packet', () => {
  it('up to 16 KiB: the header, the ciphertext of the gathered pieces, the ICV', () => {
    const out = new OutboundSa(keysFor(13, 0x5000));
    const pieces = out.sealParts([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)], 6);
    expect(pieces.map((p) => p.length)).toEqual([16, 8, 16]);
  });

  it('larger: the header, one piece per non-empty payload piece, and the trailer with the ICV', () => {
    const out = new OutboundSa(keysFor(13, 0x5002));
    const pieces = out.sealParts([new Uint8Array(20), new Uint8Array(0), new Uint8Array(20_000)], 6);
    // 20 020 bytes and the 2 trailer bytes padded to a multiple of 4: 2 bytes of padding.
    expect(pieces.map((p) => p.length)).toEqual([16, 20, 20_000, 4 + 16]);
  });

  it('a packet keeps its bytes when the next one is sealed (no view of shared staging bytes)', () => {
    const keys = keysFor(13, 0x5003);
    const out = new OutboundSa(keys);
    const inbound = new InboundSa(keys);
    const first = out.sealParts([Uint8Array.of(1, 2, 3), new Uint8Array(100).fill(7)], 17);
    const second = out.sealParts([Uint8Array.of(9, 9, 9), new Uint8Array(100).fill(8)], 17);
    expect(Buffer.from(inbound.open(Buffer.concat(first)).payload)).toEqual(Buffer.from([1, 2, 3, ...new Uint8Array(100).fill(7)]));
    expect(Buffer.from(inbound.open(Buffer.concat(second)).payload)).toEqual(Buffer.from([9, 9, 9, ...new Uint8Array(100).fill(8)]));
  });

  it('a piece that is not a Uint8Array is refused, naming the pieces', () => {
    const out = new OutboundSa(keysFor(13, 0x5001));
    let err: unknown;
    try {
      out.sealParts([Uint8Array.of(1), 'x' as unknown as Uint8Array], 6);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_ESP_BAD_ARGUMENT', message: 'payload pieces must be Uint8Arrays' });
  });
});
