/**
 * The node:crypto provider: OpenSSL underneath, the fast default on Node.
 *
 * Hot paths avoid needless work: keys are parsed into `KeyObject`s once and cached per material
 * object, results are handed out as views over node's buffers rather than copies, and one-shot
 * APIs (`crypto.hash`, `crypto.sign`) are used where Node has them.
 * @module
 */

import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createDiffieHellman,
  createECDH,
  createHmac,
  createPublicKey,
  hkdfSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type DiffieHellman,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import * as nodeCryptoModule from 'node:crypto';
import { HipCryptoError } from '../errors.js';
import {
  badPublicValue,
  checkEcdhPublicValueLength,
  checkModpPrivateKey,
  checkModpPublicValue,
  randomModpExponent,
  stripLeadingZeros,
} from './dh-checks.js';
import { dhGroup, type DhGroupParams, type EcdhGroup, type ModpGroup } from './dh-groups.js';
import { bytesToBigInt } from './bigint.js';
import { hashLength } from './hash-info.js';
import { materialToKeyObject, materialToPublicKeyObject } from './key-convert.js';
import { modpPublicValue, modpSharedSecret } from './modp-bigint.js';
import type { HashName, PrivateKeyMaterial, PublicKeyMaterial, SignatureScheme } from './keys.js';
import type { CryptoProvider, DhKeyPair, SigningKey, VerifyingKey } from './provider.js';
import {
  checkAesArgs,
  checkHkdfArgs,
  checkRandomLength,
  schemeHash,
  schemeMismatch,
  schemeKind,
} from './provider-checks.js';

/** A plain Uint8Array view over a Buffer's bytes (no copy); Buffer#slice semantics stay out. */
function u8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Wrap bytes as a Buffer without copying (node APIs want Buffers or accept views). */
function buf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const NODE_CURVE = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' } as const;

/**
 * `crypto.hash` (one call, no Hash object) exists from Node 20.12; read it off the namespace so
 * older Node 20 releases still load this module and fall back to createHash.
 */
const oneShotHash = (nodeCryptoModule as { hash?: typeof nodeCryptoModule.hash }).hash;

class NodeSigningKey implements SigningKey {
  declare readonly scheme?: never;
  constructor(
    readonly material: PrivateKeyMaterial,
    readonly keyObject: KeyObject,
  ) {}
}

class NodeVerifyingKey implements VerifyingKey {
  declare readonly scheme?: never;
  constructor(
    readonly material: PublicKeyMaterial,
    readonly keyObject: KeyObject,
    /** The only valid signature length: OpenSSL would also take shorter RSA signatures. */
    readonly sigLength: number,
  ) {}
}

/** Signature length of a key: modulus bytes (RSA), 2 x order bytes (ECDSA), 64 (Ed25519). */
function signatureLength(m: PublicKeyMaterial): number {
  switch (m.kind) {
    case 'ecdsa':
      return m.curve === 'P-384' ? 96 : 64;
    case 'rsa': {
      const n = bytesToBigInt(m.n);
      return Math.ceil(n.toString(2).length / 8);
    }
    case 'ed25519':
      return 64;
  }
}

/**
 * OpenSSL takes inconsistent private keys without complaint and then signs garbage; catch that
 * once at import, as the noble provider does.
 */
function checkPrivateConsistency(m: PrivateKeyMaterial, keyObject: KeyObject): void {
  if (m.kind === 'ed25519') {
    // node builds the key from the seed alone; the stored public key must be its own
    const x = createPublicKey(keyObject).export({ format: 'jwk' }).x;
    if (x !== Buffer.from(m.publicKey.buffer, m.publicKey.byteOffset, m.publicKey.byteLength).toString('base64url')) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'Ed25519 public key does not match seed');
    }
  } else if (m.kind === 'ecdsa') {
    const ecdh = createECDH(NODE_CURVE[m.curve]);
    try {
      ecdh.setPrivateKey(buf(m.d));
    } catch {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'invalid ECDSA private scalar');
    }
    const pub = u8(ecdh.getPublicKey());
    if (pub.length !== m.point.length || !pub.every((b, i) => b === m.point[i])) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'ECDSA point does not match d');
    }
  } else if (m.kind === 'rsa') {
    if (bytesToBigInt(m.p) * bytesToBigInt(m.q) !== bytesToBigInt(m.n)) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'RSA key: p * q != n');
    }
  }
}

class NodeDhKeyPair implements DhKeyPair {
  readonly group: number;
  readonly publicValue: Uint8Array;
  /** @internal */
  readonly spec: DhGroupParams;
  /** @internal the OpenSSL object, or the exponent for groups OpenSSL refuses */
  readonly agreement: ECDH | DiffieHellman | bigint;

  constructor(spec: DhGroupParams, agreement: ECDH | DiffieHellman | bigint, publicValue: Uint8Array) {
    this.group = spec.id;
    this.spec = spec;
    this.agreement = agreement;
    this.publicValue = publicValue;
  }
}

const signingKeys = new WeakMap<PrivateKeyMaterial, NodeSigningKey>();
const verifyingKeys = new WeakMap<PublicKeyMaterial, NodeVerifyingKey>();

function generateEcdh(spec: EcdhGroup, privateKey?: Uint8Array): NodeDhKeyPair {
  const ecdh = createECDH(NODE_CURVE[spec.curve]);
  let pub: Buffer;
  if (privateKey === undefined) {
    pub = ecdh.generateKeys();
  } else {
    if (privateKey.length === 0 || privateKey.length > spec.fieldBytes) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `EC private key must be 1..${spec.fieldBytes} bytes`, {
        group: spec.id,
        length: privateKey.length,
      });
    }
    try {
      ecdh.setPrivateKey(buf(privateKey));
    } catch (e) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `invalid EC private key for group ${spec.id}`, {
        group: spec.id,
        cause: e instanceof Error ? e.message : String(e),
      });
    }
    pub = ecdh.getPublicKey();
  }
  // drop the 0x04 prefix: HIP carries X | Y
  return new NodeDhKeyPair(spec, ecdh, u8(pub).subarray(1));
}

function generateModp(spec: ModpGroup, privateKey?: Uint8Array): NodeDhKeyPair {
  const x =
    privateKey === undefined
      ? randomModpExponent(spec, (n) => u8(nodeRandomBytes(n)))
      : checkModpPrivateKey(spec, privateKey);
  if (spec.byteLength < 64) {
    // OpenSSL 3 refuses moduli under 512 bits (HIPv1 group 1)
    const exponent = bytesToBigInt(x);
    return new NodeDhKeyPair(spec, exponent, modpPublicValue(spec, exponent));
  }
  const dh = createDiffieHellman(buf(spec.prime), 2);
  dh.setPrivateKey(buf(x));
  const pub = dh.generateKeys();
  let pv: Uint8Array = u8(pub);
  if (pv.length < spec.byteLength) {
    const padded = new Uint8Array(spec.byteLength);
    padded.set(pv, spec.byteLength - pv.length);
    pv = padded;
  }
  return new NodeDhKeyPair(spec, dh, pv);
}

function asNodeSigning(key: SigningKey): NodeSigningKey {
  if (!(key instanceof NodeSigningKey)) {
    throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'signing key was not imported by the node provider');
  }
  return key;
}

function asNodeVerifying(key: VerifyingKey): NodeVerifyingKey {
  if (!(key instanceof NodeVerifyingKey)) {
    throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'verifying key was not imported by the node provider');
  }
  return key;
}

/** Options for crypto.sign/verify for a scheme (null digest for Ed25519). */
function signArgs(scheme: SignatureScheme, key: KeyObject, verifying: boolean) {
  switch (scheme) {
    case 'ecdsa-sha256':
    case 'ecdsa-sha384':
      return { alg: schemeHash(scheme), opts: { key, dsaEncoding: 'ieee-p1363' as const } };
    case 'rsa-pss-sha256':
    case 'rsa-pss-sha384': {
      const h = schemeHash(scheme);
      return {
        alg: h,
        opts: {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: verifying ? constants.RSA_PSS_SALTLEN_AUTO : hashLength(h),
        },
      };
    }
    case 'rsa-pkcs1-sha1':
      return { alg: 'sha1', opts: { key, padding: constants.RSA_PKCS1_PADDING } };
    case 'ed25519':
      return { alg: null, opts: key };
  }
}

/**
 * The node:crypto provider.
 *
 * @example
 * ```ts
 * import { nodeCrypto } from 'hipl';
 * const mac = nodeCrypto.hmac('sha256', key, bytes);
 * ```
 */
export const nodeCrypto: CryptoProvider = {
  name: 'node',

  randomBytes(length: number): Uint8Array {
    checkRandomLength(length);
    return u8(nodeRandomBytes(length));
  },

  hash(alg: HashName, data: Uint8Array): Uint8Array {
    hashLength(alg);
    if (oneShotHash !== undefined) return u8(oneShotHash(alg, data, 'buffer'));
    // Node before 20.12 has no one-shot crypto.hash
    return u8(createHash(alg).update(data).digest());
  },

  hmac(alg: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    hashLength(alg);
    return u8(createHmac(alg, key).update(data).digest());
  },

  hkdf(alg: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArgs(alg, info, length);
    if (length === 0) return new Uint8Array(0);
    return new Uint8Array(hkdfSync(alg, ikm, salt, info, length));
  },

  dhGenerate(group: number, privateKey?: Uint8Array): DhKeyPair {
    const spec = dhGroup(group);
    return spec.kind === 'ecdh' ? generateEcdh(spec, privateKey) : generateModp(spec, privateKey);
  },

  dhCompute(own: DhKeyPair, peerPublicValue: Uint8Array): Uint8Array {
    if (!(own instanceof NodeDhKeyPair)) {
      throw new HipCryptoError('ERR_CRYPTO_KEY_MISMATCH', 'DH key pair was not made by the node provider');
    }
    const spec = own.spec;
    if (spec.kind === 'ecdh') {
      checkEcdhPublicValueLength(spec, peerPublicValue);
      const point = Buffer.allocUnsafe(1 + peerPublicValue.length);
      point[0] = 0x04;
      point.set(peerPublicValue, 1);
      try {
        return u8((own.agreement as ECDH).computeSecret(point));
      } catch {
        throw badPublicValue(spec, 'public value is not a point on the curve');
      }
    }
    const padded = checkModpPublicValue(spec, peerPublicValue);
    if (typeof own.agreement === 'bigint') return modpSharedSecret(spec, own.agreement, padded);
    // computeSecret pads to the prime length; Kij is the minimal encoding
    return stripLeadingZeros(u8(own.agreement.computeSecret(buf(padded))));
  },

  importSigningKey(key: PrivateKeyMaterial): SigningKey {
    let k = signingKeys.get(key);
    if (k === undefined) {
      k = new NodeSigningKey(key, materialToKeyObject(key));
      if (k.keyObject.type !== 'private') {
        throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'signing key material has no private part');
      }
      checkPrivateConsistency(key, k.keyObject);
      signingKeys.set(key, k);
    }
    return k;
  },

  importVerifyingKey(key: PublicKeyMaterial): VerifyingKey {
    let k = verifyingKeys.get(key);
    if (k === undefined) {
      k = new NodeVerifyingKey(key, materialToPublicKeyObject(key), signatureLength(key));
      verifyingKeys.set(key, k);
    }
    return k;
  },

  sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array {
    const k = asNodeSigning(key);
    if (schemeKind(scheme) !== k.material.kind) throw schemeMismatch(scheme, k.material.kind);
    const { alg, opts } = signArgs(scheme, k.keyObject, false);
    try {
      return u8(nodeSign(alg, data, opts));
    } catch (e) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `cannot sign with ${scheme}`, {
        scheme,
        cause: e instanceof Error ? e.message : String(e),
      });
    }
  },

  verify(key: VerifyingKey, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean {
    const k = asNodeVerifying(key);
    if (schemeKind(scheme) !== k.material.kind) throw schemeMismatch(scheme, k.material.kind);
    if (signature.length !== k.sigLength) return false;
    const { alg, opts } = signArgs(scheme, k.keyObject, true);
    try {
      return nodeVerify(alg, data, opts, signature);
    } catch {
      return false;
    }
  },

  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkAesArgs(key, iv);
    const c = createCipheriv(key.length === 16 ? 'aes-128-cbc' : 'aes-256-cbc', key, iv);
    return u8(Buffer.concat([c.update(plaintext), c.final()]));
  },

  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkAesArgs(key, iv);
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
      throw new HipCryptoError('ERR_CRYPTO_DECRYPT', 'ciphertext length is not a positive multiple of 16', {
        length: ciphertext.length,
      });
    }
    const d = createDecipheriv(key.length === 16 ? 'aes-128-cbc' : 'aes-256-cbc', key, iv);
    try {
      return u8(Buffer.concat([d.update(ciphertext), d.final()]));
    } catch {
      throw new HipCryptoError('ERR_CRYPTO_DECRYPT', 'bad AES-CBC padding');
    }
  },
};
