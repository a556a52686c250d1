// TCP framing against arbitrary byte streams (issue 8): both decoders deliver records or throw a
// typed HipTransportError, never another exception, however the stream is cut into chunks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { announcedHipLength, hasZeroMarker, isMarkedHipDatagram } from '../../src/transport/demux.js';
import { HiplFrameDecoder, LibhiplStreamDecoder } from '../../src/transport/tcp-framing.js';
import { FUZZ_RUNS, valueOrTypedError } from '../helpers/typed-errors.js';

const runs = { numRuns: FUZZ_RUNS };
const chunks = fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 8 });
/** Chunks that look like the start of framed records (small lengths, zero markers). */
const framedChunks = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 90 }), fc.boolean(), fc.uint8Array({ maxLength: 80 })).map(([len, marker, b]) =>
    Uint8Array.from([len >> 8, len & 255, ...(marker ? [0, 0, 0, 0] : []), ...b]),
  ),
  { maxLength: 8 },
);

describe('TCP framing: records or a typed error, never another exception', () => {
  it('HiplFrameDecoder on any chunking of any bytes; after an error it stays failed', () => {
    fc.assert(
      fc.property(fc.oneof(chunks, framedChunks), (parts) => {
        const dec = new HiplFrameDecoder();
        let failed = false;
        for (const p of parts) {
          const r = valueOrTypedError(() => dec.push(p, (kind, bytes) => expect(bytes).toBeInstanceOf(Uint8Array)));
          if (r !== undefined) failed = true;
          else expect(failed).toBe(false);
        }
      }),
      runs,
    );
  });

  it('LibhiplStreamDecoder on any chunking of any bytes, then flush', () => {
    fc.assert(
      fc.property(fc.oneof(chunks, framedChunks), (parts) => {
        const dec = new LibhiplStreamDecoder();
        const sink = (_kind: string, bytes: Uint8Array) => expect(bytes).toBeInstanceOf(Uint8Array);
        for (const p of parts) valueOrTypedError(() => dec.push(p, sink));
        valueOrTypedError(() => dec.flush(sink));
        expect(dec.buffered).toBe(0);
      }),
      runs,
    );
  });

  it('the UDP/TCP demultiplexing helpers at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(70), (b, off) => {
        valueOrTypedError(() => hasZeroMarker(b, off));
        valueOrTypedError(() => announcedHipLength(b, off));
        valueOrTypedError(() => isMarkedHipDatagram(b));
      }),
      runs,
    );
  });
});
