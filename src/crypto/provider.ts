/**
 * The one small interface every cryptographic operation of hipl goes through. Two
 * implementations exist: {@link nodeCrypto} (node:crypto, fast, the default on Node) and
 * {@link nobleCrypto} (@noble/* plus bigint RSA/MODP, portable). Both give identical bytes for
 * every deterministic operation, and each verifies what the other signs.
 *
 * Errors are `HipCryptoError` with these codes:
 * - `ERR_CRYPTO_UNSUPPORTED`: unknown hash, DH group, scheme or cipher key size.
 * - `ERR_CRYPTO_BAD_LENGTH`: a length argument out of range (HKDF output, IV, HIT, random).
 * - `ERR_CRYPTO_BAD_KEY`: key material the provider cannot use.
 * - `ERR_CRYPTO_KEY_MISMATCH`: a scheme that does not fit the key, or a key handle or DH pair
 *   made by the other provider.
 * - `ERR_CRYPTO_BAD_PUBLIC_VALUE`: an invalid peer DH public value.
 * - `ERR_CRYPTO_DECRYPT`: AES-CBC ciphertext with a bad length or padding.
 * @module
 */

import type { HashName, PrivateKeyMaterial, PublicKeyMaterial, SignatureScheme } from './keys.js';

/**
 * A private key imported into one provider, ready to sign. Opaque: only the provider that made
 * it can use it. Import once per identity and keep it; importing costs more than signing.
 */
export interface SigningKey {
  /** Never set; keeps the type nominal-ish so a `VerifyingKey` cannot be passed by mistake. */
  readonly scheme?: never;
}

/** A public key imported into one provider, ready to verify. Opaque, like {@link SigningKey}. */
export interface VerifyingKey {
  /** Never set; see {@link SigningKey.scheme}. */
  readonly scheme?: never;
}

/**
 * A Diffie-Hellman key pair. The private half stays inside the provider's object. A pair may
 * be used with {@link CryptoProvider.dhCompute} any number of times, so a responder can reuse
 * one pair across many base exchanges instead of paying for key generation each time.
 */
export interface DhKeyPair {
  /** HIP DH Group ID (1, 3, 4, 7, 8 or 11). */
  readonly group: number;
  /** The public value exactly as it goes in a DIFFIE_HELLMAN parameter. */
  readonly publicValue: Uint8Array;
}

/**
 * Every cryptographic primitive hipl needs, behind one interface.
 *
 * @example
 * ```ts
 * const c = getProvider();                     // node:crypto
 * const mine = c.dhGenerate(7);                // P-256
 * const kij = c.dhCompute(mine, peerPublicValue);
 * const key = c.importSigningKey(identity.privateKey);
 * const sig = c.sign(key, 'ecdsa-sha384', bytes);
 * ```
 */
export interface CryptoProvider {
  /** Which implementation this is. */
  readonly name: 'node' | 'noble';
  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;
  /** Digest of `data`. */
  hash(alg: HashName, data: Uint8Array): Uint8Array;
  /** HMAC of `data` under `key`, untruncated. */
  hmac(alg: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF (extract then expand); `length` at most 255 times the hash length. */
  hkdf(alg: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /**
   * A new DH key pair. Supported groups: 1 (HIPv1 384-bit), 3 (1536), 4 (3072), 11 (2048) MODP;
   * 7 (P-256), 8 (P-384) ECDH. `privateKey` is for tests and vectors: the MODP exponent
   * big-endian, or the EC scalar.
   */
  dhGenerate(group: number, privateKey?: Uint8Array): DhKeyPair;
  /**
   * The shared secret Kij. ECDH: the x coordinate, field-size fixed length. MODP:
   * minimal-length big-endian (leading zero bytes stripped, as OpenSSL DH_compute_key and
   * libhipl do; HIPV1-PROFILE 8.2), used for v2 as well. Throws `ERR_CRYPTO_BAD_PUBLIC_VALUE`
   * for an invalid peer value (wrong length, not on the curve, 0, 1 or p-1 for MODP).
   */
  dhCompute(own: DhKeyPair, peerPublicValue: Uint8Array): Uint8Array;
  /** Parse a private key once; repeated calls with the same material object are cached. */
  importSigningKey(key: PrivateKeyMaterial): SigningKey;
  /** Parse a public key once; repeated calls with the same material object are cached. */
  importVerifyingKey(key: PublicKeyMaterial): VerifyingKey;
  /**
   * Sign `data`. ECDSA: raw r | s, each padded to the order size; 'ecdsa-sha256' and
   * 'ecdsa-sha384' name the message hash and work with either curve. RSA-PSS: MGF1 with the same
   * hash, salt as long as the hash. 'rsa-pkcs1-sha1': HIPv1's RSASSA-PKCS1-v1_5. 'ed25519': pure
   * Ed25519. Throws `ERR_CRYPTO_KEY_MISMATCH` when the scheme does not fit the key.
   */
  sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array;
  /**
   * Check a signature. Returns false (never throws) for a wrong, malformed or wrongly sized
   * signature; accepts high-S ECDSA and any RSA-PSS salt length. Throws only for a scheme that
   * does not fit the key (`ERR_CRYPTO_KEY_MISMATCH`).
   */
  verify(key: VerifyingKey, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean;
  /** AES-CBC with PKCS#7 padding (HIP ENCRYPTED parameter); 16- or 32-byte key, 16-byte IV. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Inverse of {@link CryptoProvider.aesCbcEncrypt}; throws `ERR_CRYPTO_DECRYPT` on bad padding or length. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}
