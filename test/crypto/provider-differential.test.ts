// The same inputs through node:crypto and @noble must give the same bytes (deterministic
// operations) or be accepted by the other side (randomised signatures).
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { bigIntToBytes, bytesToBigInt } from '../../src/crypto/bigint.js';
import { dhGroup, type ModpGroup } from '../../src/crypto/dh-groups.js';
import { privateKeyObjectToMaterial } from '../../src/crypto/key-convert.js';
import { publicKeyOf, type PrivateKeyMaterial, type SignatureScheme } from '../../src/crypto/keys.js';
import { nobleCrypto as noble } from '../../src/crypto/noble-provider.js';
import { nodeCrypto as node } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';

const RUNS = { numRuns: 20 };
const hex = bytesToHex;

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P384_N =
  0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

function keys(): Record<string, PrivateKeyMaterial> {
  return {
    p256: privateKeyObjectToMaterial(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    p384: privateKeyObjectToMaterial(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
    rsa1024: privateKeyObjectToMaterial(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey),
    // 1025 bits: the PSS encoding is one byte shorter than the modulus (emBits % 8 == 0)
    rsa1025: privateKeyObjectToMaterial(generateKeyPairSync('rsa', { modulusLength: 1025 }).privateKey),
    rsa2048: privateKeyObjectToMaterial(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    ed25519: privateKeyObjectToMaterial(generateKeyPairSync('ed25519').privateKey),
  };
}
const K = keys();

function signVerify(a: CryptoProvider, b: CryptoProvider, key: PrivateKeyMaterial, scheme: SignatureScheme, data: Uint8Array) {
  const sig = a.sign(a.importSigningKey(key), scheme, data);
  return { sig, ok: b.verify(b.importVerifyingKey(publicKeyOf(key)), scheme, data, sig) };
}

describe('differential: hashes, MACs, KDF, AES', () => {
  it('hash / hmac / hkdf agree for random inputs', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha1' as const, 'sha256' as const, 'sha384' as const),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 600 }),
        (alg, data, key, info, len) => {
          expect(hex(noble.hash(alg, data))).toBe(hex(node.hash(alg, data)));
          expect(hex(noble.hmac(alg, key, data))).toBe(hex(node.hmac(alg, key, data)));
          expect(hex(noble.hkdf(alg, data, key, info, len))).toBe(hex(node.hkdf(alg, data, key, info, len)));
        },
      ),
      RUNS,
    );
  });

  it('AES-CBC agrees and each decrypts the other', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 32),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 100 }),
        (klen, iv, pt) => {
          const key = node.randomBytes(klen);
          const a = node.aesCbcEncrypt(key, iv, pt);
          expect(a.length).toBe((Math.floor(pt.length / 16) + 1) * 16);
          expect(hex(noble.aesCbcEncrypt(key, iv, pt))).toBe(hex(a));
          expect(hex(noble.aesCbcDecrypt(key, iv, a))).toBe(hex(pt));
          expect(hex(node.aesCbcDecrypt(key, iv, a))).toBe(hex(pt));
        },
      ),
      RUNS,
    );
  });

  it('AES-CBC rejects bad padding, lengths and key sizes the same way', () => {
    const key = new Uint8Array(16);
    const iv = new Uint8Array(16);
    const ct = node.aesCbcEncrypt(key, iv, new Uint8Array(5));
    const bad = ct.slice();
    bad[15] = bad[15]! ^ 0xff; // garbles the padding byte of the last block
    for (const c of [node, noble]) {
      expect(() => c.aesCbcDecrypt(key, iv, bad)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPT' }));
      expect(() => c.aesCbcDecrypt(key, iv, ct.subarray(0, 15))).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPT' }),
      );
      expect(() => c.aesCbcDecrypt(key, iv, new Uint8Array(0))).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPT' }),
      );
      expect(() => c.aesCbcEncrypt(new Uint8Array(24), iv, ct)).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }),
      );
      expect(() => c.aesCbcEncrypt(key, new Uint8Array(8), ct)).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
      );
      expect(() => c.hkdf('sha1', key, key, key, 255 * 20 + 1)).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
      );
      expect(() => c.hkdf('sha256', key, key, new Uint8Array(1025), 32)).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
      );
      expect(() => c.randomBytes(-1)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }));
      expect(c.randomBytes(33).length).toBe(33);
    }
  });
});

describe('differential: Diffie-Hellman', () => {
  it('ECDH with fixed scalars gives the same public values and Kij across providers', () => {
    for (const [group, n, size] of [
      [7, P256_N, 32],
      [8, P384_N, 48],
    ] as const) {
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: n - 1n }), fc.bigInt({ min: 1n, max: n - 1n }), (a, b) => {
          const da = bigIntToBytes(a, size)!;
          const db = bigIntToBytes(b, size)!;
          const na = node.dhGenerate(group, da);
          const ba = noble.dhGenerate(group, da);
          const nb = node.dhGenerate(group, db);
          expect(hex(ba.publicValue)).toBe(hex(na.publicValue));
          expect(na.publicValue.length).toBe(2 * size);
          const k1 = node.dhCompute(na, nb.publicValue);
          expect(k1.length).toBe(size);
          expect(hex(noble.dhCompute(ba, nb.publicValue))).toBe(hex(k1));
          expect(hex(noble.dhCompute(noble.dhGenerate(group, db), na.publicValue))).toBe(hex(k1));
        }),
        { numRuns: 8 },
      );
    }
  });

  it('MODP with fixed exponents gives the same padded public values and Kij across providers', () => {
    for (const [group, len, runs] of [
      [1, 48, 10],
      [3, 192, 4],
      [11, 256, 2],
      [4, 384, 1],
    ] as const) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 20, maxLength: 32 }), fc.uint8Array({ minLength: 20, maxLength: 32 }), (x, y) => {
          x[0] = x[0]! | 1; // keep the exponents at least 2
          y[0] = y[0]! | 1;
          const a = node.dhGenerate(group, x);
          const b = noble.dhGenerate(group, y);
          expect(a.publicValue.length).toBe(len);
          expect(hex(noble.dhGenerate(group, x).publicValue)).toBe(hex(a.publicValue));
          expect(hex(node.dhGenerate(group, y).publicValue)).toBe(hex(b.publicValue));
          const k = node.dhCompute(a, b.publicValue);
          expect(hex(noble.dhCompute(b, a.publicValue))).toBe(hex(k));
        }),
        { numRuns: runs },
      );
    }
  });

  it('random key pairs agree across providers for every group, and pairs are reusable', () => {
    for (const group of [1, 3, 4, 7, 8, 11]) {
      const a = node.dhGenerate(group);
      const b = noble.dhGenerate(group);
      const c = noble.dhGenerate(group);
      expect(a.group).toBe(group);
      expect(hex(node.dhCompute(a, b.publicValue))).toBe(hex(noble.dhCompute(b, a.publicValue)));
      // the same pair serves a second peer
      expect(hex(node.dhCompute(a, c.publicValue))).toBe(hex(noble.dhCompute(c, a.publicValue)));
    }
  });

  it('strips leading zero bytes from MODP Kij (OpenSSL / libhipl rule), in both providers', () => {
    // an independent square-and-multiply to check the value itself
    const naive = (b: bigint, e: bigint, m: bigint) => {
      let r = 1n;
      for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
      return r;
    };
    for (const [group, len] of [
      [1, 48],
      [3, 192],
    ] as const) {
      const p = bytesToBigInt((dhGroup(group) as ModpGroup).prime);
      let found = 0;
      for (let t = 0; t < 5000 && found < 2; t++) {
        const x = node.randomBytes(24);
        const y = node.randomBytes(24);
        x[0] = x[0]! | 0x80;
        y[0] = y[0]! | 0x80;
        const a = node.dhGenerate(group, x);
        const k = node.dhCompute(a, node.dhGenerate(group, y).publicValue);
        if (k.length === len) continue; // (1 in 256 secrets starts with a zero byte)
        found++;
        expect(k[0]).not.toBe(0);
        const want = naive(naive(2n, bytesToBigInt(x), p), bytesToBigInt(y), p);
        expect(bytesToBigInt(k)).toBe(want);
        expect(hex(noble.dhCompute(noble.dhGenerate(group, y), a.publicValue))).toBe(hex(k));
      }
      expect(found).toBeGreaterThan(0);
    }
  });

  it('rejects invalid peer values with ERR_CRYPTO_BAD_PUBLIC_VALUE in both providers', () => {
    for (const c of [node, noble]) {
      const m = c.dhGenerate(1);
      const p = Uint8Array.from(
        Buffer.from('ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b13b202ffffffffffffffff', 'hex'),
      );
      const pMinus1 = p.slice();
      pMinus1[47] = 0xfe;
      const bad = [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(1), new Uint8Array(48), pMinus1, p, new Uint8Array(49).fill(1)];
      for (const v of bad) {
        expect(() => c.dhCompute(m, v)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_PUBLIC_VALUE' }));
      }
      // short values are accepted (peers may strip leading zeros)
      expect(c.dhCompute(m, Uint8Array.of(2)).length).toBeGreaterThan(0);

      const e = c.dhGenerate(7);
      const offCurve = e.publicValue.slice();
      offCurve[63] = offCurve[63]! ^ 1;
      for (const v of [offCurve, e.publicValue.subarray(1), new Uint8Array(64), new Uint8Array([4, ...e.publicValue])]) {
        expect(() => c.dhCompute(e, v)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_PUBLIC_VALUE' }));
      }
      expect(() => c.dhGenerate(2)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }));
      expect(() => c.dhGenerate(7, new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
      expect(() => c.dhGenerate(3, Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
    }
    // a pair from one provider cannot be used by the other
    expect(() => noble.dhCompute(node.dhGenerate(7), node.dhGenerate(7).publicValue)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_KEY_MISMATCH' }),
    );
  });
});

describe('differential: signatures', () => {
  const data = new TextEncoder().encode('HIP I2 bytes to sign');

  it('deterministic schemes give identical bytes: RSA PKCS#1 v1.5 SHA-1 and Ed25519', () => {
    for (const key of [K.rsa1024!, K.rsa2048!, K.rsa1025!]) {
      const a = node.sign(node.importSigningKey(key), 'rsa-pkcs1-sha1', data);
      const b = noble.sign(noble.importSigningKey(key), 'rsa-pkcs1-sha1', data);
      expect(hex(b)).toBe(hex(a));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (msg) => {
        const a = node.sign(node.importSigningKey(K.ed25519!), 'ed25519', msg);
        expect(hex(noble.sign(noble.importSigningKey(K.ed25519!), 'ed25519', msg))).toBe(hex(a));
      }),
      RUNS,
    );
  });

  const cases: [string, SignatureScheme, number][] = [
    ['p256', 'ecdsa-sha256', 64],
    ['p256', 'ecdsa-sha384', 64],
    ['p384', 'ecdsa-sha384', 96],
    ['p384', 'ecdsa-sha256', 96],
    ['rsa1024', 'rsa-pss-sha256', 128],
    ['rsa1024', 'rsa-pss-sha384', 128],
    ['rsa1025', 'rsa-pss-sha256', 129],
    ['rsa2048', 'rsa-pss-sha256', 256],
    ['rsa1024', 'rsa-pkcs1-sha1', 128],
    ['ed25519', 'ed25519', 64],
  ];

  it.each(cases)('%s %s: each verifies what the other signs; tampering fails in both', (name, scheme, len) => {
    const key = K[name]!;
    for (const [a, b] of [
      [node, noble],
      [noble, node],
      [node, node],
      [noble, noble],
    ] as const) {
      const { sig, ok } = signVerify(a, b, key, scheme, data);
      expect(sig.length).toBe(len);
      expect(ok).toBe(true);
      const vk = b.importVerifyingKey(publicKeyOf(key));
      const flipped = sig.slice();
      flipped[len >> 1] = flipped[len >> 1]! ^ 0x01;
      expect(b.verify(vk, scheme, data, flipped)).toBe(false);
      const other = data.slice();
      other[0] = other[0]! ^ 0x80;
      expect(b.verify(vk, scheme, other, sig)).toBe(false);
      expect(b.verify(vk, scheme, data, sig.subarray(1))).toBe(false);
      expect(b.verify(vk, scheme, data, new Uint8Array(0))).toBe(false);
      expect(b.verify(vk, scheme, data, new Uint8Array(len).fill(0xff))).toBe(false);
    }
  });

  it('ECDSA: a high-S signature (s -> n - s) verifies in both providers', () => {
    for (const [name, n, size] of [
      ['p256', P256_N, 32],
      ['p384', P384_N, 48],
    ] as const) {
      const key = K[name]!;
      for (const signer of [node, noble]) {
        const sig = signer.sign(signer.importSigningKey(key), 'ecdsa-sha384', data);
        const s = bytesToBigInt(sig.subarray(size));
        const flipped = new Uint8Array(2 * size);
        flipped.set(sig.subarray(0, size));
        flipped.set(bigIntToBytes(n - s, size)!, size);
        const highS = s > n / 2n ? sig : flipped;
        expect(bytesToBigInt(highS.subarray(size)) > n / 2n).toBe(true);
        for (const c of [node, noble]) {
          const vk = c.importVerifyingKey(publicKeyOf(key));
          expect(c.verify(vk, 'ecdsa-sha384', data, highS)).toBe(true);
          expect(c.verify(vk, 'ecdsa-sha384', data, flipped === highS ? sig : flipped)).toBe(true);
        }
      }
    }
  });

  it('ECDSA and PSS are accepted across providers for random messages (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<[string, SignatureScheme]>(['p256', 'ecdsa-sha256'], ['p384', 'ecdsa-sha384'], ['rsa1024', 'rsa-pss-sha384']),
        fc.boolean(),
        (msg, [name, scheme], nodeSigns) => {
          const [a, b] = nodeSigns ? [node, noble] : [noble, node];
          expect(signVerify(a, b, K[name]!, scheme, msg).ok).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('accepts PSS signatures with any salt length (RSA_PSS_SALTLEN_AUTO)', async () => {
    const { sign, constants } = await import('node:crypto');
    const { materialToKeyObject } = await import('../../src/crypto/key-convert.js');
    const ko = materialToKeyObject(K.rsa1024!);
    for (const saltLength of [0, 20, 60]) {
      const sig = sign('sha256', data, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      for (const c of [node, noble]) {
        expect(c.verify(c.importVerifyingKey(publicKeyOf(K.rsa1024!)), 'rsa-pss-sha256', data, sig)).toBe(true);
      }
    }
  });

  it('throws ERR_CRYPTO_KEY_MISMATCH for a scheme that does not fit the key or a foreign handle', () => {
    for (const c of [node, noble]) {
      const sk = c.importSigningKey(K.p256!);
      expect(() => c.sign(sk, 'rsa-pss-sha256', data)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_KEY_MISMATCH' }));
      const vk = c.importVerifyingKey(publicKeyOf(K.ed25519!));
      expect(() => c.verify(vk, 'ecdsa-sha256', data, new Uint8Array(64))).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_KEY_MISMATCH' }),
      );
    }
    expect(() => noble.sign(node.importSigningKey(K.p256!), 'ecdsa-sha256', data)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_KEY_MISMATCH' }),
    );
  });

  it('caches imported keys per material object', () => {
    for (const c of [node, noble]) {
      expect(c.importSigningKey(K.rsa2048!)).toBe(c.importSigningKey(K.rsa2048!));
      const pub = publicKeyOf(K.p384!);
      expect(c.importVerifyingKey(pub)).toBe(c.importVerifyingKey(pub));
    }
  });

  it('rejects unusable key material with ERR_CRYPTO_BAD_KEY in both providers', () => {
    const p256 = K.p256!;
    if (p256.kind !== 'ecdsa') throw new Error('kind');
    const wrongD = { ...p256, d: p256.d.map((b, i) => (i === 31 ? b ^ 1 : b)) };
    const rsa = K.rsa1024!;
    if (rsa.kind !== 'rsa') throw new Error('kind');
    const badRsa = { ...rsa, q: rsa.p };
    const ed = K.ed25519!;
    if (ed.kind !== 'ed25519') throw new Error('kind');
    const wrongEd = { ...ed, publicKey: ed.publicKey.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    for (const c of [node, noble]) {
      expect(() => c.importSigningKey(wrongD)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
    }
    for (const c of [node, noble]) {
      expect(() => c.importSigningKey(badRsa)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
      expect(() => c.importSigningKey(wrongEd)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
      expect(() => c.importVerifyingKey({ kind: 'ecdsa', curve: 'P-256', point: new Uint8Array(65) })).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
      );
      expect(() => c.importVerifyingKey({ kind: 'ed25519', publicKey: new Uint8Array(31) })).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
      );
    }
  });
});
