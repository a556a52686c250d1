import { createCipheriv, createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/bytes.js';
import { InboundSa, OutboundSa } from '../../src/esp/sa.js';
import { ALL_SUITES, keysFor, refSeal, REF_SUITES, u32 } from './reference.js';

// McGrew & Viega, "The Galois/Counter Mode of Operation", AES-128 test cases 3 and 4.
const GCM_K = hexToBytes('feffe9928665731c6d6a8f9467308308');
const GCM_NONCE = hexToBytes('cafebabefacedbaddecaf888');
const GCM_P64 = hexToBytes(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
    '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
);
const GCM_C64 = hexToBytes(
  '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
    '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
);
const GCM_A4 = hexToBytes('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const GCM_T4 = '5bc94fbc3221a5db94fae95ae7121a47';

// NIST SP 800-38A F.2.1 (CBC-AES128) and F.2.5 (CBC-AES256).
const SP_IV = hexToBytes('000102030405060708090a0b0c0d0e0f');
const SP_P = hexToBytes(
  '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
);
const SP_K128 = hexToBytes('2b7e151628aed2a6abf7158809cf4f3c');
const SP_C128 =
  '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2' +
  '73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7';
const SP_K256 = hexToBytes('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
const SP_C256 =
  'f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d' +
  '39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b';

const ascii = (s: string) => new TextEncoder().encode(s);
const fixedIv = (iv: Uint8Array) => (n: number) => iv.slice(0, n);

describe('node primitives used on the hot path, against published vectors', () => {
  it('AES-128-GCM (McGrew/Viega test case 4) incl. the 8-byte truncated tag of suite 12', () => {
    for (const tagLength of [16, 8]) {
      const c = createCipheriv('aes-128-gcm', createSecretKey(GCM_K), GCM_NONCE, { authTagLength: tagLength });
      c.setAAD(GCM_A4);
      const ct = concatBytes(c.update(GCM_P64.subarray(0, 60)), c.final());
      expect(bytesToHex(ct)).toBe(bytesToHex(GCM_C64.subarray(0, 60)));
      expect(bytesToHex(c.getAuthTag())).toBe(GCM_T4.slice(0, tagLength * 2));
    }
  });

  it('AES-CBC without padding (SP 800-38A F.2.1, F.2.5)', () => {
    for (const [alg, key, want] of [
      ['aes-128-cbc', SP_K128, SP_C128],
      ['aes-256-cbc', SP_K256, SP_C256],
    ] as const) {
      const c = createCipheriv(alg, createSecretKey(key), SP_IV);
      c.setAutoPadding(false);
      expect(bytesToHex(concatBytes(c.update(SP_P), c.final()))).toBe(want);
    }
  });

  it('HMAC-SHA-256-128 with a 32-byte key (RFC 4868 §2.7.2.1 test case 1) and RFC 4231 test case 5', () => {
    const d1 = createHmac('sha256', createSecretKey(new Uint8Array(32).fill(0x0b))).update(ascii('Hi There')).digest();
    expect(bytesToHex(d1.subarray(0, 16))).toBe('198a607eb44bfbc69903a0f1cf2bbdc5');
    const d5 = createHmac('sha256', createSecretKey(new Uint8Array(20).fill(0x0c))).update(ascii('Test With Truncation')).digest();
    expect(bytesToHex(d5.subarray(0, 16))).toBe('a3b6167473100ee06e0c796c2955552b');
  });

  it('HMAC-SHA1-96 (RFC 2202 test case 2, truncated per RFC 2404)', () => {
    const d = createHmac('sha1', createSecretKey(ascii('Jefe'))).update(ascii('what do ya want for nothing?')).digest();
    expect(bytesToHex(d.subarray(0, 12))).toBe('effcdf6ae5eb2fa2d27416d5');
  });
});

describe('ESP packets built around published cipher vectors', () => {
  // salt | IV = the vector's nonce, so IV = sequence number 0xfacedbaddecaf888. GCM is a stream
  // mode and the keystream does not depend on the AAD, so the ciphertext of the 60-byte payload
  // must be the published one; the trailer (pad 1,2 | padLen 2 | nextHdr) is enciphered by the
  // keystream bytes 60..63, known from test case 3 (P64 xor C64). The tag covers the ESP AAD,
  // which no published vector has, so it is checked against @noble/ciphers.
  for (const suite of [12, 13] as const) {
    it(`suite ${suite}: GCM test case 4 payload in an ESP packet`, () => {
      const seq = 0xfacedbaddecaf888n;
      const keys = { suite, spi: 0x00001234, encKey: concatBytes(GCM_K, GCM_NONCE.subarray(0, 4)), authKey: new Uint8Array(0) };
      const out = new OutboundSa(keys, { initialSeq: seq - 1n });
      const packet = out.seal(GCM_P64.subarray(0, 60), 17);
      expect(packet.length).toBe(8 + 8 + 64 + REF_SUITES[suite].icv);
      expect(bytesToHex(packet.subarray(0, 16))).toBe('00001234' + 'decaf888' + 'facedbaddecaf888');
      expect(bytesToHex(packet.subarray(16, 76))).toBe(bytesToHex(GCM_C64.subarray(0, 60)));
      const trailer = [1, 2, 2, 17].map((b, i) => b ^ GCM_P64[60 + i]! ^ GCM_C64[60 + i]!);
      expect([...packet.subarray(76, 80)]).toEqual(trailer);
      const ref = refSeal({ ...keys, seq, payload: GCM_P64.subarray(0, 60), nextHeader: 17 });
      expect(bytesToHex(packet)).toBe(bytesToHex(ref));
      // A fresh receiver reads the high half as 0 (ESN tracking starts with the SA), so this
      // mid-space packet cannot verify there: RFC 4303 A2 behaviour, not a decoding error.
      expect(() => new InboundSa(keys).open(packet)).toThrow(expect.objectContaining({ code: 'ERR_ESP_AUTH' }));
    });
  }

  for (const [suite, key, want] of [
    [1, SP_K128, SP_C128],
    [8, SP_K128, SP_C128],
    [9, SP_K256, SP_C256],
  ] as const) {
    it(`suite ${suite}: SP 800-38A CBC blocks inside an ESP packet`, () => {
      const keys = { ...keysFor(suite), encKey: key };
      const out = new OutboundSa(keys, { randomIv: fixedIv(SP_IV) });
      const packet = out.seal(SP_P, 6);
      // 64-byte payload = 4 blocks, then one block of 14 padding bytes, padLen 14, nextHdr 6.
      expect(packet.length).toBe(8 + 16 + 80 + REF_SUITES[suite].icv);
      expect(bytesToHex(packet.subarray(8, 24))).toBe(bytesToHex(SP_IV));
      expect(bytesToHex(packet.subarray(24, 88))).toBe(want);
      const ref = refSeal({ ...keys, seq: 1n, iv: SP_IV, payload: SP_P, nextHeader: 6 });
      expect(bytesToHex(packet)).toBe(bytesToHex(ref));
    });
  }
});

describe('every suite equals the independent @noble construction', () => {
  const sizes = [0, 1, 2, 3, 13, 14, 15, 16, 17, 30, 31, 60, 255, 1400];
  const starts = [0n, 0xfffffffen, 0x1_0000_0004n, 0xfacedbaddecaf887n];
  for (const suite of ALL_SUITES) {
    it(`suite ${suite}: seal is byte-identical; open accepts the reference packets`, () => {
      for (const start of starts) {
        const keys = keysFor(suite, 0x8000_0001 + Number(start & 0xffn), Number(start & 0x3fn) + 3);
        let ivCounter = 0;
        const ivs: Uint8Array[] = [];
        const out = new OutboundSa(keys, {
          initialSeq: start,
          randomIv: (n) => {
            const iv = Uint8Array.from({ length: n }, (_, i) => (ivCounter * 31 + i * 11) & 255);
            ivCounter++;
            ivs.push(iv);
            return iv;
          },
        });
        let seq = start;
        for (const size of sizes) {
          seq += 1n;
          const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13 + size) & 255);
          const nextHeader = (size * 3) & 255;
          const packet = out.seal(payload, nextHeader);
          const iv = REF_SUITES[suite].mode === 'cbc' ? ivs[ivs.length - 1] : undefined;
          const ref = refSeal({ ...keys, seq, iv, payload, nextHeader });
          expect(bytesToHex(packet), `suite ${suite} seq ${seq} size ${size}`).toBe(bytesToHex(ref));
          expect(out.seq).toBe(seq);
        }
      }
      // The receive side against reference packets from seq 1 upwards (its ESN tracking starts at 0).
      const keys = keysFor(suite, 0x0badcafe, 9);
      const inbound = new InboundSa(keys);
      let seq = 0n;
      for (const size of sizes) {
        seq += 1n;
        const payload = Uint8Array.from({ length: size }, (_, i) => (i * 5 + 1) & 255);
        const iv = Uint8Array.from({ length: 16 }, (_, i) => (i + size) & 255);
        const r = inbound.open(refSeal({ ...keys, seq, iv, payload, nextHeader: 58 }));
        expect(bytesToHex(r.payload)).toBe(bytesToHex(payload));
        expect(r.nextHeader).toBe(58);
        expect(r.seq).toBe(seq);
      }
    });
  }

  it('the ESN high half enters the ICV though it is not sent (suite 8)', () => {
    const keys = keysFor(8);
    const iv = new Uint8Array(16).fill(7);
    const payload = ascii('same low half');
    const low = refSeal({ ...keys, seq: 5n, iv, payload, nextHeader: 17 });
    const high = refSeal({ ...keys, seq: 0x2_0000_0005n, iv, payload, nextHeader: 17 });
    const ours = new OutboundSa(keys, { initialSeq: 0x2_0000_0004n, randomIv: () => iv }).seal(payload, 17);
    expect(bytesToHex(ours.subarray(0, ours.length - 16))).toBe(bytesToHex(low.subarray(0, low.length - 16)));
    expect(bytesToHex(ours)).toBe(bytesToHex(high));
    expect(bytesToHex(ours)).not.toBe(bytesToHex(low));
    expect(bytesToHex(ours.subarray(4, 8))).toBe(bytesToHex(u32(5)));
  });
});
