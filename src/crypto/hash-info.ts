/**
 * Facts about the hash functions HIP uses: output lengths and the RHASH of each HIT suite.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import type { HashName } from './keys.js';

/**
 * Output length in bytes of a HIP hash (also the HMAC key/tag length and RHASH_len / 8).
 * Throws `HipCryptoError` `ERR_CRYPTO_UNSUPPORTED` for an unknown name.
 *
 * @example
 * ```ts
 * hashLength('sha256') // 32
 * ```
 */
export function hashLength(alg: HashName): 20 | 32 | 48 {
  switch (alg) {
    case 'sha1':
      return 20;
    case 'sha256':
      return 32;
    case 'sha384':
      return 48;
    default:
      throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported hash ${String(alg)}`, {
        hash: alg,
      });
  }
}

/**
 * RHASH of a HIPv2 HIT suite (the 4-bit OGA ID, RFC 7401 section 5.2.10): 1 (RSA/DSA) uses
 * SHA-256, 2 (ECDSA) SHA-384, 3 (ECDSA_LOW) SHA-1. Suite 5 (EdDSA, RFC 9374) has no agreed
 * RHASH for a base exchange, so it is refused with `HipCryptoError` `ERR_CRYPTO_UNSUPPORTED`,
 * as is any other value.
 *
 * @example
 * ```ts
 * rhashOfSuite(2) // 'sha384'
 * ```
 */
export function rhashOfSuite(suite: number): HashName {
  switch (suite) {
    case 1:
      return 'sha256';
    case 2:
      return 'sha384';
    case 3:
      return 'sha1';
    default:
      throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `no RHASH for HIT suite ${suite}`, {
        suite,
      });
  }
}

/** Whether a value names one of the hashes HIP uses. */
export function isHashName(value: unknown): value is HashName {
  return value === 'sha1' || value === 'sha256' || value === 'sha384';
}
