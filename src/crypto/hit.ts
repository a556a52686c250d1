/**
 * Host Identity Tags: ORCHIDv2 (RFC 7343, HIPv2) and ORCHIDv1 (RFC 4843, HIPv1/libhipl)
 * generation, and helpers to parse, print and compare HITs.
 *
 * Hashes come from @noble/hashes so this module runs anywhere, not only on Node.
 * @module
 */

import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { cshake128 } from '@noble/hashes/sha3-addons.js';
import { bytesEqual, compareBytes, concatBytes, hexToBytes } from '../bytes.js';
import { HipArgumentError, HipIdentityError } from '../errors.js';
import { formatIpAddress } from '../wire/ip-frames.js';

/** Length of a HIT in bytes. */
export const HIT_LENGTH = 16;

/** ORCHID context ID for HIP (RFC 7401 §3.2, RFC 4843), the same for v1 and v2. */
export const HIP_ORCHID_CONTEXT_ID: Uint8Array = hexToBytes('F0EFF02FBFF43D0FE7930C3C6E6174EA');

/** The 28-bit ORCHIDv2 prefix 2001:20::/28, as the top 28 bits of a 32-bit word. */
const V2_PREFIX = 0x20010020;
/** The 28-bit ORCHIDv1 prefix 2001:10::/28. */
const V1_PREFIX = 0x20010010;

/**
 * The all-zero HIT: the Receiver's HIT of an opportunistic I1. It is not a valid HIT
 * ({@link isHit} is false). Do not modify it.
 */
export const ZERO_HIT: Uint8Array = new Uint8Array(HIT_LENGTH);

function invalidHit(message: string, details?: Record<string, unknown>): HipArgumentError {
  return new HipArgumentError('ERR_HIP_INVALID_HIT', message, details);
}

function top32(hit: Uint8Array): number {
  return (((hit[0] ?? 0) << 24) | ((hit[1] ?? 0) << 16) | ((hit[2] ?? 0) << 8) | (hit[3] ?? 0)) >>> 0;
}

/** The middle `bits` bits of a digest (RFC 7343 Encode_96: drop equal amounts on both sides). */
function middleBits(digest: Uint8Array, bits: number): bigint {
  const total = digest.length * 8;
  const shift = BigInt((total - bits) / 2);
  let v = 0n;
  for (const b of digest) v = (v << 8n) | BigInt(b);
  return (v >> shift) & ((1n << BigInt(bits)) - 1n);
}

function writeBig(out: Uint8Array, value: bigint): void {
  let v = value;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * The 96-bit hash of an ORCHIDv2 HIT for a suite.
 *
 * Suite 5 (EdDSA, RFC 9374 §3.5.2.1) is experimental: the RFC says a variable-output hash
 * yields the 96 bits directly, but not whether the context ID is part of the input or cSHAKE's
 * customization string S (HIP-DIGEST 3, 12.5). We read it literally like every other suite,
 * Hash(Context ID | Host Identity), with empty N and S, so the 12 output bytes are
 * cSHAKE128(ContextID | HI, L = 96, N = "", S = "") (equal to SHAKE128). Interop with another
 * suite-5 implementation is unverified.
 */
function orchidHash96(input: Uint8Array, suite: number): Uint8Array {
  const data = concatBytes(HIP_ORCHID_CONTEXT_ID, input);
  let digest: Uint8Array;
  switch (suite) {
    case 1:
      digest = sha256(data);
      break;
    case 2:
      digest = sha384(data);
      break;
    case 3:
      digest = sha1(data);
      break;
    case 5:
      return cshake128(data, { dkLen: 12 });
    default:
      throw new HipIdentityError('ERR_IDENTITY_UNSUPPORTED', `unsupported HIT suite ${suite}`, { suite });
  }
  const out = new Uint8Array(12);
  writeBig(out, middleBits(digest, 96));
  return out;
}

/**
 * Compute an ORCHIDv2 HIT (RFC 7343, RFC 7401 §3.2): prefix 2001:20::/28 | 4-bit suite ID |
 * the middle 96 bits of HASH(context ID | Host Identity field). Suite 1 = SHA-256, 2 = SHA-384,
 * 3 = SHA-1, 5 = cSHAKE128 (experimental, see the module notes on suite 5).
 *
 * @param hostIdentity the Host Identity field only (see {@link encodeHostIdentity}), not the TLV.
 * @throws HipIdentityError `ERR_IDENTITY_UNSUPPORTED` for any other suite.
 * @example
 * ```ts
 * const { hostIdentity } = encodeHostIdentity(publicKey, 2);
 * formatHit(computeHit(hostIdentity, 2)); // '2001:22:...'
 * ```
 */
export function computeHit(hostIdentity: Uint8Array, suite: number): Uint8Array {
  const hash96 = orchidHash96(hostIdentity, suite);
  const hit = new Uint8Array(HIT_LENGTH);
  const word = (V2_PREFIX | (suite & 0x0f)) >>> 0;
  hit[0] = word >>> 24;
  hit[1] = (word >>> 16) & 0xff;
  hit[2] = (word >>> 8) & 0xff;
  hit[3] = word & 0xff;
  hit.set(hash96, 4);
  return hit;
}

/**
 * Compute an ORCHIDv1 HIT as libhipl does (RFC 4843, HIPV1-PROFILE 4): prefix 2001:10::/28 |
 * the middle 100 bits of SHA-1(context ID | key field), i.e. `(digest >> 30) & (2^100 - 1)`.
 *
 * @param keyField the RSA key field `e_len | e | n` *without* the RDATA header `0202ff05`.
 * @example
 * ```ts
 * formatHit(computeHitV1(encodeHostIdentity(rsaKey, 1).hostIdentity)); // '2001:1x:...'
 * ```
 */
export function computeHitV1(keyField: Uint8Array): Uint8Array {
  const digest = sha1(concatBytes(HIP_ORCHID_CONTEXT_ID, keyField));
  const value = (BigInt(V1_PREFIX >>> 4) << 100n) | middleBits(digest, 100);
  const hit = new Uint8Array(HIT_LENGTH);
  writeBig(hit, value);
  return hit;
}

/** The HIP version a HIT belongs to, from its prefix: 1 (2001:10::/28), 2 (2001:20::/28) or undefined. */
export function hitVersion(hit: Uint8Array): 1 | 2 | undefined {
  if (!(hit instanceof Uint8Array) || hit.length !== HIT_LENGTH) return undefined;
  const prefix = (top32(hit) & 0xfffffff0) >>> 0;
  if (prefix === V2_PREFIX) return 2;
  if (prefix === V1_PREFIX) return 1;
  return undefined;
}

/** The HIT suite ID of an ORCHIDv2 HIT (the low nibble of byte 3), or undefined for other values. */
export function hitSuite(hit: Uint8Array): number | undefined {
  return hitVersion(hit) === 2 ? (hit[3] ?? 0) & 0x0f : undefined;
}

/** Parse IPv6 text to 16 bytes, or undefined when it is not valid IPv6 text. */
function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let head = text;
  let v4: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) >= 0) {
    const parts = text.slice(lastColon + 1).split('.');
    if (parts.length !== 4) return undefined;
    v4 = [];
    for (const p of parts) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
      const n = Number(p);
      if (n > 255) return undefined;
      v4.push(n);
    }
    // Keep a "::" that ends right before the IPv4 part ("::1.2.3.4"); drop a single colon.
    const prefix = text.slice(0, lastColon + 1);
    head = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const groupsWanted = v4 ? 6 : 8;
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (!left || !right) return undefined;
    const missing = groupsWanted - left.length - right.length;
    // "::" stands for at least one zero group (RFC 4291 §2.2).
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

/**
 * Parse a HIT written as IPv6 text (any valid form: compressed, uppercase, embedded IPv4).
 * The address must carry the ORCHIDv1 or ORCHIDv2 prefix; zone IDs and brackets are refused.
 *
 * @throws HipArgumentError `ERR_HIP_INVALID_HIT` for non-IPv6 text or an address that is not a HIT.
 * @example
 * ```ts
 * parseHit('2001:22:f482:7b66:edea:73a8:1796:b6');
 * ```
 */
export function parseHit(text: string): Uint8Array {
  if (typeof text !== 'string') throw invalidHit('a HIT must be given as a string');
  const bytes = parseIpv6(text.trim());
  if (!bytes) throw invalidHit(`not an IPv6 address: ${JSON.stringify(text.slice(0, 64))}`);
  if (hitVersion(bytes) === undefined) {
    throw invalidHit(`not a HIT (prefix is neither 2001:10::/28 nor 2001:20::/28): ${text.slice(0, 64)}`);
  }
  return bytes;
}

/**
 * Format a HIT (or any 16-byte address) as canonical RFC 5952 IPv6 text: lower case, no leading
 * zeros, the longest run of two or more zero groups (the first on a tie) shown as `::`.
 *
 * @throws HipArgumentError `ERR_HIP_INVALID_HIT` unless given exactly 16 bytes.
 * @example
 * ```ts
 * formatHit(hit); // '2001:22:f482:7b66:edea:73a8:1796:b6'
 * ```
 */
export function formatHit(hit: Uint8Array): string {
  if (!(hit instanceof Uint8Array) || hit.length !== HIT_LENGTH) {
    throw invalidHit('a HIT is exactly 16 bytes');
  }
  return formatIpAddress(hit);
}

/**
 * Compare two HITs as 128-bit unsigned big-endian integers, as HIP does to pick the "greater"
 * host (KEYMAT draw order, simultaneous-open tie breaks).
 *
 * @throws HipArgumentError `ERR_HIP_INVALID_HIT` unless both are 16 bytes.
 */
export function compareHits(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== HIT_LENGTH || b.length !== HIT_LENGTH) {
    throw invalidHit('a HIT is exactly 16 bytes');
  }
  return compareBytes(a, b);
}

/** True if both are 16-byte HITs with the same bytes. */
export function hitsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a instanceof Uint8Array && b instanceof Uint8Array && a.length === HIT_LENGTH && bytesEqual(a, b);
}

/**
 * True if the value is a HIT: 16 bytes (or IPv6 text) with the ORCHIDv1 or ORCHIDv2 prefix.
 *
 * @example
 * ```ts
 * isHit('2001:21::1');   // true
 * isHit('::ffff:1.2.3.4'); // false
 * ```
 */
export function isHit(value: string | Uint8Array): boolean {
  if (typeof value === 'string') {
    const bytes = parseIpv6(value.trim());
    return bytes !== undefined && hitVersion(bytes) !== undefined;
  }
  return hitVersion(value) !== undefined;
}
