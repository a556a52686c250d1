/**
 * Parameter layouts: contents bytes <-> typed parameter values, for HIPv2 and, where the layout
 * differs, HIPv1 (libhipl). One codec per parameter type, found through a lookup table built
 * once at load time.
 *
 * Parsed byte fields are views into the input (no copies).
 * @module
 */
import { HipWireError } from '../errors.js';
import { ParamType, paramTypeName } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';
import { badParamField, checkBytes, checkUint, checkUintList } from './field-checks.js';
import { tlvSize } from './tlv.js';
import type {
  AckParam,
  AddressParam,
  CandidatePriorityParam,
  DhGroupListParam,
  DiffieHellmanParam,
  EchoParam,
  EncryptedParam,
  EspInfoParam,
  EspTransformParam,
  FromParam,
  HipCipherParam,
  HipParam,
  HipTransformParam,
  HipVersion,
  HitSuiteListParam,
  HostIdParam,
  LocatorSetParam,
  MacParam,
  NatTraversalModeParam,
  NotificationParam,
  PuzzleParam,
  R1CounterParam,
  RawParam,
  RegFailedParam,
  RegInfoParam,
  RegRequestParam,
  SeqParam,
  SignatureParam,
  SolutionParam,
  TransactionPacingParam,
  TransportFormatListParam,
  ViaRvsParam,
} from './types.js';
import { isRawParam } from './types.js';

/** A window on a parameter's contents inside a packet buffer. */
interface Contents {
  type: number;
  bytes: Uint8Array;
  dv: DataView;
  /** Offset of the first contents byte in `bytes`. */
  off: number;
  /** The TLV Length field. */
  len: number;
}

/** A write position inside the output buffer. */
interface Out {
  bytes: Uint8Array;
  dv: DataView;
  off: number;
}

interface Codec<P extends HipParam> {
  parse(c: Contents, version: HipVersion): P;
  /** Contents length of `p`; also validates every field so `write` cannot fail. */
  size(p: P, version: HipVersion): number;
  write(p: P, version: HipVersion, o: Out): void;
}

/** Byte lengths of #I (and #J) in HIPv2: RHASH_len/8 for SHA-1, SHA-256, SHA-384. */
const V2_PUZZLE_LENGTHS: ReadonlySet<number> = new Set([20, 32, 48]);
const V1_PUZZLE_LENGTH = 8;

function lengthError(c: { type: number; len?: number }, why: string): never {
  throw wireError(
    WireErrorCode.PARAM_LENGTH,
    `${paramTypeName(c.type)} (type ${c.type}): ${why}`,
    { paramType: c.type, length: c.len },
  );
}

function exactLength(c: Contents, n: number): void {
  if (c.len !== n) lengthError(c, `length ${c.len}, expected ${n}`);
}

function minLength(c: Contents, n: number): void {
  if (c.len < n) lengthError(c, `length ${c.len}, expected at least ${n}`);
}

function multipleOf(c: Contents, base: number, unit: number): void {
  if (c.len < base || (c.len - base) % unit !== 0) {
    lengthError(c, `length ${c.len}, expected ${base} + a multiple of ${unit}`);
  }
}

function view(c: Contents, from: number, to: number): Uint8Array {
  return c.bytes.subarray(c.off + from, c.off + to);
}

function readU8List(c: Contents, from: number): number[] {
  const out = new Array<number>(c.len - from);
  for (let i = from; i < c.len; i++) out[i - from] = c.bytes[c.off + i]!;
  return out;
}

function readU16List(c: Contents, from: number): number[] {
  const n = (c.len - from) / 2;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = c.dv.getUint16(c.off + from + 2 * i);
  return out;
}

function writeU8List(o: Out, list: readonly number[]): void {
  for (const v of list) o.bytes[o.off++] = v;
}

function writeU16List(o: Out, list: readonly number[]): void {
  for (const v of list) {
    o.dv.setUint16(o.off, v);
    o.off += 2;
  }
}

function writeBytes(o: Out, b: Uint8Array): void {
  o.bytes.set(b, o.off);
  o.off += b.length;
}

function u8(o: Out, v: number): void {
  o.bytes[o.off++] = v;
}

function u16(o: Out, v: number): void {
  o.dv.setUint16(o.off, v);
  o.off += 2;
}

function u32(o: Out, v: number): void {
  o.dv.setUint32(o.off, v);
  o.off += 4;
}

// ---------------------------------------------------------------------------------------------
// Codecs

const espInfo: Codec<EspInfoParam> = {
  parse(c) {
    exactLength(c, 12);
    return {
      type: 65,
      reserved: c.dv.getUint16(c.off),
      keymatIndex: c.dv.getUint16(c.off + 2),
      oldSpi: c.dv.getUint32(c.off + 4),
      newSpi: c.dv.getUint32(c.off + 8),
    };
  },
  size(p) {
    checkUint(p.type, 'reserved', p.reserved, 16);
    checkUint(p.type, 'keymatIndex', p.keymatIndex, 16);
    checkUint(p.type, 'oldSpi', p.oldSpi, 32);
    checkUint(p.type, 'newSpi', p.newSpi, 32);
    return 12;
  },
  write(p, _v, o) {
    u16(o, p.reserved);
    u16(o, p.keymatIndex);
    u32(o, p.oldSpi);
    u32(o, p.newSpi);
  },
};

const r1Counter: Codec<R1CounterParam> = {
  parse(c) {
    exactLength(c, 12);
    return {
      type: c.type as 128 | 129,
      reserved: c.dv.getUint32(c.off),
      counter: c.dv.getBigUint64(c.off + 4),
    };
  },
  size(p) {
    checkUint(p.type, 'reserved', p.reserved, 32);
    if (typeof p.counter !== 'bigint' || p.counter < 0n || p.counter > 0xffffffffffffffffn) {
      badParamField(p.type, 'counter', String(p.counter), 'must be a bigint in 0..2^64-1');
    }
    return 12;
  },
  write(p, _v, o) {
    u32(o, p.reserved);
    o.dv.setBigUint64(o.off, p.counter);
    o.off += 8;
  },
};

const locatorSet: Codec<LocatorSetParam> = {
  parse(c) {
    const locators: LocatorSetParam['locators'] = [];
    let pos = 0;
    while (pos < c.len) {
      if (pos + 8 > c.len) lengthError(c, `locator record at ${pos} is cut short`);
      const b = c.off + pos;
      const lengthField = c.bytes[b + 2]!;
      // HIPL (hipd) writes Locator Length 4 for type 1 and reads records by type, so its
      // SPI + address record is 20 bytes whatever the field says (RFC 5206 would say 5).
      const hiplType1 = c.bytes[b + 1] === 1 && lengthField === 4;
      const valueLength = hiplType1 ? 20 : lengthField * 4;
      if (pos + 8 + valueLength > c.len) {
        lengthError(c, `locator of ${valueLength} bytes at ${pos} runs past the parameter`);
      }
      const flags = c.bytes[b + 3]!;
      locators.push({
        trafficType: c.bytes[b]!,
        locatorType: c.bytes[b + 1]!,
        preferred: (flags & 1) === 1,
        reserved: flags >> 1,
        lifetime: c.dv.getUint32(b + 4),
        value: c.bytes.subarray(b + 8, b + 8 + valueLength),
        ...(hiplType1 ? { lengthField } : {}),
      });
      pos += 8 + valueLength;
    }
    return { type: 193, locators };
  },
  size(p) {
    if (!Array.isArray(p.locators)) badParamField(p.type, 'locators', typeof p.locators, 'must be an array');
    let n = 0;
    p.locators.forEach((l, i) => {
      checkUint(p.type, `locators[${i}].trafficType`, l.trafficType, 8);
      checkUint(p.type, `locators[${i}].locatorType`, l.locatorType, 8);
      checkUint(p.type, `locators[${i}].reserved`, l.reserved, 7);
      checkUint(p.type, `locators[${i}].lifetime`, l.lifetime, 32);
      const v = checkBytes(p.type, `locators[${i}].value`, l.value);
      if (v.length % 4 !== 0 || v.length > 255 * 4) {
        badParamField(p.type, `locators[${i}].value`, v.length, 'length must be a multiple of 4, at most 1020');
      }
      if (l.lengthField !== undefined && (l.lengthField !== 4 || l.locatorType !== 1 || v.length !== 20)) {
        badParamField(p.type, `locators[${i}].lengthField`, l.lengthField, "only HIPL's type 1 form (4 before 20 bytes) is kept");
      }
      // A type 1 record of 16 bytes carries Locator Length 4, which the parser must read as
      // HIPL's 20-byte form: such a record could not be read back as written.
      if (l.lengthField === undefined && l.locatorType === 1 && v.length === 16) {
        badParamField(p.type, `locators[${i}].value`, v.length, 'a type 1 locator (ESP SPI + address) is 20 bytes');
      }
      n += 8 + v.length;
    });
    return n;
  },
  write(p, _v, o) {
    for (const l of p.locators) {
      u8(o, l.trafficType);
      u8(o, l.locatorType);
      u8(o, l.lengthField ?? l.value.length / 4);
      u8(o, (l.reserved << 1) | (l.preferred ? 1 : 0));
      u32(o, l.lifetime);
      writeBytes(o, l.value);
    }
  },
};

function checkPuzzleLength(type: number, field: string, len: number, version: HipVersion): void {
  const ok = version === 1 ? len === V1_PUZZLE_LENGTH : V2_PUZZLE_LENGTHS.has(len);
  if (!ok) {
    badParamField(type, field, len, version === 1 ? 'must be 8 bytes in HIPv1' : 'must be 20, 32 or 48 bytes in HIPv2');
  }
}

const puzzle: Codec<PuzzleParam> = {
  parse(c, version) {
    if (version === 1) exactLength(c, 4 + V1_PUZZLE_LENGTH);
    else if (!V2_PUZZLE_LENGTHS.has(c.len - 4)) lengthError(c, `length ${c.len}, expected 24, 36 or 52`);
    return {
      type: 257,
      k: c.bytes[c.off]!,
      lifetime: c.bytes[c.off + 1]!,
      opaque: c.dv.getUint16(c.off + 2),
      i: view(c, 4, c.len),
    };
  },
  size(p, version) {
    checkUint(p.type, 'k', p.k, 8);
    checkUint(p.type, 'lifetime', p.lifetime, 8);
    checkUint(p.type, 'opaque', p.opaque, 16);
    checkPuzzleLength(p.type, 'i', checkBytes(p.type, 'i', p.i).length, version);
    return 4 + p.i.length;
  },
  write(p, _v, o) {
    u8(o, p.k);
    u8(o, p.lifetime);
    u16(o, p.opaque);
    writeBytes(o, p.i);
  },
};

const solution: Codec<SolutionParam> = {
  parse(c, version) {
    if (version === 1) exactLength(c, 4 + 2 * V1_PUZZLE_LENGTH);
    else if ((c.len - 4) % 2 !== 0 || !V2_PUZZLE_LENGTHS.has((c.len - 4) / 2)) {
      lengthError(c, `length ${c.len}, expected 44, 68 or 100`);
    }
    const n = (c.len - 4) / 2;
    return {
      type: 321,
      k: c.bytes[c.off]!,
      reserved: c.bytes[c.off + 1]!,
      opaque: c.dv.getUint16(c.off + 2),
      i: view(c, 4, 4 + n),
      j: view(c, 4 + n, c.len),
    };
  },
  size(p, version) {
    checkUint(p.type, 'k', p.k, 8);
    checkUint(p.type, 'reserved', p.reserved, 8);
    checkUint(p.type, 'opaque', p.opaque, 16);
    const n = checkBytes(p.type, 'i', p.i).length;
    checkPuzzleLength(p.type, 'i', n, version);
    checkBytes(p.type, 'j', p.j, n);
    return 4 + 2 * n;
  },
  write(p, _v, o) {
    u8(o, p.k);
    u8(o, p.reserved);
    u16(o, p.opaque);
    writeBytes(o, p.i);
    writeBytes(o, p.j);
  },
};

const seq: Codec<SeqParam> = {
  parse(c) {
    exactLength(c, 4);
    return { type: 385, updateId: c.dv.getUint32(c.off) };
  },
  size(p) {
    checkUint(p.type, 'updateId', p.updateId, 32);
    return 4;
  },
  write(p, _v, o) {
    u32(o, p.updateId);
  },
};

const ack: Codec<AckParam> = {
  parse(c) {
    if (c.len === 0 || c.len % 4 !== 0) lengthError(c, `length ${c.len}, expected a non-zero multiple of 4`);
    const updateIds = new Array<number>(c.len / 4);
    for (let i = 0; i < updateIds.length; i++) updateIds[i] = c.dv.getUint32(c.off + 4 * i);
    return { type: 449, updateIds };
  },
  size(p) {
    checkUintList(p.type, 'updateIds', p.updateIds, 32);
    if (p.updateIds.length === 0) badParamField(p.type, 'updateIds', 0, 'must not be empty');
    return 4 * p.updateIds.length;
  },
  write(p, _v, o) {
    for (const id of p.updateIds) u32(o, id);
  },
};

/** Codec for parameters that are a plain list of one-byte values. */
function u8ListCodec<P extends DhGroupListParam | HitSuiteListParam>(
  type: P['type'],
  field: 'groups' | 'suites',
): Codec<P> {
  return {
    parse(c) {
      return { type, [field]: readU8List(c, 0) } as unknown as P;
    },
    size(p) {
      return checkUintList(type, field, (p as unknown as Record<string, unknown>)[field], 8).length;
    },
    write(p, _v, o) {
      writeU8List(o, (p as unknown as Record<string, number[]>)[field]!);
    },
  };
}

/** Codec for parameters that are a plain list of 16-bit values, after `reserved` 16-bit field if asked. */
function u16ListCodec<
  P extends HipTransformParam | HipCipherParam | TransportFormatListParam | NatTraversalModeParam | EspTransformParam,
>(type: P['type'], field: 'suites' | 'ciphers' | 'formats' | 'modes', withReserved: boolean): Codec<P> {
  const base = withReserved ? 2 : 0;
  return {
    parse(c) {
      multipleOf(c, base, 2);
      const p: Record<string, unknown> = { type };
      if (withReserved) p.reserved = c.dv.getUint16(c.off);
      p[field] = readU16List(c, base);
      return p as unknown as P;
    },
    size(p) {
      const rec = p as unknown as Record<string, unknown>;
      if (withReserved) checkUint(type, 'reserved', rec.reserved, 16);
      return base + 2 * checkUintList(type, field, rec[field], 16).length;
    },
    write(p, _v, o) {
      const rec = p as unknown as Record<string, unknown>;
      if (withReserved) u16(o, rec.reserved as number);
      writeU16List(o, rec[field] as number[]);
    },
  };
}

const diffieHellman: Codec<DiffieHellmanParam> = {
  parse(c, version) {
    const values: DiffieHellmanParam['values'] = [];
    let pos = 0;
    while (pos < c.len) {
      if (pos + 3 > c.len) lengthError(c, `public value header at ${pos} is cut short`);
      const plen = c.dv.getUint16(c.off + pos + 1);
      if (pos + 3 + plen > c.len) lengthError(c, `public value of ${plen} bytes at ${pos} runs past the parameter`);
      values.push({ group: c.bytes[c.off + pos]!, publicValue: view(c, pos + 3, pos + 3 + plen) });
      pos += 3 + plen;
    }
    const max = version === 1 ? 2 : 1;
    if (values.length === 0 || values.length > max) {
      lengthError(c, `${values.length} public values, expected ${version === 1 ? '1 or 2' : 'exactly 1'} in HIPv${version}`);
    }
    return { type: 513, values };
  },
  size(p, version) {
    if (!Array.isArray(p.values)) badParamField(p.type, 'values', typeof p.values, 'must be an array');
    const max = version === 1 ? 2 : 1;
    if (p.values.length === 0 || p.values.length > max) {
      badParamField(p.type, 'values', p.values.length, `must hold ${version === 1 ? '1 or 2 values' : 'exactly 1 value'} in HIPv${version}`);
    }
    let n = 0;
    p.values.forEach((v, i) => {
      checkUint(p.type, `values[${i}].group`, v.group, 8);
      const pub = checkBytes(p.type, `values[${i}].publicValue`, v.publicValue);
      if (pub.length > 0xffff) badParamField(p.type, `values[${i}].publicValue`, pub.length, 'is longer than 65535 bytes');
      n += 3 + pub.length;
    });
    return n;
  },
  write(p, _v, o) {
    for (const v of p.values) {
      u8(o, v.group);
      u16(o, v.publicValue.length);
      writeBytes(o, v.publicValue);
    }
  },
};

const u32Codec = <P extends TransactionPacingParam | CandidatePriorityParam>(
  type: P['type'],
  field: 'minTa' | 'priority',
): Codec<P> => ({
  parse(c) {
    exactLength(c, 4);
    return { type, [field]: c.dv.getUint32(c.off) } as unknown as P;
  },
  size(p) {
    checkUint(type, field, (p as unknown as Record<string, unknown>)[field], 32);
    return 4;
  },
  write(p, _v, o) {
    u32(o, (p as unknown as Record<string, number>)[field]!);
  },
});

const encrypted: Codec<EncryptedParam> = {
  parse(c) {
    minLength(c, 4);
    return { type: 641, reserved: c.dv.getUint32(c.off), data: view(c, 4, c.len) };
  },
  size(p) {
    checkUint(p.type, 'reserved', p.reserved, 32);
    return 4 + checkBytes(p.type, 'data', p.data).length;
  },
  write(p, _v, o) {
    u32(o, p.reserved);
    writeBytes(o, p.data);
  },
};

/** RDATA flags and protocol of a v1 HOST_ID when the caller gives none (what libhipl sends). */
const V1_DEFAULT_RDATA = Object.freeze({ flags: 0x0202, protocol: 0xff });

const hostId: Codec<HostIdParam> = {
  parse(c, version) {
    minLength(c, version === 1 ? 4 : 6);
    const hiLen = c.dv.getUint16(c.off);
    const diTl = c.dv.getUint16(c.off + 2);
    const diType = diTl >> 12;
    const diLen = diTl & 0x0fff;
    const head = version === 1 ? 4 : 6;
    if (head + hiLen + diLen !== c.len) {
      lengthError(c, `HI length ${hiLen} + DI length ${diLen} do not add up to the parameter length ${c.len}`);
    }
    if (version === 2) {
      return {
        type: 705,
        algorithm: c.dv.getUint16(c.off + 4),
        hostIdentity: view(c, 6, 6 + hiLen),
        diType,
        di: view(c, 6 + hiLen, c.len),
      };
    }
    if (hiLen < 4) lengthError(c, `HIPv1 HI length ${hiLen} is shorter than the 4-byte RDATA header`);
    return {
      type: 705,
      algorithm: c.bytes[c.off + 7]!,
      hostIdentity: view(c, 8, 4 + hiLen),
      diType,
      di: view(c, 4 + hiLen, c.len),
      v1Rdata: { flags: c.dv.getUint16(c.off + 4), protocol: c.bytes[c.off + 6]! },
    };
  },
  size(p, version) {
    checkUint(p.type, 'algorithm', p.algorithm, version === 1 ? 8 : 16);
    checkUint(p.type, 'diType', p.diType, 4);
    const hi = checkBytes(p.type, 'hostIdentity', p.hostIdentity);
    const di = checkBytes(p.type, 'di', p.di);
    if (di.length > 0x0fff) badParamField(p.type, 'di', di.length, 'is longer than 4095 bytes');
    const hiLen = hi.length + (version === 1 ? 4 : 0);
    if (hiLen > 0xffff) badParamField(p.type, 'hostIdentity', hi.length, 'is too long for the HI Length field');
    if (version === 1 && p.v1Rdata !== undefined) {
      checkUint(p.type, 'v1Rdata.flags', p.v1Rdata.flags, 16);
      checkUint(p.type, 'v1Rdata.protocol', p.v1Rdata.protocol, 8);
    }
    return (version === 1 ? 4 : 6) + hiLen + di.length;
  },
  write(p, version, o) {
    u16(o, p.hostIdentity.length + (version === 1 ? 4 : 0));
    u16(o, (p.diType << 12) | p.di.length);
    if (version === 1) {
      const rd = p.v1Rdata ?? V1_DEFAULT_RDATA;
      u16(o, rd.flags);
      u8(o, rd.protocol);
      u8(o, p.algorithm);
    } else {
      u16(o, p.algorithm);
    }
    writeBytes(o, p.hostIdentity);
    writeBytes(o, p.di);
  },
};

const notification: Codec<NotificationParam> = {
  parse(c) {
    minLength(c, 4);
    return {
      type: 832,
      reserved: c.dv.getUint16(c.off),
      notifyType: c.dv.getUint16(c.off + 2),
      data: view(c, 4, c.len),
    };
  },
  size(p) {
    checkUint(p.type, 'reserved', p.reserved, 16);
    checkUint(p.type, 'notifyType', p.notifyType, 16);
    return 4 + checkBytes(p.type, 'data', p.data).length;
  },
  write(p, _v, o) {
    u16(o, p.reserved);
    u16(o, p.notifyType);
    writeBytes(o, p.data);
  },
};

/** A parameter whose whole contents are one byte string (echoes, MACs). */
function opaqueCodec<P extends EchoParam | MacParam, K extends 'opaque' | 'mac'>(field: K): Codec<P> {
  return {
    parse(c) {
      return { type: c.type, [field]: view(c, 0, c.len) } as unknown as P;
    },
    size(p) {
      return checkBytes(p.type, field, (p as unknown as Record<K, Uint8Array>)[field]).length;
    },
    write(p, _v, o) {
      writeBytes(o, (p as unknown as Record<K, Uint8Array>)[field]);
    },
  };
}

const echo = opaqueCodec<EchoParam, 'opaque'>('opaque');

const regInfo: Codec<RegInfoParam> = {
  parse(c) {
    minLength(c, 2);
    return {
      type: 930,
      minLifetime: c.bytes[c.off]!,
      maxLifetime: c.bytes[c.off + 1]!,
      regTypes: readU8List(c, 2),
    };
  },
  size(p) {
    checkUint(p.type, 'minLifetime', p.minLifetime, 8);
    checkUint(p.type, 'maxLifetime', p.maxLifetime, 8);
    return 2 + checkUintList(p.type, 'regTypes', p.regTypes, 8).length;
  },
  write(p, _v, o) {
    u8(o, p.minLifetime);
    u8(o, p.maxLifetime);
    writeU8List(o, p.regTypes);
  },
};

const regRequest: Codec<RegRequestParam> = {
  parse(c) {
    minLength(c, 1);
    return { type: c.type as 932 | 934, lifetime: c.bytes[c.off]!, regTypes: readU8List(c, 1) };
  },
  size(p) {
    checkUint(p.type, 'lifetime', p.lifetime, 8);
    return 1 + checkUintList(p.type, 'regTypes', p.regTypes, 8).length;
  },
  write(p, _v, o) {
    u8(o, p.lifetime);
    writeU8List(o, p.regTypes);
  },
};

const regFailed: Codec<RegFailedParam> = {
  parse(c) {
    minLength(c, 1);
    return { type: 936, failureType: c.bytes[c.off]!, regTypes: readU8List(c, 1) };
  },
  size(p) {
    checkUint(p.type, 'failureType', p.failureType, 8);
    return 1 + checkUintList(p.type, 'regTypes', p.regTypes, 8).length;
  },
  write(p, _v, o) {
    u8(o, p.failureType);
    writeU8List(o, p.regTypes);
  },
};

const address: Codec<AddressParam> = {
  parse(c) {
    exactLength(c, 20);
    return {
      type: c.type as AddressParam['type'],
      port: c.dv.getUint16(c.off),
      protocol: c.bytes[c.off + 2]!,
      reserved: c.bytes[c.off + 3]!,
      address: view(c, 4, 20),
    };
  },
  size(p) {
    checkUint(p.type, 'port', p.port, 16);
    checkUint(p.type, 'protocol', p.protocol, 8);
    checkUint(p.type, 'reserved', p.reserved, 8);
    checkBytes(p.type, 'address', p.address, 16);
    return 20;
  },
  write(p, _v, o) {
    u16(o, p.port);
    u8(o, p.protocol);
    u8(o, p.reserved);
    writeBytes(o, p.address);
  },
};

const mac = opaqueCodec<MacParam, 'mac'>('mac');

const signature: Codec<SignatureParam> = {
  parse(c, version) {
    const algLen = version === 1 ? 1 : 2;
    minLength(c, algLen);
    return {
      type: c.type as SignatureParam['type'],
      algorithm: version === 1 ? c.bytes[c.off]! : c.dv.getUint16(c.off),
      signature: view(c, algLen, c.len),
    };
  },
  size(p, version) {
    checkUint(p.type, 'algorithm', p.algorithm, version === 1 ? 8 : 16);
    return (version === 1 ? 1 : 2) + checkBytes(p.type, 'signature', p.signature).length;
  },
  write(p, version, o) {
    if (version === 1) u8(o, p.algorithm);
    else u16(o, p.algorithm);
    writeBytes(o, p.signature);
  },
};

const from: Codec<FromParam> = {
  parse(c) {
    exactLength(c, 16);
    return { type: 65498, address: view(c, 0, 16) };
  },
  size(p) {
    checkBytes(p.type, 'address', p.address, 16);
    return 16;
  },
  write(p, _v, o) {
    writeBytes(o, p.address);
  },
};

const viaRvs: Codec<ViaRvsParam> = {
  parse(c) {
    multipleOf(c, 0, 16);
    const addresses: Uint8Array[] = [];
    for (let i = 0; i < c.len; i += 16) addresses.push(view(c, i, i + 16));
    return { type: 65502, addresses };
  },
  size(p) {
    if (!Array.isArray(p.addresses)) badParamField(p.type, 'addresses', typeof p.addresses, 'must be an array');
    p.addresses.forEach((a, i) => checkBytes(p.type, `addresses[${i}]`, a, 16));
    return 16 * p.addresses.length;
  },
  write(p, _v, o) {
    for (const a of p.addresses) writeBytes(o, a);
  },
};

const raw: Codec<RawParam> = {
  parse(c) {
    return { type: c.type, raw: true, contents: view(c, 0, c.len) };
  },
  size(p) {
    checkUint(p.type, 'type', p.type, 16);
    return checkBytes(p.type, 'contents', p.contents).length;
  },
  write(p, _v, o) {
    writeBytes(o, p.contents);
  },
};

// ---------------------------------------------------------------------------------------------
// Lookup table

/** type -> codec, for every parameter type the codec models. */
const CODECS: ReadonlyMap<number, Codec<HipParam>> = (() => {
  const m = new Map<number, Codec<HipParam>>();
  const add = <P extends HipParam>(types: readonly number[], codec: Codec<P>): void => {
    for (const t of types) m.set(t, codec as unknown as Codec<HipParam>);
  };
  const T = ParamType;
  add([T.ESP_INFO], espInfo);
  add([T.R1_COUNTER_V1, T.R1_COUNTER], r1Counter);
  add([T.LOCATOR_SET], locatorSet);
  add([T.PUZZLE], puzzle);
  add([T.SOLUTION], solution);
  add([T.SEQ], seq);
  add([T.ACK], ack);
  add([T.DH_GROUP_LIST], u8ListCodec<DhGroupListParam>(511, 'groups'));
  add([T.DIFFIE_HELLMAN], diffieHellman);
  add([T.HIP_TRANSFORM], u16ListCodec<HipTransformParam>(577, 'suites', false));
  add([T.HIP_CIPHER], u16ListCodec<HipCipherParam>(579, 'ciphers', false));
  add([T.NAT_TRAVERSAL_MODE], u16ListCodec<NatTraversalModeParam>(608, 'modes', true));
  add([T.TRANSACTION_PACING], u32Codec<TransactionPacingParam>(610, 'minTa'));
  add([T.ENCRYPTED], encrypted);
  add([T.HOST_ID], hostId);
  add([T.HIT_SUITE_LIST], u8ListCodec<HitSuiteListParam>(715, 'suites'));
  add([T.NOTIFICATION], notification);
  add([T.ECHO_REQUEST_SIGNED, T.ECHO_RESPONSE_SIGNED, T.ECHO_REQUEST_UNSIGNED, T.ECHO_RESPONSE_UNSIGNED], echo);
  add([T.REG_INFO], regInfo);
  add([T.REG_REQUEST, T.REG_RESPONSE], regRequest);
  add([T.REG_FAILED], regFailed);
  add([T.REG_FROM, T.RELAYED_ADDRESS, T.MAPPED_ADDRESS, T.RELAY_FROM, T.RELAY_TO], address);
  add([T.TRANSPORT_FORMAT_LIST], u16ListCodec<TransportFormatListParam>(2049, 'formats', false));
  add([T.ESP_TRANSFORM], u16ListCodec<EspTransformParam>(4095, 'suites', true));
  add([T.CANDIDATE_PRIORITY], u32Codec<CandidatePriorityParam>(4700, 'priority'));
  add([T.HIP_MAC, T.HIP_MAC_2, T.RVS_HMAC, T.RELAY_HMAC], mac);
  add([T.HIP_SIGNATURE_2, T.HIP_SIGNATURE], signature);
  add([T.FROM], from);
  add([T.VIA_RVS], viaRvs);
  return m;
})();

/**
 * Types known to the codec but kept raw because their layout is not modelled (or not
 * confirmed). They are non-critical, so a receiver may ignore them.
 */
const KNOWN_UNMODELLED: ReadonlySet<number> = new Set([ParamType.CERT, ParamType.PEER_PERMISSION, ParamType.NOMINATE]);

/** True if the codec decodes parameters of this type into a typed value (not {@link RawParam}). */
export function isModelledParamType(type: number): boolean {
  return CODECS.has(type);
}

/**
 * Decode one parameter from a TLV inside `bytes`. `offset` is the TLV's Type field; the TLV
 * (with padding) must already be known to fit (see {@link readTlvSpan}).
 *
 * With `lenient`, an unknown critical parameter or one that breaks its layout is kept as a
 * {@link RawParam} whose `malformed` field holds the error code, instead of throwing.
 * @throws HipWireError ERR_HIP_UNKNOWN_CRITICAL_PARAM, ERR_HIP_PARAM_LENGTH
 */
export function parseParamAt(
  bytes: Uint8Array,
  dv: DataView,
  offset: number,
  type: number,
  length: number,
  version: HipVersion,
  lenient = false,
): HipParam {
  const c: Contents = { type, bytes, dv, off: offset + 4, len: length };
  let p: HipParam;
  try {
    const codec = CODECS.get(type);
    if (codec !== undefined) {
      p = codec.parse(c, version);
    } else if ((type & 1) === 1 && !KNOWN_UNMODELLED.has(type)) {
      throw wireError(
        WireErrorCode.UNKNOWN_CRITICAL_PARAM,
        `unknown critical parameter type ${type} (0x${type.toString(16)})`,
        { paramType: type },
      );
    } else {
      p = raw.parse(c, version);
    }
  } catch (e) {
    if (!lenient || !(e instanceof HipWireError)) throw e;
    const r = raw.parse(c, version);
    r.malformed = e.code;
    p = r;
  }
  const contentEnd = offset + 4 + length;
  const end = offset + tlvSize(length);
  for (let i = contentEnd; i < end; i++) {
    if (bytes[i] !== 0) {
      p.padding = bytes.subarray(contentEnd, end);
      break;
    }
  }
  return p;
}

function codecFor(p: HipParam): Codec<HipParam> {
  if (p === null || typeof p !== 'object') {
    throw wireError(WireErrorCode.BAD_FIELD, 'a parameter must be an object', { value: String(p) });
  }
  if (isRawParam(p)) return raw as unknown as Codec<HipParam>;
  const codec = CODECS.get(p.type);
  if (codec === undefined) {
    throw wireError(
      WireErrorCode.BAD_FIELD,
      `parameter type ${String(p.type)} is not modelled; emit it as a RawParam ({ type, raw: true, contents })`,
      { paramType: p.type },
    );
  }
  return codec;
}

/**
 * Validate a parameter for emission and return its contents length (without Type, Length and
 * padding).
 * @throws HipWireError ERR_HIP_BAD_FIELD, ERR_HIP_PARAM_TOO_LONG
 */
export function paramContentLength(p: HipParam, version: HipVersion): number {
  const n = codecFor(p).size(p, version);
  if (n > 0xffff) {
    throw wireError(
      WireErrorCode.PARAM_TOO_LONG,
      `${paramTypeName(p.type)} contents of ${n} bytes do not fit the 16-bit Length field`,
      { paramType: p.type, length: n },
    );
  }
  return n;
}

/**
 * Write one TLV (Type, Length, contents, padding) at `offset`, for a parameter whose contents
 * length `contentLength` came from {@link paramContentLength}. Returns the offset after it.
 */
export function writeParamAt(
  out: Uint8Array,
  dv: DataView,
  offset: number,
  p: HipParam,
  contentLength: number,
  version: HipVersion,
): number {
  dv.setUint16(offset, p.type);
  dv.setUint16(offset + 2, contentLength);
  const o: Out = { bytes: out, dv, off: offset + 4 };
  codecFor(p).write(p, version, o);
  const end = offset + tlvSize(contentLength);
  if (o.off !== offset + 4 + contentLength) {
    // A codec wrote a different amount than it sized: a bug here, never the caller's fault.
    throw new Error(`internal: ${paramTypeName(p.type)} wrote ${o.off - offset - 4} bytes, sized ${contentLength}`);
  }
  const padLen = end - o.off;
  const pad = p.padding;
  if (pad instanceof Uint8Array && pad.length === padLen) out.set(pad, o.off);
  else out.fill(0, o.off, end);
  return end;
}

/**
 * One parameter as a padded TLV.
 *
 * @example
 * ```ts
 * emitParam({ type: ParamType.SEQ, updateId: 7 }, 2) // 0181 0004 00000007 00000000
 * ```
 * @throws HipWireError ERR_HIP_BAD_FIELD, ERR_HIP_PARAM_TOO_LONG
 */
export function emitParam(param: HipParam, version: HipVersion): Uint8Array {
  const n = paramContentLength(param, version);
  const out = new Uint8Array(tlvSize(n));
  writeParamAt(out, new DataView(out.buffer), 0, param, n, version);
  return out;
}
