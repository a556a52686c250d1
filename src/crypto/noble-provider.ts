/**
 * The portable provider: @noble/hashes, @noble/curves and @noble/ciphers for everything they
 * cover, and plain bigint arithmetic for what they do not (MODP Diffie-Hellman, RSA). It needs
 * no node:crypto, only `crypto.getRandomValues`.
 *
 * Not constant time: the RSA and MODP code is plain `bigint` arithmetic, whose running time
 * depends on the secret exponent. Use it where node:crypto is missing or to cross-check it;
 * everything in hipl defaults to node:crypto (`getProvider()`, hosts, engines).
 * @module
 */

import { cbc } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { HipCryptoError } from '../errors.js';
import { bytesToBigInt } from './bigint.js';
import {
  badPublicValue,
  checkEcdhPublicValueLength,
  checkModpPrivateKey,
  checkModpPublicValue,
  randomModpExponent,
} from './dh-checks.js';
import { dhGroup, type DhGroupParams, type EcdhGroup, type ModpGroup } from './dh-groups.js';
import { hashLength } from './hash-info.js';
import { modpPublicValue, modpSharedSecret } from './modp-bigint.js';
import type { HashName, PrivateKeyMaterial, PublicKeyMaterial, SignatureScheme } from './keys.js';
import type { CryptoProvider, DhKeyPair, SigningKey, VerifyingKey } from './provider.js';
import {
  checkAesArgs,
  checkHkdfArgs,
  checkRandomLength,
  schemeHash,
  schemeKind,
  schemeMismatch,
} from './provider-checks.js';
import {
  parseRsaPrivate,
  parseRsaPublic,
  rsaPkcs1Sign,
  rsaPkcs1Verify,
  rsaPssSign,
  rsaPssVerify,
  type RsaPrivateNumbers,
  type RsaPublicNumbers,
} from './rsa-bigint.js';

const HASHES = { sha1, sha256, sha384 } as const;

function hashFn(alg: HashName) {
  const h = HASHES[alg];
  if (h === undefined) hashLength(alg); // throws the typed error
  return h;
}

function digest(alg: HashName, data: Uint8Array): Uint8Array {
  return hashFn(alg)(data);
}

const CURVES = { 'P-256': p256, 'P-384': p384 } as const;
type Curve = (typeof CURVES)[keyof typeof CURVES];

function curveOf(name: string): Curve {
  const c = CURVES[name as keyof typeof CURVES];
  if (c === undefined) throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported curve ${name}`);
  return c;
}

type NobleSigning =
  | { kind: 'ecdsa'; curve: Curve; d: Uint8Array }
  | { kind: 'rsa'; rsa: RsaPrivateNumbers }
  | { kind: 'ed25519'; seed: Uint8Array };

type NobleVerifying =
  | { kind: 'ecdsa'; curve: Curve; point: Uint8Array; sigLength: number }
  | { kind: 'rsa'; rsa: RsaPublicNumbers }
  | { kind: 'ed25519'; publicKey: Uint8Array };

class NobleSigningKey implements SigningKey {
  declare readonly scheme?: never;
  constructor(readonly key: NobleSigning) {}
}

class NobleVerifyingKey implements VerifyingKey {
  declare readonly scheme?: never;
  constructor(readonly key: NobleVerifying) {}
}

class NobleDhKeyPair implements DhKeyPair {
  readonly group: number;
  readonly publicValue: Uint8Array;
  /** @internal */
  readonly spec: DhGroupParams;
  /** @internal EC scalar (field size) or MODP exponent */
  readonly secret: Uint8Array | bigint;

  constructor(spec: DhGroupParams, secret: Uint8Array | bigint, publicValue: Uint8Array) {
    this.group = spec.id;
    this.spec = spec;
    this.secret = secret;
    this.publicValue = publicValue;
  }
}

const signingKeys = new WeakMap<PrivateKeyMaterial, NobleSigningKey>();
const verifyingKeys = new WeakMap<PublicKeyMaterial, NobleVerifyingKey>();

function badKey(why: string, details?: Record<string, unknown>): HipCryptoError {
  return new HipCryptoError('ERR_CRYPTO_BAD_KEY', why, details);
}

function leftPad(bytes: Uint8Array, length: number): Uint8Array | undefined {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0 && bytes.length - i > length) i++;
  const b = bytes.subarray(i);
  if (b.length > length) return undefined;
  if (b.length === length) return b;
  const out = new Uint8Array(length);
  out.set(b, length - b.length);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

function ecPublicPoint(curve: Curve, point: Uint8Array, fieldBytes: number): Uint8Array {
  if (point.length !== 1 + 2 * fieldBytes || point[0] !== 0x04) {
    throw badKey(`EC point must be 0x04 | X | Y (${1 + 2 * fieldBytes} bytes)`, { length: point.length });
  }
  try {
    curve.Point.fromBytes(point).assertValidity();
  } catch {
    throw badKey('EC point is not on the curve');
  }
  return point;
}

function importSigning(m: PrivateKeyMaterial): NobleSigning {
  switch (m.kind) {
    case 'ecdsa': {
      const curve = curveOf(m.curve);
      const size = curve.lengths.secretKey!;
      const d = leftPad(m.d, size);
      if (d === undefined || !curve.utils.isValidSecretKey(d)) throw badKey('invalid ECDSA private scalar');
      ecPublicPoint(curve, m.point, size);
      if (!equalBytes(curve.getPublicKey(d, false), m.point)) throw badKey('ECDSA point does not match d');
      return { kind: 'ecdsa', curve, d };
    }
    case 'rsa':
      return { kind: 'rsa', rsa: parseRsaPrivate(m) };
    case 'ed25519': {
      if (m.seed.length !== 32 || m.publicKey.length !== 32) throw badKey('Ed25519 seed and key must be 32 bytes');
      if (!equalBytes(ed25519.getPublicKey(m.seed), m.publicKey)) throw badKey('Ed25519 public key does not match seed');
      return { kind: 'ed25519', seed: m.seed };
    }
    default:
      throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported key kind ${String((m as { kind?: unknown }).kind)}`);
  }
}

function importVerifying(m: PublicKeyMaterial): NobleVerifying {
  switch (m.kind) {
    case 'ecdsa': {
      const curve = curveOf(m.curve);
      const size = curve.lengths.secretKey!;
      return { kind: 'ecdsa', curve, point: ecPublicPoint(curve, m.point, size), sigLength: 2 * size };
    }
    case 'rsa':
      return { kind: 'rsa', rsa: parseRsaPublic(m) };
    case 'ed25519':
      if (m.publicKey.length !== 32) throw badKey('Ed25519 public key must be 32 bytes');
      return { kind: 'ed25519', publicKey: m.publicKey };
    default:
      throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported key kind ${String((m as { kind?: unknown }).kind)}`);
  }
}

function generateEcdh(spec: EcdhGroup, privateKey?: Uint8Array): NobleDhKeyPair {
  const curve = curveOf(spec.curve);
  let d: Uint8Array;
  if (privateKey === undefined) {
    d = curve.utils.randomSecretKey();
  } else {
    const padded = privateKey.length === 0 ? undefined : leftPad(privateKey, spec.fieldBytes);
    if (padded === undefined || !curve.utils.isValidSecretKey(padded)) {
      throw badKey(`invalid EC private key for group ${spec.id}`, { group: spec.id, length: privateKey.length });
    }
    d = padded;
  }
  return new NobleDhKeyPair(spec, d, curve.getPublicKey(d, false).subarray(1));
}

function generateModp(spec: ModpGroup, privateKey?: Uint8Array): NobleDhKeyPair {
  const xBytes =
    privateKey === undefined ? randomModpExponent(spec, nobleRandomBytes) : checkModpPrivateKey(spec, privateKey);
  const x = bytesToBigInt(xBytes);
  return new NobleDhKeyPair(spec, x, modpPublicValue(spec, x));
}

function asNobleSigning(key: SigningKey): NobleSigning {
  if (!(key instanceof NobleSigningKey)) {
    throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'signing key was not imported by the noble provider');
  }
  return key.key;
}

function asNobleVerifying(key: VerifyingKey): NobleVerifying {
  if (!(key instanceof NobleVerifyingKey)) {
    throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'verifying key was not imported by the noble provider');
  }
  return key.key;
}

/**
 * The portable provider (`@noble/*` plus bigint RSA and MODP).
 *
 * @example
 * ```ts
 * import { nobleCrypto } from 'hipl';
 * const digest = nobleCrypto.hash('sha256', bytes);
 * ```
 */
export const nobleCrypto: CryptoProvider = {
  name: 'noble',

  randomBytes(length: number): Uint8Array {
    checkRandomLength(length);
    return nobleRandomBytes(length);
  },

  hash(alg: HashName, data: Uint8Array): Uint8Array {
    return digest(alg, data);
  },

  hmac(alg: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return nobleHmac(hashFn(alg), key, data);
  },

  hkdf(alg: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArgs(alg, info, length);
    if (length === 0) return new Uint8Array(0);
    return nobleHkdf(hashFn(alg), ikm, salt, info, length);
  },

  dhGenerate(group: number, privateKey?: Uint8Array): DhKeyPair {
    const spec = dhGroup(group);
    return spec.kind === 'ecdh' ? generateEcdh(spec, privateKey) : generateModp(spec, privateKey);
  },

  dhCompute(own: DhKeyPair, peerPublicValue: Uint8Array): Uint8Array {
    if (!(own instanceof NobleDhKeyPair)) {
      throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'DH key pair was not made by the noble provider');
    }
    const spec = own.spec;
    if (spec.kind === 'ecdh') {
      checkEcdhPublicValueLength(spec, peerPublicValue);
      const point = new Uint8Array(1 + peerPublicValue.length);
      point[0] = 0x04;
      point.set(peerPublicValue, 1);
      try {
        // compressed shared point: prefix byte | X
        return curveOf(spec.curve).getSharedSecret(own.secret as Uint8Array, point).subarray(1);
      } catch {
        throw badPublicValue(spec, 'public value is not a point on the curve');
      }
    }
    return modpSharedSecret(spec, own.secret as bigint, checkModpPublicValue(spec, peerPublicValue));
  },

  importSigningKey(key: PrivateKeyMaterial): SigningKey {
    let k = signingKeys.get(key);
    if (k === undefined) {
      k = new NobleSigningKey(importSigning(key));
      signingKeys.set(key, k);
    }
    return k;
  },

  importVerifyingKey(key: PublicKeyMaterial): VerifyingKey {
    let k = verifyingKeys.get(key);
    if (k === undefined) {
      k = new NobleVerifyingKey(importVerifying(key));
      verifyingKeys.set(key, k);
    }
    return k;
  },

  sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array {
    const k = asNobleSigning(key);
    if (schemeKind(scheme) !== k.kind) throw schemeMismatch(scheme, k.kind);
    switch (k.kind) {
      case 'ecdsa': {
        // hash here so either hash works with either curve
        const h = digest(schemeHash(scheme as 'ecdsa-sha256' | 'ecdsa-sha384'), data);
        return k.curve.sign(h, k.d, { prehash: false });
      }
      case 'rsa':
        if (scheme === 'rsa-pkcs1-sha1') return rsaPkcs1Sign(k.rsa, digest, 'sha1', data);
        {
          const h = schemeHash(scheme as 'rsa-pss-sha256' | 'rsa-pss-sha384');
          return rsaPssSign(k.rsa, digest, h, data, nobleRandomBytes(hashLength(h)));
        }
      case 'ed25519':
        return ed25519.sign(data, k.seed);
    }
  },

  verify(key: VerifyingKey, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean {
    const k = asNobleVerifying(key);
    if (schemeKind(scheme) !== k.kind) throw schemeMismatch(scheme, k.kind);
    try {
      switch (k.kind) {
        case 'ecdsa': {
          if (signature.length !== k.sigLength) return false;
          const h = digest(schemeHash(scheme as 'ecdsa-sha256' | 'ecdsa-sha384'), data);
          // OpenSSL peers produce high-S signatures half the time
          return k.curve.verify(signature, h, k.point, { prehash: false, lowS: false });
        }
        case 'rsa':
          if (scheme === 'rsa-pkcs1-sha1') return rsaPkcs1Verify(k.rsa, digest, 'sha1', data, signature);
          return rsaPssVerify(k.rsa, digest, schemeHash(scheme as 'rsa-pss-sha256' | 'rsa-pss-sha384'), data, signature);
        case 'ed25519':
          if (signature.length !== 64) return false;
          // RFC 8032 strict decoding, as OpenSSL does, rather than ZIP-215
          return ed25519.verify(signature, data, k.publicKey, { zip215: false });
      }
    } catch {
      return false;
    }
  },

  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkAesArgs(key, iv);
    return cbc(key, iv).encrypt(plaintext);
  },

  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkAesArgs(key, iv);
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
      throw new HipCryptoError('ERR_CRYPTO_DECRYPT', 'ciphertext length is not a positive multiple of 16', {
        length: ciphertext.length,
      });
    }
    try {
      return cbc(key, iv).decrypt(ciphertext);
    } catch {
      throw new HipCryptoError('ERR_CRYPTO_DECRYPT', 'bad AES-CBC padding');
    }
  },
};
