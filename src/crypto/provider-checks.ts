/**
 * Argument checks and scheme facts shared by both providers, so that both reject the same
 * inputs with the same error codes.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import { hashLength } from './hash-info.js';
import type { HashName, SignatureScheme } from './keys.js';

/** The key kind (`PublicKeyMaterial['kind']`) a signature scheme needs. */
export function schemeKind(scheme: SignatureScheme): 'ecdsa' | 'rsa' | 'ed25519' {
  switch (scheme) {
    case 'ecdsa-sha256':
    case 'ecdsa-sha384':
      return 'ecdsa';
    case 'rsa-pss-sha256':
    case 'rsa-pss-sha384':
    case 'rsa-pkcs1-sha1':
      return 'rsa';
    case 'ed25519':
      return 'ed25519';
    default:
      throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported signature scheme ${String(scheme)}`, {
        scheme,
      });
  }
}

/** The message hash of a scheme; Ed25519 hashes internally and has none. */
export function schemeHash(scheme: Exclude<SignatureScheme, 'ed25519'>): HashName {
  switch (scheme) {
    case 'ecdsa-sha256':
    case 'rsa-pss-sha256':
      return 'sha256';
    case 'ecdsa-sha384':
    case 'rsa-pss-sha384':
      return 'sha384';
    case 'rsa-pkcs1-sha1':
      return 'sha1';
  }
}

/** The error for a scheme used with a key of another kind. */
export function schemeMismatch(scheme: SignatureScheme, kind: string): HipCryptoError {
  return new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', `scheme ${scheme} cannot be used with a ${kind} key`, {
    scheme,
    keyKind: kind,
  });
}

/** Reject a negative, fractional or absurd random length. */
export function checkRandomLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 65536) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', `random length must be an integer in 0..65536`, {
      length,
    });
  }
}

/**
 * HKDF output is limited to 255 blocks of the hash (RFC 5869 section 2.3); node caps `info` at
 * 1024 bytes, so both providers do (HIP's info is 32 bytes of HITs).
 */
export function checkHkdfArgs(alg: HashName, info: Uint8Array, length: number): void {
  const max = 255 * hashLength(alg);
  if (!Number.isInteger(length) || length < 0 || length > max) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', `HKDF length must be an integer in 0..${max}`, {
      length,
      hash: alg,
    });
  }
  if (info.length > 1024) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'HKDF info longer than 1024 bytes', { length: info.length });
  }
}

/** AES-CBC for HIP takes AES-128 or AES-256 keys and a full-block IV. */
export function checkAesArgs(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== 16 && key.length !== 32) {
    throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', 'AES-CBC key must be 16 or 32 bytes', {
      length: key.length,
    });
  }
  if (iv.length !== 16) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'AES-CBC IV must be 16 bytes', { length: iv.length });
  }
}

