/**
 * Checks both providers apply to DH inputs, so both reject the same values with the same codes:
 * peer public values, caller-supplied private keys, and the MODP Kij encoding. Internal: not
 * part of the package API.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import type { DhGroupParams, EcdhGroup, ModpGroup } from './dh-groups.js';

function badPublic(group: DhGroupParams, why: string, details: Record<string, unknown> = {}): HipCryptoError {
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
export function badPublicValue(group: DhGroupParams, why: string): HipCryptoError {
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
