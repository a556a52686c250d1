/**
 * The Diffie-Hellman groups hipl supports, their HIP Group IDs, wire sizes, and the checks both
 * providers apply to peer public values and private keys.
 *
 * Public values on the wire (HIP-DIGEST 2.4, HIPV1-PROFILE 8.1): ECDH is X | Y with each
 * coordinate padded to the field size and no 0x04 prefix; MODP is g^x mod p left-padded to the
 * prime length. Peers may send shorter MODP values, which are accepted.
 * @module
 */

import { hexToBytes } from '../bytes.js';
import { HipCryptoError } from '../errors.js';

/** A finite-field (MODP) group with generator 2. */
export interface ModpGroup {
  readonly id: number;
  readonly kind: 'modp';
  /** Human-readable name, e.g. `'MODP-1536'`. */
  readonly name: string;
  /** The prime, big-endian, exactly `byteLength` bytes. */
  readonly prime: Uint8Array;
  readonly generator: 2;
  /** Length of the prime, and of a padded public value, in bytes. */
  readonly byteLength: number;
  /**
   * Bits of a freshly generated private exponent. Short exponents (at least twice the group's
   * security strength, as OpenSSL does for these groups) keep key generation cheap, which
   * matters for the bigint provider.
   */
  readonly privateBits: number;
}

/** A NIST prime-curve ECDH group. */
export interface EcdhGroup {
  readonly id: number;
  readonly kind: 'ecdh';
  /** Human-readable name, e.g. `'NIST P-256'`. */
  readonly name: string;
  readonly curve: 'P-256' | 'P-384';
  /** Field element size in bytes (also the length of Kij). */
  readonly fieldBytes: number;
  /** Public value length on the wire: X | Y. */
  readonly byteLength: number;
}

/** Any supported Diffie-Hellman group. */
export type DhGroup = ModpGroup | EcdhGroup;

const PRIME_384 =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b13b202ffffffffffffffff';

// RFC 3526 primes share their leading digits; the groups are listed in full for clarity.
const PRIME_1536 =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74' +
  '020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437' +
  '4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05' +
  '98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb' +
  '9ed529077096966d670c354e4abc9804f1746c08ca237327ffffffffffffffff';

const PRIME_2048 =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74' +
  '020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437' +
  '4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05' +
  '98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb' +
  '9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b' +
  'e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718' +
  '3995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff';

const PRIME_3072 =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74' +
  '020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437' +
  '4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05' +
  '98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb' +
  '9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b' +
  'e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718' +
  '3995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33' +
  'a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7' +
  'abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864' +
  'd87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2' +
  '08e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff';

function modp(id: number, name: string, primeHex: string, privateBits: number): ModpGroup {
  const prime = hexToBytes(primeHex);
  return Object.freeze({ id, kind: 'modp', name, prime, generator: 2, byteLength: prime.length, privateBits });
}

function ecdh(id: number, curve: 'P-256' | 'P-384', fieldBytes: number): EcdhGroup {
  return Object.freeze({
    id,
    kind: 'ecdh',
    name: `NIST ${curve}`,
    curve,
    fieldBytes,
    byteLength: 2 * fieldBytes,
  });
}

const GROUPS: ReadonlyMap<number, DhGroup> = new Map<number, DhGroup>([
  // HIPv1's deprecated 384-bit group: libhipl offers it in R1 but refuses it in I2
  [1, modp(1, 'MODP-384 (HIPv1)', PRIME_384, 256)],
  [3, modp(3, 'MODP-1536', PRIME_1536, 256)],
  [4, modp(4, 'MODP-3072', PRIME_3072, 320)],
  [7, ecdh(7, 'P-256', 32)],
  [8, ecdh(8, 'P-384', 48)],
  [11, modp(11, 'MODP-2048', PRIME_2048, 256)],
]);

/** The HIP DH Group IDs hipl implements, in ascending order. */
export const SUPPORTED_DH_GROUPS: readonly number[] = Object.freeze([...GROUPS.keys()].sort((a, b) => a - b));

/** Whether hipl implements the given HIP DH Group ID. */
export function isSupportedDhGroup(id: number): boolean {
  return GROUPS.has(id);
}

/**
 * Parameters of a HIP DH group. Throws `HipCryptoError` `ERR_CRYPTO_UNSUPPORTED` for an
 * unimplemented ID (2, 5, 6, 9, 10 and anything unassigned).
 *
 * @example
 * ```ts
 * dhGroup(3).byteLength // 192
 * ```
 */
export function dhGroup(id: number): DhGroup {
  const g = GROUPS.get(id);
  if (g === undefined) {
    throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported DH group ${id}`, { group: id });
  }
  return g;
}

/** Public value length on the wire for a group (MODP: padded to the prime). */
export function dhPublicValueLength(id: number): number {
  return dhGroup(id).byteLength;
}

function badPublic(group: DhGroup, why: string, details: Record<string, unknown> = {}): HipCryptoError {
  return new HipCryptoError('ERR_CRYPTO_BAD_PUBLIC_VALUE', `DH group ${group.id}: ${why}`, {
    group: group.id,
    ...details,
  });
}

/**
 * Validate a peer's MODP public value and return it left-padded to the prime length. Rejects
 * an empty or too long value and anything outside [2, p-2]: 0, 1 and p-1 would force a known
 * shared secret, and for these safe primes that range check is the whole small-subgroup test.
 */
export function checkModpPublicValue(group: ModpGroup, value: Uint8Array): Uint8Array {
  const len = group.byteLength;
  if (value.length === 0 || value.length > len) {
    throw badPublic(group, `public value must be 1..${len} bytes`, { length: value.length });
  }
  let padded = value;
  if (value.length < len) {
    padded = new Uint8Array(len);
    padded.set(value, len - value.length);
  }
  // y <= 1 ?
  let high = 0;
  for (let i = 0; i < len - 1; i++) high |= padded[i]!;
  if (high === 0 && padded[len - 1]! <= 1) throw badPublic(group, 'public value is 0 or 1');
  // y >= p - 1 ?  p - 1 differs from p only in the last byte (p is odd)
  const p = group.prime;
  let cmp = 0;
  for (let i = 0; i < len && cmp === 0; i++) {
    const a = padded[i]!;
    const b = i === len - 1 ? p[i]! - 1 : p[i]!;
    if (a !== b) cmp = a < b ? -1 : 1;
  }
  if (cmp >= 0) throw badPublic(group, 'public value is p-1 or not below p');
  return padded;
}

/** Validate a peer's ECDH public value length (X | Y); the curve check is the provider's. */
export function checkEcdhPublicValueLength(group: EcdhGroup, value: Uint8Array): void {
  if (value.length !== group.byteLength) {
    throw badPublic(group, `public value must be ${group.byteLength} bytes (X | Y)`, {
      length: value.length,
    });
  }
}

/** The error both providers throw for an unusable peer public value. */
export function badPublicValue(group: DhGroup, why: string): HipCryptoError {
  return badPublic(group, why);
}

/**
 * Validate a caller-supplied MODP private exponent: 1..byteLength bytes, value in [2, p-2].
 * Returns it with leading zero bytes removed. Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY`.
 */
export function checkModpPrivateKey(group: ModpGroup, x: Uint8Array): Uint8Array {
  try {
    checkModpPublicValue(group, x);
  } catch {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `DH group ${group.id}: private exponent out of range`, {
      group: group.id,
      length: x.length,
    });
  }
  return stripLeadingZeros(x);
}

/**
 * Remove leading zero bytes (keeping at least one byte). MODP Kij is the minimal big-endian
 * value, as OpenSSL's DH_compute_key and libhipl produce it (HIPV1-PROFILE 8.2).
 */
export function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return i === 0 ? bytes : bytes.subarray(i);
}

/**
 * A fresh random MODP private exponent of `group.privateBits` bits (top bit set, so the
 * exponent has exactly that many bits and is never 0 or 1).
 */
export function randomModpExponent(group: ModpGroup, random: (n: number) => Uint8Array): Uint8Array {
  const bytes = Math.ceil(group.privateBits / 8);
  const x = random(bytes).slice();
  const extra = bytes * 8 - group.privateBits;
  x[0] = (x[0]! & (0xff >> extra)) | (0x80 >> extra);
  return x;
}
