/**
 * Identities and signatures of real packets from two independent implementations:
 * HIPL's libhipl (HIPv1, ORCHIDv1, RSA PKCS#1 v1.5 / SHA-1) and CuteHIP (HIPv2, RSA-PSS).
 */
import { pathToFileURL } from 'node:url';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { constants, verify as nodeVerify } from 'node:crypto';
import { bytesToHex } from '../../src/bytes.js';
import {
  ParamType,
  authenticatedBytes,
  extractHipPackets,
  findTlv,
  getParam,
  listTlvs,
  parsePacket,
  readCapture,
  type CapturedHip,
  type HipPacket,
  type SignatureParam,
} from '../../src/wire/index.js';
import { computeHit, computeHitV1, formatHit, hitsEqual } from '../../src/crypto/hit.js';
import { loadPublicIdentity } from '../../src/crypto/identity.js';
import { materialToKeyObject } from '../../src/crypto/key-convert.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import { nobleCrypto } from '../../src/crypto/noble-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import type { PublicKeyMaterial, SignatureScheme } from '../../src/crypto/keys.js';

const CAPTURES = pathToFileURL(CAPTURES_DIR);
const LIBHIPL_FILES = [
  'libhipl-v1-udp-bex.pcap', // C1
  'libhipl-v1-udp-bex-close.pcap', // C2
  'libhipl-v1-check_libhipl-udp-tcp.pcap', // C3
  'libhipl-v1-udp-k12.pcap', // C4
  'libhipl-v1-udp-k12-swapped.pcap', // C5
];
const CUTEHIP_FILE = 'cutehip-v2-rawip-bex.pcap';
const PROVIDERS: CryptoProvider[] = [nodeCrypto, nobleCrypto];

interface Captured {
  file: string;
  raw: CapturedHip;
  pkt: HipPacket;
}

function load(file: string): Captured[] {
  const bytes = new Uint8Array(readFileSync(new URL(file, CAPTURES)));
  // Lenient parse: CuteHIP sends parameters out of type order; these tests look at them, they
  // do not act on them.
  return extractHipPackets(readCapture(bytes)).map((raw) => ({ file, raw, pkt: parsePacket(raw.hip, { lenient: true }) }));
}

function signatures(c: Captured): SignatureParam[] {
  return c.pkt.params.filter(
    (p): p is SignatureParam => p.type === ParamType.HIP_SIGNATURE || p.type === ParamType.HIP_SIGNATURE_2,
  );
}

function verifyAll(key: PublicKeyMaterial, scheme: SignatureScheme, data: Uint8Array, sig: Uint8Array): boolean[] {
  return PROVIDERS.map((p) => p.verify(p.importVerifyingKey(key), scheme, data, sig));
}

/** The HIP_SIGNATURE_2 input without one of its zeroing steps (HIPV1-PROFILE 7 variants). */
function sig2Variant(hip: Uint8Array, keep: { receiverHit?: boolean; puzzle?: boolean; headerLength?: boolean }): Uint8Array {
  const data = authenticatedBytes(hip, ParamType.HIP_SIGNATURE_2).slice();
  if (keep.receiverHit) data.set(hip.subarray(24, 40), 24);
  if (keep.puzzle) {
    const puzzle = listTlvs(data).find((t) => t.type === ParamType.PUZZLE);
    if (!puzzle) throw new Error('no PUZZLE');
    data.set(hip.subarray(puzzle.offset, puzzle.end), puzzle.offset);
  }
  if (keep.headerLength) data[1] = hip[1]!;
  return data;
}

describe('libhipl captures C1–C5 (HIPv1)', () => {
  let all: Captured[];
  /** Sender HIT text → public key, from every HOST_ID seen. */
  const keys = new Map<string, PublicKeyMaterial>();

  beforeAll(() => {
    all = LIBHIPL_FILES.flatMap(load);
    for (const c of all) {
      const hi = getParam(c.pkt, ParamType.HOST_ID);
      if (hi) keys.set(formatHit(c.pkt.senderHit), loadPublicIdentity(hi.algorithm, hi.hostIdentity, 1).publicKey);
    }
  });

  it('holds the 34 libhipl packets of HIPV1-PROFILE 0, all HIPv1', () => {
    expect(all.length).toBe(34);
    expect(all.every((c) => c.pkt.version === 1)).toBe(true);
  });

  it('every HOST_ID (12 packets, 2 distinct keys) hashes to the sender HIT with ORCHIDv1', () => {
    const withHostId = all.filter((c) => getParam(c.pkt, ParamType.HOST_ID));
    expect(withHostId.length).toBe(12);
    // Per file: R1 and I2 each carry one; C3 runs a UDP and a TCP exchange.
    expect(LIBHIPL_FILES.map((f) => withHostId.filter((c) => c.file === f).length)).toEqual([2, 2, 4, 2, 2]);
    const distinct = new Set<string>();
    for (const c of withHostId) {
      const hi = getParam(c.pkt, ParamType.HOST_ID)!;
      expect(hi.algorithm).toBe(5);
      expect(hi.v1Rdata).toEqual({ flags: 0x0202, protocol: 0xff });
      const { hit, publicKey } = loadPublicIdentity(hi.algorithm, hi.hostIdentity, 1);
      expect(formatHit(hit), `${c.file} frame ${c.raw.frameIndex}`).toBe(formatHit(c.pkt.senderHit));
      expect(bytesToHex(computeHitV1(hi.hostIdentity))).toBe(bytesToHex(c.pkt.senderHit));
      expect(publicKey.kind === 'rsa' && publicKey.n.length).toBe(128); // RSA-1024, e = 65537
      expect(publicKey.kind === 'rsa' && bytesToHex(publicKey.e)).toBe('010001');
      distinct.add(bytesToHex(hi.hostIdentity));
    }
    expect(distinct.size).toBe(2);
    expect([...keys.keys()].sort()).toEqual([
      '2001:16:613b:9165:e851:e18f:52bd:385c',
      '2001:16:eea6:7454:a0af:cf3b:2717:837b',
    ]);
  });

  it('the ORCHIDv2 recipe does not give libhipl its HITs', () => {
    const hi = getParam(all.find((c) => getParam(c.pkt, ParamType.HOST_ID))!.pkt, ParamType.HOST_ID)!;
    const v2 = computeHit(hi.hostIdentity, 1);
    expect(bytesToHex(v2.subarray(4))).not.toBe(bytesToHex(computeHitV1(hi.hostIdentity).subarray(4)));
  });

  it('all 28 signatures verify as RSA PKCS#1 v1.5 / SHA-1 through both providers', () => {
    let count = 0;
    let sig2 = 0;
    for (const c of all) {
      for (const s of signatures(c)) {
        const key = keys.get(formatHit(c.pkt.senderHit));
        expect(key, `${c.file} frame ${c.raw.frameIndex}`).toBeDefined();
        expect(s.algorithm).toBe(5);
        expect(s.signature.length).toBe(128);
        const data = authenticatedBytes(c.raw.hip, s.type);
        expect(verifyAll(key!, 'rsa-pkcs1-sha1', data, s.signature), `${c.file} frame ${c.raw.frameIndex} type ${s.type}`).toEqual([
          true,
          true,
        ]);
        count++;
        if (s.type === ParamType.HIP_SIGNATURE_2) sig2++;
      }
    }
    expect(count).toBe(28);
    expect(sig2).toBe(6); // one R1 per exchange: C1, C2, C3 (UDP and TCP), C4, C5
  });

  it('the HIPV1-PROFILE 7 variants fail', () => {
    let checked = 0;
    for (const c of all) {
      for (const s of signatures(c)) {
        const key = keys.get(formatHit(c.pkt.senderHit))!;
        const where = `${c.file} frame ${c.raw.frameIndex} type ${s.type}`;
        const data = authenticatedBytes(c.raw.hip, s.type);
        // Wrong hash or padding.
        expect(verifyAll(key, 'rsa-pss-sha256', data, s.signature), where).toEqual([false, false]);
        const keyObject = materialToKeyObject(key);
        expect(nodeVerify('sha256', data, { key: keyObject, padding: constants.RSA_PKCS1_PADDING }, s.signature), where).toBe(
          false,
        );
        // The header length of the whole packet instead of the cut one.
        const fullLength = data.slice();
        fullLength[1] = c.raw.hip[1]!;
        expect(verifyAll(key, 'rsa-pkcs1-sha1', fullLength, s.signature), where).toEqual([false, false]);
        // Covering the signature TLV too.
        expect(verifyAll(key, 'rsa-pkcs1-sha1', c.raw.hip, s.signature), where).toEqual([false, false]);
        if (s.type === ParamType.HIP_SIGNATURE_2) {
          // libhipl's own loopback run (C3) has the same HIT at both ends, so keeping the
          // receiver HIT there changes nothing; elsewhere it must fail.
          const loopback = hitsEqual(c.pkt.senderHit, c.pkt.receiverHit);
          const keepHit = verifyAll(key, 'rsa-pkcs1-sha1', sig2Variant(c.raw.hip, { receiverHit: true }), s.signature);
          if (!loopback) expect(keepHit, where).toEqual([false, false]);
          expect(verifyAll(key, 'rsa-pkcs1-sha1', sig2Variant(c.raw.hip, { puzzle: true }), s.signature), where).toEqual([
            false,
            false,
          ]);
          // No zeroing at all: HIP_SIGNATURE's recipe applied to the R1.
          const plain = sig2Variant(c.raw.hip, { receiverHit: true, puzzle: true });
          expect(verifyAll(key, 'rsa-pkcs1-sha1', plain, s.signature), where).toEqual([false, false]);
        }
        checked++;
      }
    }
    expect(checked).toBe(28);
  });
});

describe('CuteHIP capture (HIPv2, RSA identities)', () => {
  let all: Captured[];
  const keys = new Map<string, PublicKeyMaterial>();

  beforeAll(() => {
    all = load(CUTEHIP_FILE);
    for (const c of all) {
      const hi = getParam(c.pkt, ParamType.HOST_ID);
      if (hi) keys.set(formatHit(c.pkt.senderHit), loadPublicIdentity(hi.algorithm, hi.hostIdentity, 2).publicKey);
    }
  });

  it('holds a v2 base exchange: I1, R1, I2, R2', () => {
    expect(all.map((c) => [c.pkt.version, c.pkt.type])).toEqual([
      [2, 1],
      [2, 2],
      [2, 3],
      [2, 4],
    ]);
  });

  it('HOST_IDs (R1, I2) hash to the sender HITs with ORCHIDv2 suite 1 (SHA-256)', () => {
    const withHostId = all.filter((c) => getParam(c.pkt, ParamType.HOST_ID));
    expect(withHostId.map((c) => c.pkt.type)).toEqual([2, 3]);
    const modulusBytes: number[] = [];
    for (const c of withHostId) {
      const hi = getParam(c.pkt, ParamType.HOST_ID)!;
      expect(hi.algorithm).toBe(5);
      const { hit, publicKey } = loadPublicIdentity(hi.algorithm, hi.hostIdentity, 2);
      expect(formatHit(hit)).toBe(formatHit(c.pkt.senderHit));
      expect(formatHit(hit)).toMatch(/^2001:21:/);
      // In the raw v2 TLV: HI Length (2) | DI type+length (2) | Algorithm (2) | Host Identity.
      const tlv = findTlv(c.raw.hip, ParamType.HOST_ID)!;
      expect(bytesToHex(tlv.subarray(4, 6))).toBe(hi.hostIdentity.length.toString(16).padStart(4, '0'));
      expect(bytesToHex(tlv.subarray(8, 10))).toBe('0005');
      expect(bytesToHex(tlv.subarray(10, 10 + hi.hostIdentity.length))).toBe(bytesToHex(hi.hostIdentity));
      if (publicKey.kind === 'rsa') modulusBytes.push(publicKey.n.length);
    }
    // The responder uses RSA-2048, the initiator RSA-1024.
    expect(modulusBytes).toEqual([256, 128]);
  });

  /*
   * What CuteHIP signs, found by trying the recipes (verified below through both providers):
   * - R1 HIP_SIGNATURE_2 and I2 HIP_SIGNATURE: RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32, over
   *   the RFC 7401 §5.2.15 / §5.2.14 bytes — exactly as specified.
   * - R2: the known deviation goes further than the parameter type. The signature sits in a
   *   HIP_SIGNATURE_2 (61633) TLV, but it is computed like a HIP_SIGNATURE: the Receiver's HIT
   *   is NOT zeroed. The SIG_2 recipe fails on it. A receiver that wants to talk to CuteHIP
   *   must accept a 61633 parameter in R2 and verify it with HIP_SIGNATURE's recipe.
   * - Nothing verifies as PKCS#1 v1.5 (SHA-256 or SHA-1): it is PSS throughout.
   */
  it('R1 and I2 signatures verify with rsa-pss-sha256 through both providers', () => {
    const r1 = all[1]!;
    const i2 = all[2]!;
    const r1Sig = getParam(r1.pkt, ParamType.HIP_SIGNATURE_2)!;
    const i2Sig = getParam(i2.pkt, ParamType.HIP_SIGNATURE)!;
    expect(r1Sig.algorithm).toBe(5);
    expect(i2Sig.algorithm).toBe(5);
    const r1Key = keys.get(formatHit(r1.pkt.senderHit))!;
    const i2Key = keys.get(formatHit(i2.pkt.senderHit))!;
    const r1Data = authenticatedBytes(r1.raw.hip, ParamType.HIP_SIGNATURE_2);
    const i2Data = authenticatedBytes(i2.raw.hip, ParamType.HIP_SIGNATURE);
    expect(verifyAll(r1Key, 'rsa-pss-sha256', r1Data, r1Sig.signature)).toEqual([true, true]);
    expect(verifyAll(i2Key, 'rsa-pss-sha256', i2Data, i2Sig.signature)).toEqual([true, true]);
    // Salt length 32 exactly (node verifies with a fixed salt length here).
    for (const [key, data, sig] of [
      [r1Key, r1Data, r1Sig.signature],
      [i2Key, i2Data, i2Sig.signature],
    ] as const) {
      const k = materialToKeyObject(key);
      expect(nodeVerify('sha256', data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
      expect(nodeVerify('sha256', data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }, sig)).toBe(false);
      expect(nodeVerify('sha256', data, { key: k, padding: constants.RSA_PKCS1_PADDING }, sig)).toBe(false);
      expect(verifyAll(key, 'rsa-pkcs1-sha1', data, sig)).toEqual([false, false]);
      expect(verifyAll(key, 'rsa-pss-sha384', data, sig)).toEqual([false, false]);
    }
    // Without the SIG_2 zeroing the R1 signature fails.
    expect(verifyAll(r1Key, 'rsa-pss-sha256', sig2Variant(r1.raw.hip, { receiverHit: true }), r1Sig.signature)).toEqual([
      false,
      false,
    ]);
    expect(verifyAll(r1Key, 'rsa-pss-sha256', sig2Variant(r1.raw.hip, { puzzle: true }), r1Sig.signature)).toEqual([
      false,
      false,
    ]);
  });

  it('R2 carries HIP_SIGNATURE_2 computed with the HIP_SIGNATURE recipe (receiver HIT kept)', () => {
    const r2 = all[3]!;
    expect(getParam(r2.pkt, ParamType.HIP_SIGNATURE)).toBeUndefined();
    const sig = getParam(r2.pkt, ParamType.HIP_SIGNATURE_2)!;
    expect(sig.algorithm).toBe(5);
    const key = keys.get(formatHit(r2.pkt.senderHit))!;
    // The responder signs its R2 with the key of its R1 HOST_ID.
    expect(formatHit(r2.pkt.senderHit)).toBe(formatHit(all[1]!.pkt.senderHit));
    const sig2Recipe = authenticatedBytes(r2.raw.hip, ParamType.HIP_SIGNATURE_2);
    expect(verifyAll(key, 'rsa-pss-sha256', sig2Recipe, sig.signature)).toEqual([false, false]);
    const sigRecipe = sig2Variant(r2.raw.hip, { receiverHit: true });
    expect(bytesToHex(sigRecipe.subarray(24, 40))).toBe(bytesToHex(r2.pkt.receiverHit));
    expect(verifyAll(key, 'rsa-pss-sha256', sigRecipe, sig.signature)).toEqual([true, true]);
  });
});
