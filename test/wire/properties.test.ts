/**
 * Property tests: arbitrary valid packets survive emit -> parse -> emit unchanged, and arbitrary
 * damage to valid packets never produces anything but a HipWireError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { HipWireError } from '../../src/errors.js';
import {
  PacketType,
  ParamType,
  authenticatedBytes,
  emitPacket,
  isSingleParamType,
  findTlv,
  parsePacket,
  type HipPacket,
  type HipParam,
  type HipVersion,
} from '../../src/wire/index.js';
import { plain } from './wire-helpers.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const fixed = (n: number) => bytes(n, n);
const list = <T>(a: fc.Arbitrary<T>, min = 0, max = 6) => fc.array(a, { minLength: min, maxLength: max });
const addrParam = (type: 950 | 4650 | 4660 | 63998 | 64002) =>
  fc.record({ type: fc.constant(type), port: u16, protocol: u8, reserved: u8, address: fixed(16) });

function paramArb(version: HipVersion): fc.Arbitrary<HipParam> {
  const puzzleLen = version === 1 ? fc.constant(8) : fc.constantFrom(20, 32, 48);
  const arbs: fc.Arbitrary<HipParam>[] = [
    fc.record({ type: fc.constant(65 as const), reserved: u16, keymatIndex: u16, oldSpi: u32, newSpi: u32 }),
    fc.record({ type: fc.constantFrom(128 as const, 129 as const), reserved: u32, counter: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({
      type: fc.constant(193 as const),
      locators: list(
        fc.record({
          trafficType: u8,
          locatorType: u8,
          preferred: fc.boolean(),
          reserved: fc.integer({ min: 0, max: 127 }),
          lifetime: u32,
          value: fc.integer({ min: 0, max: 8 }).chain((w) => fixed(4 * w)),
        })
        // A 16-byte type 1 record reads back as HIPL's 20-byte form, so the emitter refuses it.
        .filter((l) => l.locatorType !== 1 || l.value.length !== 16),
        0,
        3,
      ),
    }),
    puzzleLen.chain((n) => fc.record({ type: fc.constant(257 as const), k: u8, lifetime: u8, opaque: u16, i: fixed(n) })),
    puzzleLen.chain((n) =>
      fc.record({ type: fc.constant(321 as const), k: u8, reserved: u8, opaque: u16, i: fixed(n), j: fixed(n) }),
    ),
    fc.record({ type: fc.constant(385 as const), updateId: u32 }),
    fc.record({ type: fc.constant(449 as const), updateIds: list(u32, 1, 4) }),
    fc.record({ type: fc.constant(511 as const), groups: list(u8) }),
    fc.record({
      type: fc.constant(513 as const),
      values: list(fc.record({ group: u8, publicValue: bytes(0, 70) }), 1, version === 1 ? 2 : 1),
    }),
    fc.record({ type: fc.constant(577 as const), suites: list(u16) }),
    fc.record({ type: fc.constant(579 as const), ciphers: list(u16) }),
    fc.record({ type: fc.constant(608 as const), reserved: u16, modes: list(u16) }),
    fc.record({ type: fc.constant(610 as const), minTa: u32 }),
    fc.record({ type: fc.constant(641 as const), reserved: u32, data: bytes(0, 40) }),
    fc.record(
      {
        type: fc.constant(705 as const),
        algorithm: version === 1 ? u8 : u16,
        hostIdentity: bytes(0, 80),
        diType: fc.integer({ min: 0, max: 15 }),
        di: bytes(0, 20),
        ...(version === 1 ? { v1Rdata: fc.record({ flags: u16, protocol: u8 }) } : {}),
      },
    ) as fc.Arbitrary<HipParam>, // v1: parsing always fills v1Rdata, so always generate it
    fc.record({ type: fc.constant(715 as const), suites: list(u8) }),
    fc.record({ type: fc.constant(832 as const), reserved: u16, notifyType: u16, data: bytes(0, 20) }),
    fc.record({ type: fc.constantFrom(897 as const, 961 as const, 63425 as const, 63661 as const), opaque: bytes(0, 20) }),
    fc.record({ type: fc.constant(930 as const), minLifetime: u8, maxLifetime: u8, regTypes: list(u8) }),
    fc.record({ type: fc.constantFrom(932 as const, 934 as const), lifetime: u8, regTypes: list(u8) }),
    fc.record({ type: fc.constant(936 as const), failureType: u8, regTypes: list(u8) }),
    addrParam(950),
    addrParam(4650),
    addrParam(4660),
    addrParam(63998),
    addrParam(64002),
    fc.record({ type: fc.constant(2049 as const), formats: list(u16) }),
    fc.record({ type: fc.constant(4095 as const), reserved: u16, suites: list(u16) }),
    fc.record({ type: fc.constant(4700 as const), priority: u32 }),
    fc.record({ type: fc.constantFrom(61505 as const, 61569 as const, 65500 as const, 65520 as const), mac: bytes(0, 48) }),
    fc.record({ type: fc.constantFrom(61633 as const, 61697 as const), algorithm: version === 1 ? u8 : u16, signature: bytes(0, 64) }),
    fc.record({ type: fc.constant(65498 as const), address: fixed(16) }),
    fc.record({ type: fc.constant(65502 as const), addresses: list(fixed(16), 0, 3) }),
    // Raw: non-critical unknown or unmodelled types.
    fc
      .record({ type: fc.integer({ min: 0, max: 0x7fff }).map((t) => t * 2), contents: bytes(0, 30) })
      .filter((p) => !(Object.values(ParamType) as number[]).includes(p.type) || [768, 4680, 4710].includes(p.type))
      .map((p) => ({ ...p, raw: true as const })),
  ];
  return fc.oneof(...arbs);
}

function packetArb(version: HipVersion): fc.Arbitrary<HipPacket> {
  return fc
    .record({
      type: fc.constantFrom(...Object.values(PacketType)),
      controls: u16,
      headerReserved: fc.integer({ min: 0, max: 7 }),
      senderHit: fixed(16),
      receiverHit: fixed(16),
      params: list(paramArb(version), 0, 8),
    })
    .map((r) => ({
      version,
      checksum: 0,
      ...r,
      // Ascending type order satisfies both the v2 rule and the v1 one. Stable sort keeps
      // repeats adjacent.
      params: [...r.params]
        .sort((a, b) => a.type - b.type)
        .filter((p, i, all) => !isSingleParamType(p.type) || all[i - 1]?.type !== p.type),
    }));
}

const anyPacket = fc.constantFrom<HipVersion>(1, 2).chain(packetArb);

function emitOrSkip(p: HipPacket): Uint8Array | undefined {
  try {
    return emitPacket(p);
  } catch (e) {
    if (e instanceof HipWireError && e.code === 'ERR_HIP_PACKET_TOO_LONG') return undefined;
    throw e;
  }
}

/** Drop `headerReserved: 0`, which the parser leaves out. */
function normal(p: HipPacket): unknown {
  const { headerReserved, ...rest } = p;
  return plain(headerReserved ? { ...rest, headerReserved } : rest);
}

describe('properties', () => {
  it('valid packets survive emit -> parse -> emit unchanged, and parse gives the value back', () => {
    fc.assert(
      fc.property(anyPacket, (p) => {
        const b = emitOrSkip(p);
        if (b === undefined) return;
        const parsed = parsePacket(b);
        expect(normal(parsed)).toEqual(normal(p));
        expect(bytesToHex(emitPacket(parsed))).toBe(bytesToHex(b));
      }),
      { numRuns: 400 },
    );
  });

  it('with addresses, the emitted checksum verifies and survives a round trip', () => {
    fc.assert(
      fc.property(anyPacket, fc.constantFrom(4, 16), fc.uint8Array({ minLength: 32, maxLength: 32 }), (p, n, ab) => {
        const src = ab.subarray(0, n);
        const dst = ab.subarray(16, 16 + n);
        let b: Uint8Array;
        try {
          b = emitPacket(p, { checksum: { src, dst } });
        } catch (e) {
          if (e instanceof HipWireError && e.code === 'ERR_HIP_PACKET_TOO_LONG') return;
          throw e;
        }
        const parsed = parsePacket(b);
        expect(bytesToHex(emitPacket(parsed, { checksum: { src, dst } }))).toBe(bytesToHex(b));
      }),
      { numRuns: 150 },
    );
  });

  /** Apply a damage recipe to a copy of `b`. */
  const damage = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), edits: fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('extend' as const), extra: bytes(1, 24) }),
  );
  function applyDamage(b: Uint8Array, d: { kind: string; edits?: [number, number][]; at?: number; extra?: Uint8Array }): Uint8Array {
    if (d.kind === 'flip') {
      const c = b.slice();
      for (const [i, v] of d.edits!) c[i % c.length] = v;
      return c;
    }
    if (d.kind === 'truncate') return b.slice(0, d.at! % (b.length + 1));
    const c = new Uint8Array(b.length + d.extra!.length);
    c.set(b);
    c.set(d.extra!, b.length);
    return c;
  }

  function onlyWireErrors(fn: () => unknown): unknown {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof HipWireError)) throw e;
      expect(typeof e.code).toBe('string');
      expect(e.code.startsWith('ERR_HIP_')).toBe(true);
      return undefined;
    }
  }

  it('damaged packets only ever throw HipWireError; whatever parses re-emits exactly', () => {
    fc.assert(
      fc.property(anyPacket, damage, (p, d) => {
        const good = emitOrSkip(p);
        if (good === undefined) return;
        const bad = applyDamage(good, d);
        const parsed = onlyWireErrors(() => parsePacket(bad)) as HipPacket | undefined;
        if (parsed !== undefined) {
          const expected = bad.slice();
          expected[4] = 0; // the emitter writes checksum 0 without addresses
          expected[5] = 0;
          expect(bytesToHex(emitPacket(parsed))).toBe(bytesToHex(expected));
        }
        const lenient = onlyWireErrors(() => parsePacket(bad, { lenient: true })) as HipPacket | undefined;
        if (lenient !== undefined) {
          const expected = bad.slice();
          expected[4] = 0;
          expected[5] = 0;
          expect(bytesToHex(emitPacket(lenient, { checkOrder: false }))).toBe(bytesToHex(expected));
        }
        onlyWireErrors(() => findTlv(bad, ParamType.HOST_ID));
        onlyWireErrors(() => authenticatedBytes(bad, ParamType.HIP_SIGNATURE_2));
        onlyWireErrors(() => authenticatedBytes(bad, ParamType.HIP_MAC_2, { responderHostIdTlv: new Uint8Array(8) }));
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes with a plausible header only ever throw HipWireError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 40 }), fc.constantFrom(0x11, 0x21), u8, bytes(0, 320), (hl, b3, type, body) => {
        const b = new Uint8Array((hl + 1) * 8);
        b[0] = 59;
        b[1] = hl;
        b[2] = type & 0x1f;
        b[3] = b3;
        b.set(body.subarray(0, b.length - 40), 40);
        onlyWireErrors(() => parsePacket(b));
        onlyWireErrors(() => parsePacket(b, { lenient: true }));
      }),
      { numRuns: 1000 },
    );
  });
});
