// ESP parsing against arbitrary bytes (issue 8): InboundSa.open and espSpi give a value or a
// typed HipEspError, never another exception, for every suite. Besides random packets, the
// reference sealer authenticates random plaintexts, so padding and trailer checks that only run
// after the ICV verified are reached too.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { espSpi, InboundSa } from '../../src/esp/sa.js';
import { FUZZ_RUNS, valueOrTypedError } from '../helpers/typed-errors.js';
import { ALL_SUITES, keysFor, refSealPlain, REF_SUITES, u32 } from './reference.js';

const runs = { numRuns: FUZZ_RUNS };

describe('ESP parsing: a value or a typed error, never another exception', () => {
  it('espSpi on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (b) => void valueOrTypedError(() => espSpi(b))), runs);
  });

  for (const suite of ALL_SUITES) {
    it(`suite ${suite}: open() on random packets with and without the SA's SPI`, () => {
      const keys = keysFor(suite);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, ourSpi) => {
          const sa = new InboundSa(keys);
          const packet = ourSpi ? Uint8Array.from([...u32(keys.spi), ...body]) : body;
          valueOrTypedError(() => sa.open(packet));
        }),
        runs,
      );
    });

    it(`suite ${suite}: open() on authentic packets with arbitrary plaintext (bad padding, bad lengths)`, () => {
      const keys = keysFor(suite);
      const align = REF_SUITES[suite].align;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 8 }).chain((blocks) => fc.uint8Array({ minLength: blocks * align, maxLength: blocks * align })),
          fc.bigInt({ min: 1n, max: 2n ** 40n }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          (plaintext, seq, iv) => {
            const sa = new InboundSa(keys);
            const packet = refSealPlain({ suite, spi: keys.spi, seq, encKey: keys.encKey, authKey: keys.authKey, iv, plaintext });
            valueOrTypedError(() => sa.open(packet));
          },
        ),
        runs,
      );
    });
  }
});
