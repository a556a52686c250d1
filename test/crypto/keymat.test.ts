import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { hashLength, rhashOfSuite } from '../../src/crypto/hash-info.js';
import { KeymatDrawer, keymatV1, keymatV2, sortHits } from '../../src/crypto/keymat.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';

const HIT_I = hexToBytes('20010021000000000000000000000001'); // 2001:21::1
const HIT_R = hexToBytes('20010021000000000000000000000002'); // 2001:21::2
const KIJ = Uint8Array.from({ length: 32 }, (_, i) => i);
const I = new Uint8Array(32).fill(0x11);
const J = new Uint8Array(32).fill(0x22);

// HIP-DIGEST section 4, computed there with Python and noble
const DIGEST_KEYMAT_96 =
  'e03b072d6fcf5b8c7b209d59a0ef06eafc0fc78e8244b3714401fe17f172989e' +
  '301ac62bf5a1dfa8bc2d9aaed84bfce0a8167be7b31bc101ac417a6e901fd93f' +
  '9a5fa6dcefedc75cda5d3f12b8cc901ee4268cb4def14ccd5b2f119a079ff6c7';

describe.each([nodeCrypto, nobleCrypto])('$name provider: KEYMAT v2', (c) => {
  it('reproduces the HIP-DIGEST section 4 vector, HITs in either order', () => {
    expect(bytesToHex(keymatV2(c, 'sha256', KIJ, I, J, HIT_I, HIT_R, 96))).toBe(DIGEST_KEYMAT_96);
    expect(bytesToHex(keymatV2(c, 'sha256', KIJ, I, J, HIT_R, HIT_I, 96))).toBe(DIGEST_KEYMAT_96);
  });

  it('is plain HKDF with salt I|J and info = sorted HITs', () => {
    const info = new Uint8Array([...HIT_I, ...HIT_R]);
    const salt = new Uint8Array([...I, ...J]);
    expect(bytesToHex(keymatV2(c, 'sha384', KIJ, I, J, HIT_R, HIT_I, 160))).toBe(
      bytesToHex(c.hkdf('sha384', KIJ, salt, info, 160)),
    );
  });

  it('is prefix-stable, so a short derivation equals the start of a long one', () => {
    const long = keymatV2(c, 'sha256', KIJ, I, J, HIT_I, HIT_R, 200);
    expect(bytesToHex(keymatV2(c, 'sha256', KIJ, I, J, HIT_I, HIT_R, 40))).toBe(bytesToHex(long.subarray(0, 40)));
  });

  it('rejects bad HIT lengths and over-long requests with typed errors', () => {
    expect(() => keymatV2(c, 'sha256', KIJ, I, J, HIT_I.subarray(1), HIT_R, 32)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
    );
    expect(() => keymatV2(c, 'sha1', KIJ, I, J, HIT_I, HIT_R, 255 * 20 + 1)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
    );
    expect(() => keymatV1(c, KIJ, HIT_I, HIT_R, I, J, 5101)).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_LENGTH' }),
    );
    expect(keymatV1(c, KIJ, HIT_I, HIT_R, I, J, 0).length).toBe(0);
  });
});

describe('KEYMAT v1 chain', () => {
  it('follows K1 = SHA-1(Kij|low|high|I|J|1), Kn = SHA-1(Kij|K(n-1)|n), checked by hand-built inputs', () => {
    const sha1 = (b: Uint8Array) => nodeCrypto.hash('sha1', b);
    const k1 = sha1(new Uint8Array([...KIJ, ...HIT_I, ...HIT_R, ...I.subarray(0, 8), ...J.subarray(0, 8), 1]));
    const k2 = sha1(new Uint8Array([...KIJ, ...k1, 2]));
    const k3 = sha1(new Uint8Array([...KIJ, ...k2, 3]));
    const got = keymatV1(nobleCrypto, KIJ, HIT_R, HIT_I, I.subarray(0, 8), J.subarray(0, 8), 50);
    expect(bytesToHex(got)).toBe(bytesToHex(new Uint8Array([...k1, ...k2, ...k3]).subarray(0, 50)));
  });

  it('gives the same bytes with both providers for random inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 400 }),
        (kij, a, b, i, j, len) => {
          const x = keymatV1(nodeCrypto, kij, a, b, i, j, len);
          expect(bytesToHex(keymatV1(nobleCrypto, kij, b, a, i, j, len))).toBe(bytesToHex(x));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('KeymatDrawer', () => {
  it('hands out consecutive independent slices in draw order and tracks the KEYMAT index', () => {
    const km = keymatV2(nodeCrypto, 'sha256', KIJ, I, J, HIT_I, HIT_R, 96);
    const d = new KeymatDrawer(km);
    const glEnc = d.draw(16);
    const glInt = d.draw(32);
    const lgEnc = d.draw(16);
    const lgInt = d.draw(32);
    expect(d.offset).toBe(96);
    expect(d.remaining).toBe(0);
    expect(bytesToHex(glEnc)).toBe(DIGEST_KEYMAT_96.slice(0, 32));
    expect(bytesToHex(glInt)).toBe(DIGEST_KEYMAT_96.slice(32, 96));
    expect(bytesToHex(lgEnc)).toBe(DIGEST_KEYMAT_96.slice(96, 128));
    expect(bytesToHex(lgInt)).toBe(DIGEST_KEYMAT_96.slice(128, 192));
    glEnc.fill(0);
    expect(km[0]).toBe(0xe0); // a copy, not a view
    expect(() => d.draw(1)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_KEYMAT_EXHAUSTED' }));
  });

  it('starts at a rekey offset and refuses offsets outside the KEYMAT', () => {
    const km = Uint8Array.from({ length: 10 }, (_, i) => i);
    const d = new KeymatDrawer(km, 4);
    expect(Array.from(d.draw(3))).toEqual([4, 5, 6]);
    expect(d.offset).toBe(7);
    expect(() => new KeymatDrawer(km, 11)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_KEYMAT_EXHAUSTED' }));
    expect(() => d.draw(-1)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_KEYMAT_EXHAUSTED' }));
  });
});

describe('hash facts', () => {
  it('sortHits orders as unsigned 128-bit integers', () => {
    const big = hexToBytes('ff010021000000000000000000000000');
    expect(sortHits(big, HIT_I)).toEqual([HIT_I, big]);
    expect(sortHits(HIT_I, big)).toEqual([HIT_I, big]);
  });

  it('maps HIT suites to RHASH and knows hash lengths', () => {
    expect(rhashOfSuite(1)).toBe('sha256');
    expect(rhashOfSuite(2)).toBe('sha384');
    expect(rhashOfSuite(3)).toBe('sha1');
    expect(() => rhashOfSuite(5)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }));
    expect(() => rhashOfSuite(0)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }));
    expect([hashLength('sha1'), hashLength('sha256'), hashLength('sha384')]).toEqual([20, 32, 48]);
    expect(() => hashLength('md5' as 'sha1')).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }));
  });
});
