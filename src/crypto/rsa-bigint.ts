/**
 * RSA signatures in plain bigint arithmetic for the portable provider (@noble has no RSA):
 * RSASSA-PSS and RSASSA-PKCS1-v1_5 of RFC 8017, sections 8 and 9. Signing uses the CRT and
 * checks its own result before releasing it, so a computation fault cannot leak the key.
 *
 * Not constant-time: acceptable for the portable fallback, the node provider is the default.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import { bigIntToBytes, bitLength, bytesToBigInt, modPow } from './bigint.js';
import { hashLength } from './hash-info.js';
import type { HashName, RsaPrivateKey, RsaPublicKey } from './keys.js';

/** A hash function by name, supplied by the caller so this module stays dependency-free. */
export type HashFunction = (alg: HashName, data: Uint8Array) => Uint8Array;

/** A parsed RSA public key. */
export interface RsaPublicNumbers {
  readonly n: bigint;
  readonly e: bigint;
  /** Modulus length in bytes (= signature length). */
  readonly k: number;
  /** Modulus length in bits. */
  readonly bits: number;
}

/** A parsed RSA private key with its CRT components. */
export interface RsaPrivateNumbers extends RsaPublicNumbers {
  readonly p: bigint;
  readonly q: bigint;
  readonly dp: bigint;
  readonly dq: bigint;
  readonly qi: bigint;
}

function badKey(why: string): HipCryptoError {
  return new HipCryptoError('ERR_CRYPTO_BAD_KEY', `RSA key: ${why}`);
}

/**
 * Parse and sanity-check an RSA public key. Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY` for
 * a modulus under 512 bits or an even one, or an exponent that is even, 1, or not below n.
 */
export function parseRsaPublic(key: RsaPublicKey): RsaPublicNumbers {
  const n = bytesToBigInt(key.n);
  const e = bytesToBigInt(key.e);
  const bits = bitLength(n);
  if (bits < 512 || (n & 1n) === 0n) throw badKey('modulus must be odd and at least 512 bits');
  if (e < 3n || (e & 1n) === 0n || e >= n) throw badKey('bad public exponent');
  return { n, e, k: Math.ceil(bits / 8), bits };
}

/**
 * Parse an RSA private key and check that its parts fit together (p·q = n, the CRT exponents
 * and coefficient are consistent). Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY`.
 */
export function parseRsaPrivate(key: RsaPrivateKey): RsaPrivateNumbers {
  const pub = parseRsaPublic(key);
  const p = bytesToBigInt(key.p);
  const q = bytesToBigInt(key.q);
  const dp = bytesToBigInt(key.dp);
  const dq = bytesToBigInt(key.dq);
  const qi = bytesToBigInt(key.qi);
  if (p < 3n || q < 3n || p * q !== pub.n) throw badKey('p * q != n');
  if ((qi * q) % p !== 1n) throw badKey('qi is not q^-1 mod p');
  // e * dp = 1 mod (p-1): checked through a round trip, which also covers dq
  const probe = 0x1234567n % pub.n;
  const priv = { ...pub, p, q, dp, dq, qi };
  if (modPow(privateOp(priv, probe), pub.e, pub.n) !== probe) throw badKey('CRT exponents do not match e');
  return priv;
}

/** m^d mod n through the CRT (Garner's formula). */
function privateOp(key: RsaPrivateNumbers, m: bigint): bigint {
  const m1 = modPow(m, key.dp, key.p);
  const m2 = modPow(m, key.dq, key.q);
  let h = ((m1 - m2) * key.qi) % key.p;
  if (h < 0n) h += key.p;
  return m2 + h * key.q;
}

/** The signature primitive with a fault check: s^e must give back m. */
function signRaw(key: RsaPrivateNumbers, em: Uint8Array): Uint8Array {
  const m = bytesToBigInt(em);
  const s = privateOp(key, m);
  if (modPow(s, key.e, key.n) !== m) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'RSA signature self-check failed');
  }
  return bigIntToBytes(s, key.k)!;
}

/** s^e mod n as emLen bytes, or undefined when the signature is malformed. */
function openRaw(key: RsaPublicNumbers, signature: Uint8Array, emLen: number): Uint8Array | undefined {
  if (signature.length !== key.k) return undefined;
  const s = bytesToBigInt(signature);
  if (s >= key.n) return undefined;
  return bigIntToBytes(modPow(s, key.e, key.n), emLen);
}

/** MGF1 (RFC 8017 B.2.1) with the given hash. */
function mgf1(hash: HashFunction, alg: HashName, seed: Uint8Array, length: number): Uint8Array {
  const hLen = hashLength(alg);
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, off = 0; off < length; counter++, off += hLen) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const block = hash(alg, input);
    out.set(block.subarray(0, Math.min(hLen, length - off)), off);
  }
  return out;
}

/** H(0x00 * 8 | mHash | salt), the PSS M' digest. */
function pssDigest(hash: HashFunction, alg: HashName, mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const mPrime = new Uint8Array(8 + mHash.length + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + mHash.length);
  return hash(alg, mPrime);
}

/**
 * RSASSA-PSS signature (MGF1 with the same hash) of `message` with the given salt.
 * Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY` when the modulus is too short for hash and salt.
 */
export function rsaPssSign(
  key: RsaPrivateNumbers,
  hash: HashFunction,
  alg: HashName,
  message: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  const hLen = hashLength(alg);
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw badKey('modulus too short for this PSS hash and salt');
  const h = pssDigest(hash, alg, hash(alg, message), salt);
  const dbLen = emLen - hLen - 1;
  const db = new Uint8Array(dbLen);
  db[dbLen - salt.length - 1] = 0x01;
  db.set(salt, dbLen - salt.length);
  const mask = mgf1(hash, alg, h, dbLen);
  const em = new Uint8Array(emLen);
  for (let i = 0; i < dbLen; i++) em[i] = db[i]! ^ mask[i]!;
  em[0] = em[0]! & (0xff >> (8 * emLen - emBits));
  em.set(h, dbLen);
  em[emLen - 1] = 0xbc;
  return signRaw(key, em);
}

/**
 * Verify an RSASSA-PSS signature, recovering the salt length from the encoding (any length is
 * accepted, like OpenSSL's RSA_PSS_SALTLEN_AUTO). Returns false for anything malformed.
 */
export function rsaPssVerify(
  key: RsaPublicNumbers,
  hash: HashFunction,
  alg: HashName,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const hLen = hashLength(alg);
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + 2) return false;
  const em = openRaw(key, signature, emLen);
  if (em === undefined || em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((em[0]! & ~topMask) !== 0) return false;
  const dbLen = emLen - hLen - 1;
  const h = em.subarray(dbLen, dbLen + hLen);
  const mask = mgf1(hash, alg, h, dbLen);
  const db = new Uint8Array(dbLen);
  for (let i = 0; i < dbLen; i++) db[i] = em[i]! ^ mask[i]!;
  db[0] = db[0]! & topMask;
  let i = 0;
  while (i < dbLen && db[i] === 0) i++;
  if (i === dbLen || db[i] !== 0x01) return false;
  const expected = pssDigest(hash, alg, hash(alg, message), db.subarray(i + 1));
  let diff = 0;
  for (let j = 0; j < hLen; j++) diff |= expected[j]! ^ h[j]!;
  return diff === 0;
}

/** DER DigestInfo prefixes of RFC 8017 section 9.2, note 1. */
const DIGEST_INFO: Record<HashName, Uint8Array> = {
  sha1: Uint8Array.from([0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]),
  sha256: Uint8Array.from([
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
  ]),
  sha384: Uint8Array.from([
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
  ]),
};

/** EMSA-PKCS1-v1_5 encoding: 00 01 FF.. 00 DigestInfo H, or undefined if k is too small. */
function pkcs1Encode(hash: HashFunction, alg: HashName, message: Uint8Array, k: number): Uint8Array | undefined {
  const prefix = DIGEST_INFO[alg];
  const h = hash(alg, message);
  const tLen = prefix.length + h.length;
  if (k < tLen + 11) return undefined;
  const em = new Uint8Array(k);
  em[1] = 0x01;
  em.fill(0xff, 2, k - tLen - 1);
  em.set(prefix, k - tLen);
  em.set(h, k - h.length);
  return em;
}

/**
 * RSASSA-PKCS1-v1_5 signature (deterministic). HIPv1 uses it with SHA-1.
 * Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY` when the modulus is too short.
 */
export function rsaPkcs1Sign(key: RsaPrivateNumbers, hash: HashFunction, alg: HashName, message: Uint8Array): Uint8Array {
  const em = pkcs1Encode(hash, alg, message, key.k);
  if (em === undefined) throw badKey('modulus too short for PKCS#1 v1.5');
  return signRaw(key, em);
}

/** Verify an RSASSA-PKCS1-v1_5 signature by re-encoding; false for anything malformed. */
export function rsaPkcs1Verify(
  key: RsaPublicNumbers,
  hash: HashFunction,
  alg: HashName,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const expected = pkcs1Encode(hash, alg, message, key.k);
  if (expected === undefined) return false;
  const em = openRaw(key, signature, key.k);
  if (em === undefined) return false;
  let diff = 0;
  for (let i = 0; i < em.length; i++) diff |= em[i]! ^ expected[i]!;
  return diff === 0;
}
