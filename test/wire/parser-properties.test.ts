// Every parser of src/wire against arbitrary bytes (issue 8): a value or a typed HipError with an
// ERR_* code, never another exception. Random bytes alone rarely get past a length check, so
// each property also builds inputs whose outer framing is right and whose inside is random.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  authenticatedBytes,
  decodeFrameIp,
  decodeLocatorValue,
  extractEspPackets,
  extractHipPackets,
  listTlvs,
  parseHeader,
  parsePacket,
  parseParamAt,
  ParamType,
  PcapLinkType,
  readCapture,
  readTlvSpan,
  type CapturedFrame,
} from '../../src/wire/index.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { FUZZ_RUNS, valueOrTypedError } from '../helpers/typed-errors.js';

const runs = { numRuns: FUZZ_RUNS };
const anyBytes = fc.uint8Array({ maxLength: 300 });
const version = fc.constantFrom(1 as const, 2 as const);

/** A HIP header whose length and version fields fit the random parameters behind it. */
const framedPacket = fc
  .record({ params: fc.uint8Array({ maxLength: 240 }), type: fc.integer({ min: 0, max: 127 }), v: version, tail: fc.boolean() })
  .map(({ params, type, v, tail }) => {
    const body = tail ? params.subarray(0, params.length - (params.length % 8)) : params;
    const out = new Uint8Array(40 + body.length);
    out[0] = 59;
    out[1] = (40 + body.length) / 8 - 1;
    out[2] = type;
    out[3] = (v << 4) | 1;
    out.set(body, 40);
    return out;
  });

/** A packet made of TLVs with real parameter types and random contents of the right padding. */
const tlvPacket = fc
  .record({
    v: version,
    type: fc.integer({ min: 1, max: 20 }),
    tlvs: fc.array(
      fc.record({
        t: fc.oneof(fc.constantFrom(...Object.values(ParamType)), fc.integer({ min: 0, max: 0xffff })),
        c: fc.uint8Array({ maxLength: 60 }),
      }),
      { maxLength: 5 },
    ),
  })
  .map(({ v, type, tlvs }) => {
    const sorted = [...tlvs].sort((x, y) => x.t - y.t);
    const parts = sorted.map(({ t, c }) => {
      const size = (4 + c.length + 7) & ~7;
      const b = new Uint8Array(size);
      b[0] = t >> 8;
      b[1] = t & 255;
      b[2] = c.length >> 8;
      b[3] = c.length & 255;
      b.set(c, 4);
      return b;
    });
    const len = 40 + parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(len);
    out[0] = 59;
    out[1] = len / 8 - 1;
    out[2] = type;
    out[3] = (v << 4) | 1;
    let off = 40;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return { v, bytes: out };
  });

describe('wire parsers: a value or a typed error, never another exception', () => {
  it('parseHeader and parsePacket (strict and lenient) on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, framedPacket), fc.boolean(), (b, lenient) => {
        valueOrTypedError(() => parseHeader(b));
        valueOrTypedError(() => parsePacket(b, { lenient }));
      }),
      runs,
    );
  });

  it('parsePacket on packets of real parameter types with random contents', () => {
    fc.assert(
      fc.property(tlvPacket, fc.boolean(), ({ bytes }, lenient) => {
        valueOrTypedError(() => parsePacket(bytes, { lenient }));
        valueOrTypedError(() => listTlvs(bytes));
      }),
      runs,
    );
  });

  it('every parameter codec, both versions, on contents of any length', () => {
    const types = [...new Set(Object.values(ParamType))];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 120 }), version, fc.boolean(), (type, contents, v, lenient) => {
        const size = (4 + contents.length + 7) & ~7;
        const tlv = new Uint8Array(size);
        const dv = new DataView(tlv.buffer);
        dv.setUint16(0, type);
        dv.setUint16(2, contents.length);
        tlv.set(contents, 4);
        valueOrTypedError(() => parseParamAt(tlv, dv, 0, type, contents.length, v, lenient));
      }),
      { numRuns: FUZZ_RUNS * 4 },
    );
  });

  it('readTlvSpan at any offset and limit', () => {
    fc.assert(
      fc.property(anyBytes, fc.nat(320), fc.nat(320), (b, offset, limit) => {
        valueOrTypedError(() => readTlvSpan(b, offset, limit));
      }),
      runs,
    );
  });

  it('authenticatedBytes of arbitrary packets for every signed or MACed parameter', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyBytes, framedPacket, tlvPacket.map((p) => p.bytes)),
        fc.constantFrom(ParamType.HIP_MAC, ParamType.HIP_MAC_2, ParamType.HIP_SIGNATURE, ParamType.HIP_SIGNATURE_2, 1),
        (b, t) => {
          valueOrTypedError(() => authenticatedBytes(b, t));
        },
      ),
      runs,
    );
  });

  it('decodeLocatorValue for any locator type and value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }), (locatorType, value) => {
        valueOrTypedError(() => decodeLocatorValue({ locatorType, value }));
      }),
      runs,
    );
  });

  const pcapMagic = fc.constantFrom(
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0x0a, 0x0d, 0x0d, 0x0a],
  );
  it('readCapture on random files that start with a pcap or pcapng magic', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, fc.tuple(pcapMagic, anyBytes).map(([m, b]) => Uint8Array.from([...m, ...b]))), (b) => {
        valueOrTypedError(() => readCapture(b));
      }),
      runs,
    );
  });

  it('readCapture, decodeFrameIp and the extractors on damaged real captures', () => {
    const files = ['libhipl-v1-udp-bex.pcap', 'cutehip-v2-rawip-bex.pcap', 'hipd-v1-nat-udp-bex-esp.pcap'].map(
      (f) => new Uint8Array(readFileSync(`${CAPTURES_DIR}/${f}`)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 6 }),
        fc.nat(),
        (file, flips, cut) => {
          const b = file.slice(0, file.length - (cut % 64));
          for (const f of flips) b[f.at % b.length]! ^= f.xor;
          const frames = valueOrTypedError(() => readCapture(b));
          if (!Array.isArray(frames)) return;
          for (const fr of frames) valueOrTypedError(() => decodeFrameIp(fr));
          valueOrTypedError(() => extractHipPackets(frames));
          valueOrTypedError(() => extractEspPackets(frames));
        },
      ),
      { numRuns: FUZZ_RUNS / 2 },
    );
  });

  it('decodeFrameIp and the extractors on random frames of every link type', () => {
    const linkTypes = [...Object.values(PcapLinkType), 0xffff];
    const frame = fc.record({
      index: fc.nat(10),
      timestampNs: fc.constant(0n),
      linkType: fc.constantFrom(...linkTypes),
      // Start most frames like IPv4 / IPv6 so the IP and transport decoders are reached.
      data: fc.oneof(
        anyBytes,
        fc.tuple(fc.constantFrom(0x45, 0x46, 0x60), fc.constantFrom(17, 6, 50, 139, 0, 44, 51), anyBytes).map(([v, proto, b]) => {
          const out = Uint8Array.from([v, ...b]);
          if (v === 0x60 && out.length > 6) out[6] = proto;
          if (v !== 0x60 && out.length > 9) out[9] = proto;
          return out;
        }),
      ),
    });
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 6 }), (frames: CapturedFrame[]) => {
        for (const fr of frames) valueOrTypedError(() => decodeFrameIp(fr));
        valueOrTypedError(() => extractHipPackets(frames));
        valueOrTypedError(() => extractEspPackets(frames));
      }),
      runs,
    );
  });
});
