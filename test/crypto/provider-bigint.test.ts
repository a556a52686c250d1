// The bigint arithmetic under the portable provider's RSA and MODP code.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { bigIntToBytes, bitLength, bytesToBigInt, modPow } from '../../src/crypto/bigint.js';
import { privateKeyObjectToMaterial } from '../../src/crypto/key-convert.js';
import { parseRsaPrivate, parseRsaPublic } from '../../src/crypto/rsa-bigint.js';

function naivePow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

describe('bigint helpers', () => {
  it('modPow agrees with square-and-multiply for all window sizes', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 600n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 900n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 700n) - 1n }),
        (b, e, m) => {
          expect(modPow(b, e, m)).toBe(naivePow(b, e, m));
        },
      ),
      { numRuns: 60 },
    );
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(5n, 3n, 1n)).toBe(0n);
    expect(modPow(-2n, 3n, 7n)).toBe(6n);
    expect(() => modPow(2n, -1n, 7n)).toThrow(RangeError);
  });

  it('converts bytes and bigints both ways', () => {
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(bytesToBigInt(Uint8Array.of(0, 1, 0))).toBe(256n);
    expect(bytesToHex(bigIntToBytes(256n)!)).toBe('0100');
    expect(bytesToHex(bigIntToBytes(256n, 4)!)).toBe('00000100');
    expect(bytesToHex(bigIntToBytes(0n)!)).toBe('00');
    expect(bigIntToBytes(65536n, 2)).toBeUndefined();
    expect(bigIntToBytes(-1n)).toBeUndefined();
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(255n)).toBe(8);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(bytesToHex(bigIntToBytes(bytesToBigInt(b), b.length)!)).toBe(bytesToHex(b));
      }),
    );
  });
});

describe('RSA key parsing', () => {
  const key = privateKeyObjectToMaterial(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
  if (key.kind !== 'rsa') throw new Error('kind');

  it('accepts a consistent key and reports its size', () => {
    const k = parseRsaPrivate(key);
    expect(k.bits).toBe(1024);
    expect(k.k).toBe(128);
    expect(k.p * k.q).toBe(k.n);
  });

  it('rejects inconsistent or weak keys with ERR_CRYPTO_BAD_KEY', () => {
    const bad = (m: Parameters<typeof parseRsaPrivate>[0]) =>
      expect(() => parseRsaPrivate(m)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }));
    bad({ ...key, qi: Uint8Array.of(1) });
    bad({ ...key, dp: Uint8Array.of(3) });
    bad({ ...key, p: key.q });
    const even = key.n.slice();
    even[even.length - 1] = even[even.length - 1]! & 0xfe;
    expect(() => parseRsaPublic({ kind: 'rsa', n: even, e: key.e })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
    expect(() => parseRsaPublic({ kind: 'rsa', n: key.n.subarray(0, 32), e: key.e })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
    expect(() => parseRsaPublic({ kind: 'rsa', n: key.n, e: Uint8Array.of(2) })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
  });
});
