import { describe, it, expect } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/bytes.js';
import { HipIdentityError } from '../../src/errors.js';
import {
  acceptedSignatureSchemes,
  decodeHostIdentity,
  encodeHostIdentity,
  hitSuiteOf,
  signatureSchemeFor,
} from '../../src/crypto/host-id.js';
import type { PublicKeyMaterial } from '../../src/crypto/keys.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(HipIdentityError);
    return (e as { code?: string }).code;
  }
  return undefined;
}

const b64u = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));

function nodeRsa(bits: number): { n: Uint8Array; e: Uint8Array } {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  return { n: b64u(jwk.n), e: b64u(jwk.e) };
}

const rsa1024 = nodeRsa(1024);
const p256G = p256.Point.BASE.toBytes(false);
const p384G = p384.Point.BASE.toBytes(false);
const edPub = ed25519.getPublicKey(new Uint8Array(32).fill(9));

describe('encode/decode round trips', () => {
  const cases: Array<[string, PublicKeyMaterial, number, number]> = [
    ['rsa', { kind: 'rsa', ...rsa1024 }, 5, 1 + 3 + 128],
    ['ecdsa P-256', { kind: 'ecdsa', curve: 'P-256', point: p256G }, 7, 67],
    ['ecdsa P-384', { kind: 'ecdsa', curve: 'P-384', point: p384G }, 7, 99],
    ['ed25519', { kind: 'ed25519', publicKey: edPub }, 13, 34],
  ];
  for (const [name, key, alg, len] of cases) {
    it(`${name} (v2)`, () => {
      const enc = encodeHostIdentity(key, 2);
      expect(enc.algorithm).toBe(alg);
      expect(enc.hostIdentity.length).toBe(len);
      expect(decodeHostIdentity(enc.algorithm, enc.hostIdentity, 2)).toEqual(key);
    });
  }

  it('rsa (v1) matches RFC 3110 layout and round-trips', () => {
    const enc = encodeHostIdentity({ kind: 'rsa', ...rsa1024 }, 1);
    expect(enc.algorithm).toBe(5);
    expect(bytesToHex(enc.hostIdentity.subarray(0, 4))).toBe('03010001');
    expect(bytesToHex(enc.hostIdentity.subarray(4))).toBe(bytesToHex(rsa1024.n));
    expect(decodeHostIdentity(5, enc.hostIdentity, 1)).toEqual({ kind: 'rsa', ...rsa1024 });
  });

  it('ECDSA layout is curve label | 0x04 | X | Y, and the form without 0x04 decodes to the same key', () => {
    const enc = encodeHostIdentity({ kind: 'ecdsa', curve: 'P-256', point: p256G }, 2).hostIdentity;
    expect(bytesToHex(enc.subarray(0, 3))).toBe('000104');
    expect(bytesToHex(enc.subarray(3, 35))).toBe('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296');
    const without = concatBytes(hexToBytes('0001'), p256G.subarray(1));
    expect(decodeHostIdentity(7, without, 2)).toEqual({ kind: 'ecdsa', curve: 'P-256', point: p256G });
    const without384 = concatBytes(hexToBytes('0002'), p384G.subarray(1));
    expect(decodeHostIdentity(7, without384, 2)).toEqual({ kind: 'ecdsa', curve: 'P-384', point: p384G });
  });

  it('ECDSA point from a node-generated key equals the SPKI point', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const point = spki.subarray(spki.length - 97);
    const enc = encodeHostIdentity({ kind: 'ecdsa', curve: 'P-384', point }, 2);
    expect(bytesToHex(enc.hostIdentity)).toBe(`0002${bytesToHex(point)}`);
  });

  it('Ed25519 accepts the 36-byte form with a zero field', () => {
    const wide = concatBytes(hexToBytes('00010000'), edPub);
    expect(decodeHostIdentity(13, wide, 2)).toEqual({ kind: 'ed25519', publicKey: edPub });
    const nonZero = concatBytes(hexToBytes('00010001'), edPub);
    expect(codeOf(() => decodeHostIdentity(13, nonZero, 2))).toBe('ERR_IDENTITY_BAD_HOST_ID');
  });

  it('RSA exponent longer than 255 bytes uses 0x00 + 16-bit length', () => {
    const e = new Uint8Array(300).fill(0x55);
    e[0] = 0x81;
    e[299] = 0x03;
    const n = new Uint8Array(256).fill(0xa5);
    n[255] = 0x01;
    const enc = encodeHostIdentity({ kind: 'rsa', n, e }, 2).hostIdentity;
    expect(bytesToHex(enc.subarray(0, 3))).toBe('00012c');
    expect(enc.length).toBe(3 + 300 + 256);
    expect(decodeHostIdentity(5, enc, 2)).toEqual({ kind: 'rsa', n, e });
  });

  it('strips leading zeros so the HI is canonical', () => {
    const enc = encodeHostIdentity({ kind: 'rsa', n: concatBytes(Uint8Array.of(0), rsa1024.n), e: hexToBytes('00010001') }, 2);
    expect(bytesToHex(enc.hostIdentity.subarray(0, 4))).toBe('03010001');
    expect(enc.hostIdentity.length).toBe(4 + 128);
  });
});

describe('strict decoding', () => {
  const rsaField = encodeHostIdentity({ kind: 'rsa', ...rsa1024 }, 2).hostIdentity;
  const ecField = encodeHostIdentity({ kind: 'ecdsa', curve: 'P-256', point: p256G }, 2).hostIdentity;

  it('malformed RSA fields', () => {
    const bad = (f: Uint8Array) => codeOf(() => decodeHostIdentity(5, f, 2));
    expect(bad(new Uint8Array(0))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    expect(bad(Uint8Array.of(0, 1))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    expect(bad(rsaField.subarray(0, 4))).toBe('ERR_IDENTITY_BAD_HOST_ID'); // no modulus
    expect(bad(Uint8Array.of(200, 1, 2, 3))).toBe('ERR_IDENTITY_BAD_HOST_ID'); // e_len past the end
    // Long-form length for a 3-byte exponent: another spelling of the same key, refused.
    expect(bad(concatBytes(hexToBytes('000003'), rsaField.subarray(1)))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    // Leading zero in the modulus.
    expect(bad(concatBytes(rsaField.subarray(0, 4), Uint8Array.of(0), rsa1024.n))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    // Even exponent, exponent 1, even modulus.
    expect(bad(concatBytes(hexToBytes('0301 0002'), rsa1024.n))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    expect(bad(concatBytes(hexToBytes('0101'), rsa1024.n))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    const evenN = rsa1024.n.slice();
    evenN[evenN.length - 1]! &= 0xfe;
    expect(bad(concatBytes(hexToBytes('03010001'), evenN))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    // A 256-bit "modulus" is too small to trust.
    expect(bad(concatBytes(hexToBytes('03010001'), new Uint8Array(32).fill(0xff)))).toBe('ERR_IDENTITY_UNSUPPORTED');
  });

  it('v1 accepts RSA up to 4096 bits and refuses larger', () => {
    const n4096 = new Uint8Array(512).fill(0xff);
    const n4104 = new Uint8Array(513).fill(0xff);
    expect(decodeHostIdentity(5, concatBytes(hexToBytes('03010001'), n4096), 1).kind).toBe('rsa');
    expect(codeOf(() => decodeHostIdentity(5, concatBytes(hexToBytes('03010001'), n4104), 1))).toBe(
      'ERR_IDENTITY_UNSUPPORTED',
    );
    expect(decodeHostIdentity(5, concatBytes(hexToBytes('03010001'), n4104), 2).kind).toBe('rsa');
    expect(codeOf(() => decodeHostIdentity(5, concatBytes(hexToBytes('03010001'), new Uint8Array(1025).fill(0xff)), 2))).toBe(
      'ERR_IDENTITY_UNSUPPORTED',
    );
    expect(codeOf(() => encodeHostIdentity({ kind: 'rsa', n: n4104, e: hexToBytes('010001') }, 1))).toBe(
      'ERR_IDENTITY_UNSUPPORTED',
    );
  });

  it('malformed ECDSA fields', () => {
    const bad = (f: Uint8Array) => codeOf(() => decodeHostIdentity(7, f, 2));
    expect(bad(ecField.subarray(0, 1))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    expect(bad(ecField.subarray(0, 66))).toBe('ERR_IDENTITY_BAD_HOST_ID'); // 0x04 form cut short
    expect(bad(concatBytes(ecField, Uint8Array.of(0)))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    const off = ecField.slice();
    off[66]! ^= 1; // Y changed: not on the curve
    expect(bad(off)).toBe('ERR_IDENTITY_BAD_HOST_ID');
    const compressed = concatBytes(hexToBytes('0001'), p256.Point.BASE.toBytes(true));
    expect(bad(compressed)).toBe('ERR_IDENTITY_BAD_HOST_ID');
    // Curve labels 0, 3 (P-521 is not in HIP) and a P-256 point under the P-384 label.
    expect(bad(concatBytes(hexToBytes('0000'), p256G))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(bad(concatBytes(hexToBytes('0003'), p256G))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(bad(concatBytes(hexToBytes('0002'), p256G))).toBe('ERR_IDENTITY_BAD_HOST_ID');
  });

  it('malformed EdDSA fields and other curves', () => {
    const bad = (f: Uint8Array) => codeOf(() => decodeHostIdentity(13, f, 2));
    expect(bad(concatBytes(hexToBytes('0001'), edPub.subarray(1)))).toBe('ERR_IDENTITY_BAD_HOST_ID');
    expect(bad(concatBytes(hexToBytes('0003'), new Uint8Array(57)))).toBe('ERR_IDENTITY_UNSUPPORTED'); // Ed448
    expect(bad(concatBytes(hexToBytes('0002'), edPub))).toBe('ERR_IDENTITY_UNSUPPORTED'); // Ed25519ph
    // y = 2 is not the y-coordinate of any Ed25519 point.
    const notPoint = new Uint8Array(32);
    notPoint[0] = 2;
    expect(bad(concatBytes(hexToBytes('0001'), notPoint))).toBe('ERR_IDENTITY_BAD_HOST_ID');
  });

  it('unsupported algorithms and versions', () => {
    expect(codeOf(() => decodeHostIdentity(3, new Uint8Array(64), 2))).toBe('ERR_IDENTITY_UNSUPPORTED'); // DSA
    expect(codeOf(() => decodeHostIdentity(9, new Uint8Array(43), 2))).toBe('ERR_IDENTITY_UNSUPPORTED'); // ECDSA_LOW
    expect(codeOf(() => decodeHostIdentity(7, ecField, 1))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(codeOf(() => decodeHostIdentity(5, rsaField, 3 as 2))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(codeOf(() => encodeHostIdentity({ kind: 'ecdsa', curve: 'P-256', point: p256G }, 1))).toBe(
      'ERR_IDENTITY_UNSUPPORTED',
    );
    expect(codeOf(() => encodeHostIdentity({ kind: 'ed25519', publicKey: edPub }, 1))).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(codeOf(() => decodeHostIdentity(5, 'abc' as unknown as Uint8Array, 2))).toBe('ERR_IDENTITY_BAD_HOST_ID');
  });

  it('encoding refuses bad key material', () => {
    const notOnCurve = p256G.slice();
    notOnCurve[64]! ^= 1;
    expect(codeOf(() => encodeHostIdentity({ kind: 'ecdsa', curve: 'P-256', point: notOnCurve }, 2))).toBe(
      'ERR_IDENTITY_BAD_HOST_ID',
    );
    expect(codeOf(() => encodeHostIdentity({ kind: 'ecdsa', curve: 'P-384', point: p256G }, 2))).toBe(
      'ERR_IDENTITY_BAD_HOST_ID',
    );
    expect(
      codeOf(() => encodeHostIdentity({ kind: 'ecdsa', curve: 'P-521' as 'P-256', point: p256G }, 2)),
    ).toBe('ERR_IDENTITY_UNSUPPORTED');
    expect(codeOf(() => encodeHostIdentity({ kind: 'ed25519', publicKey: new Uint8Array(31) }, 2))).toBe(
      'ERR_IDENTITY_BAD_HOST_ID',
    );
    expect(codeOf(() => encodeHostIdentity({ kind: 'rsa', n: rsa1024.n, e: hexToBytes('010000') }, 2))).toBe(
      'ERR_IDENTITY_BAD_HOST_ID',
    );
    expect(codeOf(() => encodeHostIdentity({ kind: 'dsa' } as unknown as PublicKeyMaterial, 2))).toBe(
      'ERR_IDENTITY_UNSUPPORTED',
    );
  });
});

describe('signature schemes and HIT suites', () => {
  const rsa: PublicKeyMaterial = { kind: 'rsa', ...rsa1024 };
  const ec256: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-256', point: p256G };
  const ec384: PublicKeyMaterial = { kind: 'ecdsa', curve: 'P-384', point: p384G };
  const ed: PublicKeyMaterial = { kind: 'ed25519', publicKey: edPub };

  it('v2', () => {
    expect(signatureSchemeFor(rsa, 2)).toBe('rsa-pss-sha256');
    expect(signatureSchemeFor(ec256, 2)).toBe('ecdsa-sha384');
    expect(signatureSchemeFor(ec384, 2)).toBe('ecdsa-sha384');
    expect(signatureSchemeFor(ed, 2)).toBe('ed25519');
    expect(acceptedSignatureSchemes(ec256, 2)).toEqual(['ecdsa-sha384', 'ecdsa-sha256']);
    expect(acceptedSignatureSchemes(rsa, 2)).toEqual(['rsa-pss-sha256']);
  });

  it('v1', () => {
    expect(signatureSchemeFor(rsa, 1)).toBe('rsa-pkcs1-sha1');
    expect(acceptedSignatureSchemes(rsa, 1)).toEqual(['rsa-pkcs1-sha1']);
    expect(codeOf(() => signatureSchemeFor(ec256, 1))).toBe('ERR_IDENTITY_UNSUPPORTED');
  });

  it('HIT suites', () => {
    expect(hitSuiteOf(rsa)).toBe(1);
    expect(hitSuiteOf(ec256)).toBe(2);
    expect(hitSuiteOf(ec384)).toBe(2);
    expect(hitSuiteOf(ed)).toBe(5);
  });
});
