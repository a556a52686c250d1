/**
 * Fresh private keys for host identities, made without `KeyObject.export({ format: 'jwk' })`.
 *
 * On Node 20.20 a garbage collection during the JWK export of a freshly generated KeyObject can
 * run the destructor of the finished key-generation job, which waits on a lock the export holds:
 * the process hangs for ever (issue 9; a loop of `generateKeyPairSync('ec')` + JWK export hangs
 * within a few thousand keys). So: ECDSA keys come from ECDH (no KeyObject at all), and Ed25519
 * and RSA keys from `generateKeyPairSync` encoded to DER inside the same native call, parsed here.
 * @module
 */
import { createECDH, generateKeyPairSync } from 'node:crypto';
import { HipCryptoError } from '../errors.js';
import type { KeyAlgorithm, PrivateKeyMaterial } from './keys.js';

const EC = { 'ecdsa-p256': { curve: 'P-256', node: 'prime256v1', size: 32 }, 'ecdsa-p384': { curve: 'P-384', node: 'secp384r1', size: 48 } } as const;

/** PKCS#8 and SPKI DER of an Ed25519 key: a fixed prefix (RFC 8410), then the 32 key bytes. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function badDer(what: string): HipCryptoError {
  return new HipCryptoError('ERR_CRYPTO_BAD_KEY', `unexpected DER from node:crypto: ${what}`);
}

/** Big-endian unsigned integer without leading zero bytes (the neutral form), as a plain copy. */
function unsigned(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return new Uint8Array(bytes.subarray(i));
}

/** A minimal DER reader: enough for PKCS#1 RSAPrivateKey, a SEQUENCE of INTEGERs. */
class DerReader {
  private pos = 0;
  constructor(private readonly der: Uint8Array) {}

  /** Read one element of `tag`; returns its contents. */
  element(tag: number): Uint8Array {
    if (this.der[this.pos] !== tag) throw badDer(`tag ${String(this.der[this.pos])} where ${tag} was expected`);
    let len = this.der[this.pos + 1] ?? 0;
    let p = this.pos + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw badDer('length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (this.der[p++] ?? 0);
    }
    if (p + len > this.der.length) throw badDer('truncated');
    this.pos = p + len;
    return this.der.subarray(p, p + len);
  }
}

function rsaFromPkcs1(der: Uint8Array): PrivateKeyMaterial {
  const seq = new DerReader(new DerReader(der).element(0x30));
  const version = seq.element(0x02);
  if (version.length !== 1 || version[0] !== 0) throw badDer('RSAPrivateKey version');
  const [n, e, d, p, q, dp, dq, qi] = Array.from({ length: 8 }, () => unsigned(seq.element(0x02))) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return { kind: 'rsa', n, e, d, p, q, dp, dq, qi };
}

function afterPrefix(der: Buffer, prefix: Buffer, what: string): Uint8Array {
  if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) throw badDer(what);
  return new Uint8Array(der.subarray(prefix.length));
}

/**
 * A new private key of `algorithm` (RSA with `rsaBits` bits), as neutral key material.
 *
 * @example
 * ```ts
 * const key = generatePrivateKeyMaterial('ecdsa-p256', 2048); // { kind: 'ecdsa', curve, point, d }
 * ```
 */
export function generatePrivateKeyMaterial(algorithm: KeyAlgorithm, rsaBits: number): PrivateKeyMaterial {
  switch (algorithm) {
    case 'ecdsa-p256':
    case 'ecdsa-p384': {
      const { curve, node, size } = EC[algorithm];
      const ecdh = createECDH(node);
      const point = new Uint8Array(ecdh.generateKeys()); // uncompressed: 04 | x | y
      const raw = unsigned(ecdh.getPrivateKey());
      const d = new Uint8Array(size);
      d.set(raw, size - raw.length);
      return { kind: 'ecdsa', curve, point, d };
    }
    case 'ed25519': {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
        privateKeyEncoding: { type: 'pkcs8', format: 'der' },
        publicKeyEncoding: { type: 'spki', format: 'der' },
      });
      return { kind: 'ed25519', seed: afterPrefix(privateKey, ED25519_PKCS8_PREFIX, 'Ed25519 PKCS#8'), publicKey: afterPrefix(publicKey, ED25519_SPKI_PREFIX, 'Ed25519 SPKI') };
    }
    case 'rsa': {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: rsaBits,
        publicExponent: 65537,
        privateKeyEncoding: { type: 'pkcs1', format: 'der' },
        publicKeyEncoding: { type: 'pkcs1', format: 'der' },
      });
      return rsaFromPkcs1(privateKey);
    }
  }
}
