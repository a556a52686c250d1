import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HipCryptoError } from '../../src/errors.js';
import {
  isPrivateKeyMaterial,
  keyObjectToMaterial,
  materialToKeyObject,
  materialToPublicKeyObject,
  privateKeyObjectToMaterial,
} from '../../src/crypto/key-convert.js';
import { publicKeyOf } from '../../src/crypto/keys.js';

describe('key-convert', () => {
  it('round-trips EC P-256 and P-384 keys and keeps the public point consistent', () => {
    for (const namedCurve of ['P-256', 'P-384'] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      const m = privateKeyObjectToMaterial(privateKey);
      expect(m.kind).toBe('ecdsa');
      if (m.kind !== 'ecdsa') return;
      const size = namedCurve === 'P-256' ? 32 : 48;
      expect(m.curve).toBe(namedCurve);
      expect(m.point.length).toBe(1 + 2 * size);
      expect(m.point[0]).toBe(4);
      expect(m.d.length).toBe(size);
      // the point must equal node's own uncompressed export of the public key
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      expect(Buffer.from(m.point)).toEqual(spki.subarray(spki.length - m.point.length));
      const back = materialToKeyObject(m);
      expect(back.type).toBe('private');
      const data = Buffer.from('hello');
      const sig = sign('sha256', data, back);
      expect(verify('sha256', data, publicKey, sig)).toBe(true);
      expect(verify('sha256', data, materialToKeyObject(publicKeyOf(m)), sig)).toBe(true);
    }
  });

  it('round-trips RSA keys with CRT parts and no leading zeros', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const m = privateKeyObjectToMaterial(privateKey);
    if (m.kind !== 'rsa') throw new Error('kind');
    expect(m.n.length).toBe(128);
    expect(Buffer.from(m.e).toString('hex')).toBe('010001');
    for (const part of [m.n, m.e, m.d, m.p, m.q, m.dp, m.dq, m.qi]) expect(part[0]).not.toBe(0);
    const n = BigInt('0x' + Buffer.from(m.n).toString('hex'));
    const p = BigInt('0x' + Buffer.from(m.p).toString('hex'));
    const q = BigInt('0x' + Buffer.from(m.q).toString('hex'));
    expect(p * q).toBe(n);
    const pub = keyObjectToMaterial(publicKey);
    expect(isPrivateKeyMaterial(pub)).toBe(false);
    expect(pub).toEqual(publicKeyOf(m));
    const sig = sign('sha1', Buffer.from('x'), materialToKeyObject(m));
    expect(verify('sha1', Buffer.from('x'), materialToPublicKeyObject(m), sig)).toBe(true);
  });

  it('round-trips Ed25519 keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const m = privateKeyObjectToMaterial(privateKey);
    if (m.kind !== 'ed25519') throw new Error('kind');
    expect(m.seed.length).toBe(32);
    expect(m.publicKey.length).toBe(32);
    const sig = sign(null, Buffer.from('y'), materialToKeyObject(m));
    expect(verify(null, Buffer.from('y'), publicKey, sig)).toBe(true);
    expect(keyObjectToMaterial(publicKey)).toEqual({ kind: 'ed25519', publicKey: m.publicKey });
  });

  it('rejects unsupported keys and bad material with typed errors', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => keyObjectToMaterial(privateKey)).toThrow(HipCryptoError);
    try {
      keyObjectToMaterial(privateKey);
    } catch (e) {
      expect((e as HipCryptoError).code).toBe('ERR_CRYPTO_UNSUPPORTED');
    }
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => privateKeyObjectToMaterial(publicKey)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
    const offCurve = new Uint8Array(65);
    offCurve[0] = 4;
    offCurve[64] = 7;
    expect(() => materialToKeyObject({ kind: 'ecdsa', curve: 'P-256', point: offCurve })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
    expect(() =>
      materialToKeyObject({ kind: 'ecdsa', curve: 'P-256', point: new Uint8Array(64) }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
    expect(() => materialToKeyObject({ kind: 'ed25519', publicKey: new Uint8Array(31) })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
  });
});
