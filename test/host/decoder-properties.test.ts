// The decoders of what arrives inside ESP (issue 8): inner datagrams and stream segments give a
// value or a typed HipError, never another exception, for any bytes.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { decodeInnerDatagram } from '../../src/host/inner-datagram.js';
import { decodeSegment } from '../../src/host/stream-segment.js';
import { FUZZ_RUNS, valueOrTypedError } from '../helpers/typed-errors.js';

const runs = { numRuns: FUZZ_RUNS };
const hit = fc.uint8Array({ minLength: 16, maxLength: 16 });

describe('inner decoders: a value or a typed error, never another exception', () => {
  it('decodeInnerDatagram on any bytes, and on bytes whose length field is right', () => {
    const withLength = fc.uint8Array({ minLength: 8, maxLength: 120 }).map((b) => {
      b[4] = b.length >> 8;
      b[5] = b.length & 255;
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), withLength), hit, hit, (b, src, dst) => {
        valueOrTypedError(() => decodeInnerDatagram(b, src, dst));
      }),
      runs,
    );
  });

  it('decodeSegment on any bytes, and on headers with any data offset', () => {
    const header = fc.uint8Array({ minLength: 20, maxLength: 120 });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), header), hit, hit, (b, src, dst) => {
        valueOrTypedError(() => decodeSegment(b, src, dst));
      }),
      runs,
    );
  });
});
