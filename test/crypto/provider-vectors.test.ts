// Published test vectors, run through both providers.
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { HipCryptoError } from '../../src/errors.js';

const text = (s: string) => new TextEncoder().encode(s);
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each([nodeCrypto, nobleCrypto])('$name provider: published vectors', (c: CryptoProvider) => {
  it('hashes "abc" as FIPS 180 says', () => {
    expect(bytesToHex(c.hash('sha1', text('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(bytesToHex(c.hash('sha256', text('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(bytesToHex(c.hash('sha384', text('abc')))).toBe(
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    );
  });

  it('computes RFC 4231 HMAC test cases 1 and 2 (SHA-256, SHA-384)', () => {
    const k1 = new Uint8Array(20).fill(0x0b);
    const d1 = text('Hi There');
    expect(bytesToHex(c.hmac('sha256', k1, d1))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(bytesToHex(c.hmac('sha384', k1, d1))).toBe(
      'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    );
    const k2 = text('Jefe');
    const d2 = text('what do ya want for nothing?');
    expect(bytesToHex(c.hmac('sha256', k2, d2))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(bytesToHex(c.hmac('sha384', k2, d2))).toBe(
      'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    );
  });

  it('computes RFC 5869 HKDF-SHA-256 test cases 1 to 3', () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    expect(bytesToHex(c.hkdf('sha256', ikm, range(0x00, 0x0c), range(0xf0, 0xf9), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    expect(bytesToHex(c.hkdf('sha256', range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82))).toBe(
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
        '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
        'cc30c58179ec3e87c14c01d5c1f3434f1d87',
    );
    expect(bytesToHex(c.hkdf('sha256', ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('reproduces the RFC 5903 section 8.1 P-256 ECDH exchange (group 7)', () => {
    const i = c.dhGenerate(7, hexToBytes('C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433'));
    const r = c.dhGenerate(7, hexToBytes('C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53'));
    expect(i.group).toBe(7);
    expect(bytesToHex(i.publicValue)).toBe(
      'dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180' +
        '5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3',
    );
    expect(bytesToHex(r.publicValue)).toBe(
      'd12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63' +
        '56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab',
    );
    const shared = 'd6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de';
    expect(bytesToHex(c.dhCompute(i, r.publicValue))).toBe(shared);
    expect(bytesToHex(c.dhCompute(r, i.publicValue))).toBe(shared);
  });

  it('reproduces the RFC 5903 section 8.2 P-384 ECDH exchange (group 8)', () => {
    const i = c.dhGenerate(
      8,
      hexToBytes('099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194'),
    );
    const r = c.dhGenerate(
      8,
      hexToBytes('41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC'),
    );
    expect(bytesToHex(i.publicValue)).toBe(
      '667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa' +
        '9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c',
    );
    expect(bytesToHex(r.publicValue)).toBe(
      'e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571' +
        'dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c',
    );
    const shared = '11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746';
    expect(bytesToHex(c.dhCompute(i, r.publicValue))).toBe(shared);
    expect(bytesToHex(c.dhCompute(r, i.publicValue))).toBe(shared);
  });

  it('signs and verifies RFC 8032 section 7.1 Ed25519 tests 1 and 2', () => {
    const cases = [
      {
        seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        msg: '',
        sig:
          'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
          '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      },
      {
        seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
        msg: '72',
        sig:
          '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
          '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      },
    ];
    for (const t of cases) {
      const material = { kind: 'ed25519' as const, seed: hexToBytes(t.seed), publicKey: hexToBytes(t.pub) };
      const sig = c.sign(c.importSigningKey(material), 'ed25519', hexToBytes(t.msg));
      expect(bytesToHex(sig)).toBe(t.sig);
      const vk = c.importVerifyingKey({ kind: 'ed25519', publicKey: hexToBytes(t.pub) });
      expect(c.verify(vk, 'ed25519', hexToBytes(t.msg), hexToBytes(t.sig))).toBe(true);
      expect(c.verify(vk, 'ed25519', Uint8Array.of(0x73), hexToBytes(t.sig))).toBe(false);
    }
  });

  it('encrypts the RFC 3602 case 1 block under AES-128-CBC, plus one PKCS#7 padding block', () => {
    const key = hexToBytes('06a9214036b8a15b512e03d534120006');
    const iv = hexToBytes('3dafba429d9eb430b422da802c9fac41');
    const ct = c.aesCbcEncrypt(key, iv, text('Single block msg'));
    expect(ct.length).toBe(32);
    expect(bytesToHex(ct.subarray(0, 16))).toBe('e353779c1079aeb82708942dbe77181a');
    expect(new TextDecoder().decode(c.aesCbcDecrypt(key, iv, ct))).toBe('Single block msg');
  });
});

describe('getProvider', () => {
  it('defaults to node and finds noble by name', () => {
    expect(getProvider()).toBe(nodeCrypto);
    expect(getProvider('node').name).toBe('node');
    expect(getProvider('noble')).toBe(nobleCrypto);
    expect(() => getProvider('webcrypto' as 'node')).toThrow(HipCryptoError);
  });
});
