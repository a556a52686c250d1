/**
 * The Diffie-Hellman groups hipl supports: their HIP Group IDs, parameters and wire sizes.
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
  /** HIP DH Group ID. */
  readonly id: number;
  /** Discriminant: a finite-field group. */
  readonly kind: 'modp';
  /** Human-readable name, e.g. `'MODP-1536'`. */
  readonly name: string;
  /** The prime, big-endian, exactly `byteLength` bytes. */
  readonly prime: Uint8Array;
  /** The generator g; 2 for every HIP MODP group. */
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
  /** HIP DH Group ID. */
  readonly id: number;
  /** Discriminant: an elliptic-curve group. */
  readonly kind: 'ecdh';
  /** Human-readable name, e.g. `'NIST P-256'`. */
  readonly name: string;
  /** The NIST curve. */
  readonly curve: 'P-256' | 'P-384';
  /** Field element size in bytes (also the length of Kij). */
  readonly fieldBytes: number;
  /** Public value length on the wire: X | Y. */
  readonly byteLength: number;
}

/** Any supported Diffie-Hellman group. */
export type DhGroupParams = ModpGroup | EcdhGroup;

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

const GROUPS: ReadonlyMap<number, DhGroupParams> = new Map<number, DhGroupParams>([
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
export function dhGroup(id: number): DhGroupParams {
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
