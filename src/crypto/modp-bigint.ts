/**
 * MODP Diffie-Hellman in plain bigint: the whole of MODP for the portable provider, and group 1
 * for the node provider too (OpenSSL 3 refuses primes under 512 bits, and HIPv1's group 1 is
 * 384 bits).
 * @module
 */

import { bigIntToBytes, bytesToBigInt, modPow } from './bigint.js';
import type { ModpGroup } from './dh-groups.js';

const primes = new Map<number, bigint>();

/** The group's prime as a bigint (converted once per group). */
export function modpPrime(group: ModpGroup): bigint {
  let p = primes.get(group.id);
  if (p === undefined) {
    p = bytesToBigInt(group.prime);
    primes.set(group.id, p);
  }
  return p;
}

/** g^x mod p, left-padded to the prime length (the DIFFIE_HELLMAN wire form). */
export function modpPublicValue(group: ModpGroup, x: bigint): Uint8Array {
  return bigIntToBytes(modPow(2n, x, modpPrime(group)), group.byteLength)!;
}

/** y^x mod p as a minimal-length big-endian value (Kij); `y` must already be validated. */
export function modpSharedSecret(group: ModpGroup, x: bigint, y: Uint8Array): Uint8Array {
  return bigIntToBytes(modPow(bytesToBigInt(y), x, modpPrime(group)))!;
}
