import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { p256, p384 } from '@noble/curves/nist.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { shake128 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/bytes.js';
import { HipArgumentError, HipIdentityError } from '../../src/errors.js';
import {
  HIP_ORCHID_CONTEXT_ID,
  ZERO_HIT,
  compareHits,
  computeHit,
  computeHitV1,
  formatHit,
  hitSuite,
  hitVersion,
  hitsEqual,
  isHit,
  parseHit,
} from '../../src/crypto/hit.js';
import { encodeHostIdentity } from '../../src/crypto/host-id.js';

/** libhipl responder HOST_ID TLV of capture C1/C4 (HIPV1-PROFILE 15). */
const C4_R1_HOST_ID_TLV =
  '02c1008f008810030202ff0503010001d21e886ab7f0f484e74981b6d138112a6f48b71af8e64f9bd0605aeabbd65df3' +
  '1fbd718fb7e5a251178130ed04a6e7d0e83ed8e9ceb496f462cd4fc20106f8fc0229eea266e591892acc39901747a2f2' +
  '996e079516287f2473c96a24ef385b74ef8dc348967bd9c62e9fa487205a6e75369b51913b1ea109df71a9c81f785963' +
  '766d000000000000';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('ORCHIDv2 (HIP-DIGEST 3 vectors)', () => {
  it('rustdhipv2 real public key, SHA-256 suite 1', () => {
    const hi = hexToBytes(
      '0001ad15110655150f2e966bdd862937bb465f9595cdd65d1b9c3587483f36dde8d431ac3017007ba7240cf99d13d1561a4987122fd0602cb8b3e2c6b3c373f3ff9d',
    );
    const hit = computeHit(hi, 1);
    expect(bytesToHex(hit.subarray(4))).toBe('843a96260cb7158b7416f652');
    expect(formatHit(hit)).toBe('2001:21:843a:9626:cb7:158b:7416:f652');
  });

  it('P-256 with d = 1 (generator point), with and without the 0x04 byte', () => {
    const g = p256.Point.BASE.toBytes(false);
    const withPrefix = encodeHostIdentity({ kind: 'ecdsa', curve: 'P-256', point: g }, 2);
    expect(withPrefix.algorithm).toBe(7);
    expect(withPrefix.hostIdentity.length).toBe(67);
    expect(formatHit(computeHit(withPrefix.hostIdentity, 2))).toBe('2001:22:f482:7b66:edea:73a8:1796:b6');
    const without = concatBytes(hexToBytes('0001'), g.subarray(1));
    expect(formatHit(computeHit(without, 2))).toBe('2001:22:549b:5c1a:ac37:1ebc:cf8c:885');
  });

  it('P-384 with d = 1', () => {
    const g = p384.Point.BASE.toBytes(false);
    const { hostIdentity } = encodeHostIdentity({ kind: 'ecdsa', curve: 'P-384', point: g }, 2);
    expect(hostIdentity.length).toBe(99);
    expect(formatHit(computeHit(hostIdentity, 2))).toBe('2001:22:fa11:1755:9b40:ee42:9793:f282');
  });

  it('suite 3 takes SHA-1 bytes [4, 16)', () => {
    const hi = hexToBytes('00010203');
    const d = sha1(concatBytes(HIP_ORCHID_CONTEXT_ID, hi));
    const hit = computeHit(hi, 3);
    expect(bytesToHex(hit.subarray(0, 4))).toBe('20010023');
    expect(bytesToHex(hit.subarray(4))).toBe(bytesToHex(d.subarray(4, 16)));
  });

  it('suite 5 (experimental) is 96 bits of cSHAKE128(ctx | HI) with empty N and S, i.e. SHAKE128', () => {
    const hi = concatBytes(hexToBytes('0001'), new Uint8Array(32).fill(7));
    const hit = computeHit(hi, 5);
    expect(bytesToHex(hit.subarray(0, 4))).toBe('20010025');
    expect(bytesToHex(hit.subarray(4))).toBe(
      bytesToHex(shake128(concatBytes(HIP_ORCHID_CONTEXT_ID, hi), { dkLen: 12 })),
    );
  });

  it('refuses unknown suites with a typed error', () => {
    for (const suite of [0, 4, 6, 15, 16, -1]) {
      expect(() => computeHit(new Uint8Array(4), suite)).toThrow(HipIdentityError);
      expect(codeOf(() => computeHit(new Uint8Array(4), suite))).toBe('ERR_IDENTITY_UNSUPPORTED');
    }
  });
});

describe('ORCHIDv1 (HIPV1-PROFILE 4)', () => {
  const tlv = hexToBytes(C4_R1_HOST_ID_TLV);
  // HI Length 136 = RDATA header (4) + key field (132); the key field starts after the header.
  const keyField = tlv.subarray(12, 8 + 136);

  it('libhipl responder HIT from its key field', () => {
    expect(bytesToHex(keyField.subarray(0, 4))).toBe('03010001');
    expect(bytesToHex(sha1(concatBytes(HIP_ORCHID_CONTEXT_ID, keyField)))).toBe(
      '5ad9e4a9bba99d15282bf3cec9c5e0dec3d2c70c',
    );
    const hit = computeHitV1(keyField);
    expect(formatHit(hit)).toBe('2001:16:eea6:7454:a0af:cf3b:2717:837b');
    expect(hitVersion(hit)).toBe(1);
    expect(hitSuite(hit)).toBeUndefined();
  });

  it('hashing with the RDATA header gives a different HIT (the profile says it must not be hashed)', () => {
    expect(formatHit(computeHitV1(tlv.subarray(8, 8 + 136)))).not.toBe('2001:16:eea6:7454:a0af:cf3b:2717:837b');
  });

  it('the encoder reproduces the same key field from n and e', () => {
    const n = keyField.subarray(4);
    const { algorithm, hostIdentity } = encodeHostIdentity({ kind: 'rsa', n, e: hexToBytes('010001') }, 1);
    expect(algorithm).toBe(5);
    expect(bytesToHex(hostIdentity)).toBe(bytesToHex(keyField));
  });
});

describe('parseHit / formatHit', () => {
  it('parses compressed, uppercase and full forms to the same bytes', () => {
    const canonical = '2001:21::1';
    const forms = [
      '2001:21::1',
      '2001:0021:0000:0000:0000:0000:0000:0001',
      '2001:21:0:0:0:0:0:1',
      '2001:21::0:1',
      '2001:21::0.0.0.1',
      '2001:21:0:0:0:0:0.0.0.1',
      '  2001:21::1 ',
      '2001:0021::0001',
    ];
    for (const f of forms) expect(formatHit(parseHit(f)), f).toBe(canonical);
    expect(formatHit(parseHit('2001:16:EEA6:7454:A0AF:CF3B:2717:837B'))).toBe('2001:16:eea6:7454:a0af:cf3b:2717:837b');
  });

  it('follows RFC 5952 compression rules', () => {
    const hex = (s: string) => hexToBytes(s);
    // A single zero group is not compressed.
    expect(formatHit(hex('20010021000100000001000100010001'))).toBe('2001:21:1:0:1:1:1:1');
    // The longest run wins.
    expect(formatHit(hex('20010021000000010000000000000001'))).toBe('2001:21:0:1::1');
    // On a tie the first run wins.
    expect(formatHit(hex('20010021000000000001000000000001'))).toBe('2001:21::1:0:0:1');
    // A run at the end.
    expect(formatHit(hex('20010021000100000000000000000000'))).toBe('2001:21:1::');
    expect(formatHit(ZERO_HIT)).toBe('::');
    expect(formatHit(hex('20010022f4827b66edea73a8179600b6'))).toBe('2001:22:f482:7b66:edea:73a8:1796:b6');
  });

  it('refuses non-HIT addresses and bad text with ERR_HIP_INVALID_HIT', () => {
    const bad = [
      '::ffff:1.2.3.4', // IPv4-mapped
      '::1',
      '::',
      '2001:db8::1',
      '2001:30::1', // DRIP DET prefix, not a HIT
      '2001:2001:843a:9626:cb7:158b:7416:f652', // rustdhipv2's wrong prefix
      '2001:21::1::2',
      '2001:21:::1',
      '2001:21:1:1:1:1:1:1:1',
      '2001:21:1:1:1:1:1',
      '2001:21::1:1:1:1:1:1:1', // "::" must stand for at least one group
      '2001:21::12345',
      '2001:21::g',
      ':2001:21::1',
      '2001:21::1:',
      '2001:21::1%eth0',
      '[2001:21::1]',
      '2001:21::1.2.3',
      '2001:21::1.2.3.256',
      '2001:21::01.2.3.4',
      '',
      '1.2.3.4',
    ];
    for (const b of bad) {
      expect(() => parseHit(b), b).toThrow(HipArgumentError);
      expect(codeOf(() => parseHit(b)), b).toBe('ERR_HIP_INVALID_HIT');
      expect(isHit(b), b).toBe(false);
    }
    expect(codeOf(() => parseHit(42 as unknown as string))).toBe('ERR_HIP_INVALID_HIT');
  });

  it('accepts both prefixes and every v2 suite nibble', () => {
    expect(hitVersion(parseHit('2001:10::1'))).toBe(1);
    expect(hitVersion(parseHit('2001:1f:ffff::'))).toBe(1);
    expect(hitVersion(parseHit('2001:20::1'))).toBe(2);
    expect(hitSuite(parseHit('2001:20::1'))).toBe(0);
    expect(hitSuite(parseHit('2001:2f::1'))).toBe(15);
    expect(hitSuite(parseHit('2001:22:f482:7b66:edea:73a8:1796:b6'))).toBe(2);
    expect(hitVersion(ZERO_HIT)).toBeUndefined();
    expect(hitVersion(new Uint8Array(15))).toBeUndefined();
    expect(isHit(ZERO_HIT)).toBe(false);
    expect(isHit(parseHit('2001:21::1'))).toBe(true);
    expect(isHit('2001:16:eea6:7454:a0af:cf3b:2717:837b')).toBe(true);
  });

  it('formatHit rejects anything but 16 bytes', () => {
    expect(codeOf(() => formatHit(new Uint8Array(15)))).toBe('ERR_HIP_INVALID_HIT');
    expect(codeOf(() => formatHit('2001:21::1' as unknown as Uint8Array))).toBe('ERR_HIP_INVALID_HIT');
  });

  it('format and parse agree with node:net/URL on random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 0x1f }), (tail, p) => {
        const hit = new Uint8Array(16);
        hit.set([0x20, 0x01, 0x00, 0x10 + p], 0);
        hit.set(tail, 4);
        const text = formatHit(hit);
        expect(formatHit(parseHit(text))).toBe(text);
        expect(bytesToHex(parseHit(text))).toBe(bytesToHex(hit));
        // WHATWG URL serialises IPv6 hosts in RFC 5952 form: an independent implementation.
        expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      }),
      { numRuns: 500 },
    );
  });

  it('property: sparse HITs (many zero groups) round-trip stably', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xabcd), { minLength: 6, maxLength: 6 }), (gs) => {
        const hit = new Uint8Array(16);
        hit.set([0x20, 0x01, 0x00, 0x22], 0);
        gs.forEach((g, i) => {
          hit[4 + 2 * i] = g >> 8;
          hit[5 + 2 * i] = g & 0xff;
        });
        const text = formatHit(hit);
        expect(formatHit(parseHit(formatHit(parseHit(text))))).toBe(text);
        expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      }),
    );
  });
});

describe('compareHits / hitsEqual', () => {
  it('compares as unsigned big-endian', () => {
    const a = parseHit('2001:16:613b:9165:e851:e18f:52bd:385c');
    const b = parseHit('2001:16:eea6:7454:a0af:cf3b:2717:837b');
    expect(compareHits(a, b)).toBe(-1);
    expect(compareHits(b, a)).toBe(1);
    expect(compareHits(a, a.slice())).toBe(0);
    // 0x80 > 0x7f: unsigned, not signed bytes.
    expect(compareHits(parseHit('2001:21::80'), parseHit('2001:21::7f'))).toBe(1);
    expect(hitsEqual(a, a.slice())).toBe(true);
    expect(hitsEqual(a, b)).toBe(false);
    expect(hitsEqual(new Uint8Array(4), new Uint8Array(4))).toBe(false);
    expect(codeOf(() => compareHits(a, new Uint8Array(4)))).toBe('ERR_HIP_INVALID_HIT');
  });

  it('agrees with BigInt ordering', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (a, b) => {
        const big = (x: Uint8Array) => BigInt(`0x${bytesToHex(x)}`);
        const want = big(a) < big(b) ? -1 : big(a) > big(b) ? 1 : 0;
        expect(compareHits(a, b)).toBe(want);
      }),
    );
  });
});
