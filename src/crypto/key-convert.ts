/**
 * Conversion between node:crypto `KeyObject`s and hipl's neutral key material. JWK is the bridge:
 * it carries every component as plain big-endian bytes, which is exactly the neutral form.
 *
 * Node-only (it needs `node:crypto`); the portable provider never imports it.
 * @module
 */

import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { HipCryptoError } from '../errors.js';
import type {
  EcdsaPrivateKey,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  RsaPrivateKey,
} from './keys.js';

const EC_FIELD_BYTES = { 'P-256': 32, 'P-384': 48 } as const;

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function unb64u(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `JWK is missing ${what}`);
  }
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/** Big-endian integers in JWK must not carry leading zero bytes. */
function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return i === 0 ? bytes : bytes.subarray(i);
}

function leftPad(bytes: Uint8Array, length: number, what: string): Uint8Array {
  const b = stripZeros(bytes);
  if (b.length > length) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `${what} is longer than ${length} bytes`, {
      length: bytes.length,
    });
  }
  if (b.length === length) return b;
  const out = new Uint8Array(length);
  out.set(b, length - b.length);
  return out;
}

/**
 * Whether key material carries its private half (ECDSA `d`, RSA `d`, Ed25519 `seed`).
 *
 * @example
 * ```ts
 * if (isPrivateKeyMaterial(m)) provider.importSigningKey(m);
 * ```
 */
export function isPrivateKeyMaterial(
  m: PublicKeyMaterial | PrivateKeyMaterial,
): m is PrivateKeyMaterial {
  switch (m.kind) {
    case 'ecdsa':
    case 'rsa':
      return 'd' in m && m.d instanceof Uint8Array;
    case 'ed25519':
      return 'seed' in m && m.seed instanceof Uint8Array;
    default:
      return false;
  }
}

/**
 * Convert a node:crypto key (EC P-256/P-384, RSA, Ed25519) to neutral key material. A private
 * `KeyObject` gives {@link PrivateKeyMaterial} (with the public parts filled in), a public one
 * gives {@link PublicKeyMaterial}.
 *
 * Throws `HipCryptoError` `ERR_CRYPTO_UNSUPPORTED` for other key types and curves.
 *
 * @example
 * ```ts
 * const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
 * const material = keyObjectToMaterial(privateKey); // { kind: 'ecdsa', curve: 'P-256', point, d }
 * ```
 */
export function keyObjectToMaterial(k: KeyObject): PublicKeyMaterial | PrivateKeyMaterial {
  if (k.type === 'secret') {
    throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', 'a secret key is not a host identity key');
  }
  const type = k.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa' && type !== 'ed25519') {
    throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported key type ${String(type)}`, {
      keyType: type,
    });
  }
  const jwk = k.export({ format: 'jwk' });
  const isPrivate = k.type === 'private';
  switch (type) {
    case 'ec': {
      const curve = jwk.crv;
      if (curve !== 'P-256' && curve !== 'P-384') {
        throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported curve ${String(curve)}`, {
          curve,
        });
      }
      const size = EC_FIELD_BYTES[curve];
      const point = new Uint8Array(1 + 2 * size);
      point[0] = 0x04;
      point.set(leftPad(unb64u(jwk.x, 'x'), size, 'x'), 1);
      point.set(leftPad(unb64u(jwk.y, 'y'), size, 'y'), 1 + size);
      if (!isPrivate) return { kind: 'ecdsa', curve, point };
      return { kind: 'ecdsa', curve, point, d: leftPad(unb64u(jwk.d, 'd'), size, 'd') };
    }
    case 'rsa': {
      const n = stripZeros(unb64u(jwk.n, 'n'));
      const e = stripZeros(unb64u(jwk.e, 'e'));
      if (!isPrivate) return { kind: 'rsa', n, e };
      return {
        kind: 'rsa',
        n,
        e,
        d: stripZeros(unb64u(jwk.d, 'd')),
        p: stripZeros(unb64u(jwk.p, 'p')),
        q: stripZeros(unb64u(jwk.q, 'q')),
        dp: stripZeros(unb64u(jwk.dp, 'dp')),
        dq: stripZeros(unb64u(jwk.dq, 'dq')),
        qi: stripZeros(unb64u(jwk.qi, 'qi')),
      };
    }
    case 'ed25519': {
      const publicKey = unb64u(jwk.x, 'x');
      if (!isPrivate) return { kind: 'ed25519', publicKey };
      return { kind: 'ed25519', publicKey, seed: unb64u(jwk.d, 'd') };
    }
  }
}

/**
 * Like {@link keyObjectToMaterial} but insists on a private key.
 * Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY` for a public one.
 */
export function privateKeyObjectToMaterial(k: KeyObject): PrivateKeyMaterial {
  const m = keyObjectToMaterial(k);
  if (!isPrivateKeyMaterial(m)) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'expected a private key');
  }
  return m;
}

function ecJwk(m: PublicKeyMaterial & { kind: 'ecdsa' }): JsonWebKey {
  const size = EC_FIELD_BYTES[m.curve];
  if (size === undefined) {
    throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unsupported curve ${String(m.curve)}`);
  }
  if (m.point.length !== 1 + 2 * size || m.point[0] !== 0x04) {
    throw new HipCryptoError(
      'ERR_CRYPTO_BAD_KEY',
      `${m.curve} point must be 0x04 | X | Y (${1 + 2 * size} bytes)`,
      { length: m.point.length },
    );
  }
  return {
    kty: 'EC',
    crv: m.curve,
    x: b64u(m.point.subarray(1, 1 + size)),
    y: b64u(m.point.subarray(1 + size)),
  };
}

/** The JWK form of neutral material; private members only when `withPrivate`. */
function toJwk(m: PublicKeyMaterial | PrivateKeyMaterial, withPrivate: boolean): JsonWebKey {
  switch (m.kind) {
    case 'ecdsa': {
      const jwk = ecJwk(m);
      if (withPrivate) jwk.d = b64u(leftPad((m as EcdsaPrivateKey).d, EC_FIELD_BYTES[m.curve], 'd'));
      return jwk;
    }
    case 'rsa': {
      const jwk: JsonWebKey = { kty: 'RSA', n: b64u(stripZeros(m.n)), e: b64u(stripZeros(m.e)) };
      if (withPrivate) {
        const r = m as RsaPrivateKey;
        jwk.d = b64u(stripZeros(r.d));
        jwk.p = b64u(stripZeros(r.p));
        jwk.q = b64u(stripZeros(r.q));
        jwk.dp = b64u(stripZeros(r.dp));
        jwk.dq = b64u(stripZeros(r.dq));
        jwk.qi = b64u(stripZeros(r.qi));
      }
      return jwk;
    }
    case 'ed25519': {
      if (m.publicKey.length !== 32) {
        throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'Ed25519 public key must be 32 bytes', {
          length: m.publicKey.length,
        });
      }
      const jwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', x: b64u(m.publicKey) };
      if (withPrivate) {
        const seed = (m as { seed: Uint8Array }).seed;
        if (seed.length !== 32) {
          throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', 'Ed25519 seed must be 32 bytes', {
            length: seed.length,
          });
        }
        jwk.d = b64u(seed);
      }
      return jwk;
    }
    default:
      throw new HipCryptoError(
        'ERR_CRYPTO_UNSUPPORTED',
        `unsupported key kind ${String((m as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Convert neutral key material to a node:crypto `KeyObject`: a private key when the material
 * has its private half, otherwise a public key.
 *
 * Throws `HipCryptoError` `ERR_CRYPTO_BAD_KEY` when node rejects the components (wrong lengths,
 * point not on the curve, inconsistent RSA parameters) and `ERR_CRYPTO_UNSUPPORTED` for an
 * unknown kind or curve.
 *
 * @example
 * ```ts
 * const key = materialToKeyObject(material);
 * crypto.sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
 * ```
 */
export function materialToKeyObject(m: PublicKeyMaterial | PrivateKeyMaterial): KeyObject {
  const priv = isPrivateKeyMaterial(m);
  const jwk = toJwk(m, priv);
  try {
    return priv ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `node:crypto rejected the ${m.kind} key`, {
      cause: e instanceof Error ? e.message : String(e),
    });
  }
}

/**
 * The public `KeyObject` of any material, private or public.
 * Same errors as {@link materialToKeyObject}.
 */
export function materialToPublicKeyObject(m: PublicKeyMaterial | PrivateKeyMaterial): KeyObject {
  const jwk = toJwk(m, false);
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_KEY', `node:crypto rejected the ${m.kind} key`, {
      cause: e instanceof Error ? e.message : String(e),
    });
  }
}
