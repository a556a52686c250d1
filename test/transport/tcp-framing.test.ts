import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HipArgumentError } from '../../src/errors.js';
import {
  HipTransportError,
  HiplFrameDecoder,
  LibhiplStreamDecoder,
  encodeHiplHip,
  encodeHiplPayload,
  type RecordKind,
} from '../../src/transport/index.js';
import { captureRawIp, captureSegments } from '../helpers/transport-captures.js';

type Rec = [RecordKind, string];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const u16 = (n: number): Uint8Array => new Uint8Array([n >> 8, n & 0xff]);
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const MARKER = new Uint8Array(4);

/** Real packets: libhipl v1 HIP packets, CuteHIP v2 HIP packets and ESP packets. */
const libhiplUdp = captureSegments('libhipl-v1-udp-bex.pcap');
const v1Hip = libhiplUdp.filter((s) => s.payload[0] === 0 && s.payload.length >= 44).map((s) => s.payload.subarray(4));
const cute = captureRawIp('cutehip-v2-rawip-bex.pcap');

/** hipl frames built by hand from the definition (length includes itself), not by the encoder. */
function handFrame(kind: RecordKind, bytes: Uint8Array): Uint8Array {
  const body = kind === 'hip' ? cat(MARKER, bytes) : bytes;
  return cat(u16(body.length + 2), body);
}

function decodeHipl(chunks: Uint8Array[]): Rec[] {
  const dec = new HiplFrameDecoder();
  const out: Rec[] = [];
  for (const c of chunks) dec.push(c, (k, b) => out.push([k, hex(b)]));
  expect(dec.buffered).toBe(0);
  return out;
}

const records: Array<[RecordKind, Uint8Array]> = [
  ['hip', v1Hip[0]!],
  ['payload', cute.esp[0]!],
  ['hip', cute.hip[0]!],
  ['payload', cute.esp[1] ?? cute.esp[0]!],
  ['hip', v1Hip[3]!],
];
const expected: Rec[] = records.map(([k, b]) => [k, hex(b)]);
const stream = cat(...records.map(([k, b]) => handFrame(k, b)));

describe('hipl frame encoders', () => {
  it('encodeHiplHip: 16-bit length counting itself, zero marker, packet', () => {
    const p = v1Hip[2]!;
    const f = encodeHiplHip(p);
    expect(hex(f)).toBe(hex(handFrame('hip', p)));
    expect(f.readUInt16BE(0)).toBe(2 + 4 + p.length);
  });

  it('encodeHiplPayload: length + ESP packet', () => {
    const e = cute.esp[0]!;
    expect(hex(encodeHiplPayload(e))).toBe(hex(handFrame('payload', e)));
  });

  it('refuses frames over 65535 bytes with ERR_TRANSPORT_TOO_LARGE, accepts exactly 65535', () => {
    expect(encodeHiplPayload(new Uint8Array(65533).fill(1)).length).toBe(65535);
    expect(encodeHiplHip(new Uint8Array(65529)).length).toBe(65535);
    for (const f of [() => encodeHiplPayload(new Uint8Array(65534).fill(1)), () => encodeHiplHip(new Uint8Array(65530))]) {
      expect(f).toThrow(HipTransportError);
      try {
        f();
      } catch (e) {
        expect((e as HipTransportError).code).toBe('ERR_TRANSPORT_TOO_LARGE');
      }
    }
  });

  it('refuses payloads the receiver could not tell from a bad frame or a HIP packet', () => {
    for (const b of [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(20)]) {
      expect(() => encodeHiplPayload(b)).toThrow(HipArgumentError);
    }
  });
});

describe('HiplFrameDecoder', () => {
  it('decodes the stream in one chunk (coalesced frames)', () => {
    expect(decodeHipl([stream])).toEqual(expected);
  });

  it('decodes the stream split at every possible byte boundary', () => {
    for (let k = 1; k < stream.length; k++) {
      expect(decodeHipl([stream.subarray(0, k), stream.subarray(k)]), `split at ${k}`).toEqual(expected);
    }
  });

  it('decodes the stream one byte at a time', () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    expect(decodeHipl(chunks)).toEqual(expected);
  });

  it('property: any partition of the stream gives the same records', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        const pts = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const chunks = pts.slice(1).map((end, i) => stream.subarray(pts[i]!, end));
        expect(decodeHipl(chunks)).toEqual(expected);
      }),
    );
  });

  it('hands out frames that sit inside one chunk without copying', () => {
    const dec = new HiplFrameDecoder();
    const got: Uint8Array[] = [];
    dec.push(stream, (_k, b) => got.push(b));
    expect(got[0]!.buffer).toBe(stream.buffer);
  });

  it('smallest frames: length 6 with marker only (hip, empty) or a 4-byte SPI (payload)', () => {
    const out = decodeHipl([new Uint8Array([0, 6, 0, 0, 0, 0, 0, 6, 0, 0, 0, 9])]);
    expect(out).toEqual([
      ['hip', ''],
      ['payload', '00000009'],
    ]);
  });

  for (const bad of [0, 1, 2, 3, 4, 5]) {
    it(`length ${bad} is a framing error, after the frames before it were delivered`, () => {
      const dec = new HiplFrameDecoder();
      const out: Rec[] = [];
      const chunk = cat(handFrame('hip', v1Hip[0]!), u16(bad), new Uint8Array(10));
      let err: unknown;
      try {
        dec.push(chunk, (k, b) => out.push([k, hex(b)]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HipTransportError);
      expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_FRAMING');
      expect((err as HipTransportError).details).toMatchObject({ length: bad });
      expect(out).toEqual([['hip', hex(v1Hip[0]!)]]);
      // The stream has no framing left: further input is refused, not guessed at.
      expect(() => dec.push(handFrame('hip', v1Hip[0]!), () => {})).toThrow(HipTransportError);
    });
  }

  it('a bad length split across chunks is caught too', () => {
    const dec = new HiplFrameDecoder();
    dec.push(new Uint8Array([0]), () => {});
    expect(() => dec.push(new Uint8Array([3, 1, 2, 3]), () => {})).toThrow(/below the minimum/);
  });

  it('property: random garbage never crashes; it yields records or a typed framing error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const dec = new HiplFrameDecoder();
        try {
          for (const c of chunks) dec.push(c, () => {});
        } catch (e) {
          return e instanceof HipTransportError && e.code === 'ERR_TRANSPORT_FRAMING';
        }
        return true;
      }),
    );
  });
});

describe('LibhiplStreamDecoder', () => {
  const decode = (chunks: Uint8Array[]): { out: Rec[]; held: boolean[] } => {
    const dec = new LibhiplStreamDecoder();
    const out: Rec[] = [];
    const held = chunks.map((c) => dec.push(c, (k, b) => out.push([k, hex(b)])));
    return { out, held };
  };

  it('splits the captured libhipl TCP stream (check_libhipl, both directions) as libhipl sent it', () => {
    const tcp = captureSegments('libhipl-v1-check_libhipl-udp-tcp.pcap').filter((s) => s.proto === 'tcp');
    expect(tcp.length).toBe(6);
    for (const port of [22345, 22300]) {
      const segs = tcp.filter((s) => s.srcPort === port).map((s) => s.payload);
      const { out, held } = decode(segs);
      expect(held.every((h) => !h)).toBe(true);
      const want: Rec[] = segs.map((s) =>
        s[0] === 0 ? ['hip', hex(s.subarray(4))] : ['payload', hex(s)],
      );
      expect(out).toEqual(want);
      expect(out.some(([k, b]) => k === 'payload' && Buffer.from(b, 'hex').toString() === 'Hello Sailor!')).toBe(
        port === 22345,
      );
    }
  });

  it('reassembles a control message cut at every possible boundary', () => {
    const msg = cat(MARKER, v1Hip[2]!); // the 608-byte I2
    for (let k = 1; k < msg.length; k++) {
      const { out, held } = decode([msg.subarray(0, k), msg.subarray(k)]);
      expect(held, `cut at ${k}`).toEqual([true, false]);
      expect(out).toEqual([['hip', hex(v1Hip[2]!)]]);
    }
  });

  it('passes data that merely starts like a control message on at flush', () => {
    const dec = new LibhiplStreamDecoder();
    const out: Rec[] = [];
    const sink = (k: RecordKind, b: Uint8Array): void => void out.push([k, hex(b)]);
    expect(dec.push(new Uint8Array([0, 0, 0, 0, 59, 9]), sink)).toBe(true);
    expect(dec.buffered).toBe(6);
    expect(out).toEqual([]);
    dec.flush(sink);
    expect(out).toEqual([['payload', '000000003b09']]);
    expect(dec.buffered).toBe(0);
  });

  it('a control message followed by data in one chunk gives both; data first gives one data chunk', () => {
    const ctl = cat(MARKER, v1Hip[0]!);
    const data = new TextEncoder().encode('Hello Sailor!');
    expect(decode([cat(ctl, data)]).out).toEqual([
      ['hip', hex(v1Hip[0]!)],
      ['payload', hex(data)],
    ]);
    expect(decode([cat(ctl, ctl)]).out).toEqual([
      ['hip', hex(v1Hip[0]!)],
      ['hip', hex(v1Hip[0]!)],
    ]);
    // As libhipl itself would: a read that begins with data is data, whole.
    expect(decode([cat(data, ctl)]).out).toEqual([['payload', hex(cat(data, ctl))]]);
  });

  it('zero-led data that cannot be HIP is passed on at once', () => {
    const cases = [
      cat(MARKER, new Uint8Array([58]), new Uint8Array(50)), // Next Header not 59
      cat(MARKER, new Uint8Array([59, 3]), new Uint8Array(50)), // HdrLen under the fixed header
      (() => {
        const b = cat(MARKER, v1Hip[0]!);
        b[7] = 0x31; // version 3
        return b;
      })(),
      new Uint8Array([0, 0, 0, 1, 2]),
    ];
    for (const c of cases) expect(decode([c])).toEqual({ out: [['payload', hex(c)]], held: [false] });
  });

  it('property: whatever the chunks, the bytes come out complete and in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant(cat(MARKER, v1Hip[0]!)),
            fc.constant(new Uint8Array([0, 0, 0, 0, 59])),
            fc.uint8Array({ minLength: 1, maxLength: 100 }),
          ),
          { maxLength: 10 },
        ),
        (chunks) => {
          const dec = new LibhiplStreamDecoder();
          const parts: Uint8Array[] = [];
          const sink = (k: RecordKind, b: Uint8Array): void => void parts.push(k === 'hip' ? cat(MARKER, b) : b);
          for (const c of chunks) dec.push(c, sink);
          dec.flush(sink);
          expect(hex(cat(...parts))).toBe(hex(cat(...chunks)));
        },
      ),
    );
  });
});
