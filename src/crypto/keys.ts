/**
 * Neutral, provider-independent forms of public and private keys. Identities are stored and
 * exchanged in these forms; each crypto provider imports them once into its own key objects.
 * @module
 */

/** The public-key algorithms a host identity can use. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa' | 'ed25519';

/** An ECDSA public key: NIST P-256 or P-384, uncompressed point `0x04 | X | Y`. */
export interface EcdsaPublicKey {
  /** Discriminator. */
  kind: 'ecdsa';
  /** NIST curve. */
  curve: 'P-256' | 'P-384';
  /** Uncompressed SEC1 point: 0x04 | X | Y, coordinates zero-padded to the field size. */
  point: Uint8Array;
}

/** An RSA public key: big-endian modulus and exponent without leading zeros. */
export interface RsaPublicKey {
  /** Discriminator. */
  kind: 'rsa';
  /** Modulus. */
  n: Uint8Array;
  /** Public exponent. */
  e: Uint8Array;
}

/** An Ed25519 public key: the 32-byte RFC 8032 encoding. */
export interface Ed25519PublicKey {
  /** Discriminator. */
  kind: 'ed25519';
  /** The 32-byte public key. */
  publicKey: Uint8Array;
}

/** Any public key hipl can use for a host identity. */
export type PublicKeyMaterial = EcdsaPublicKey | RsaPublicKey | Ed25519PublicKey;

/** An ECDSA private key: the public point plus the scalar `d` (field-size, big-endian). */
export interface EcdsaPrivateKey extends EcdsaPublicKey {
  /** Private scalar. */
  d: Uint8Array;
}

/** An RSA private key with its CRT components (all big-endian, no leading zeros). */
export interface RsaPrivateKey extends RsaPublicKey {
  /** Private exponent. */
  d: Uint8Array;
  /** First prime. */
  p: Uint8Array;
  /** Second prime. */
  q: Uint8Array;
  /** d mod (p-1). */
  dp: Uint8Array;
  /** d mod (q-1). */
  dq: Uint8Array;
  /** q^-1 mod p. */
  qi: Uint8Array;
}

/** An Ed25519 private key: the 32-byte seed plus the public key. */
export interface Ed25519PrivateKey extends Ed25519PublicKey {
  /** The 32-byte private seed. */
  seed: Uint8Array;
}

/** Any private key hipl can use for a host identity. */
export type PrivateKeyMaterial = EcdsaPrivateKey | RsaPrivateKey | Ed25519PrivateKey;

/**
 * Signature schemes used on the wire. ECDSA signatures are raw `r | s` (not DER), each half
 * zero-padded to the group order size; RSA-PSS uses MGF1 with the same hash and a salt as long
 * as the hash; `rsa-pkcs1-sha1` is HIPv1's RSASSA-PKCS1-v1_5 with SHA-1.
 */
export type SignatureScheme =
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'rsa-pkcs1-sha1'
  | 'ed25519';

/** Hash functions HIP uses (RHASH and the v1 SHA-1). */
export type HashName = 'sha1' | 'sha256' | 'sha384';

/** The public half of a private key. */
export function publicKeyOf(key: PrivateKeyMaterial): PublicKeyMaterial {
  switch (key.kind) {
    case 'ecdsa':
      return { kind: 'ecdsa', curve: key.curve, point: key.point };
    case 'rsa':
      return { kind: 'rsa', n: key.n, e: key.e };
    case 'ed25519':
      return { kind: 'ed25519', publicKey: key.publicKey };
  }
}
