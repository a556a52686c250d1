/**
 * Real packets: every HIP packet of the reference captures parses and re-emits byte for byte.
 *
 * Checksum convention: the packet is re-emitted with `{ checksum: { src, dst } }` when the
 * captured checksum is non-zero (CuteHIP over raw IPv4, whose checksums are real) and without
 * it otherwise (libhipl over UDP/TCP sends 0), so the emitted checksum field must equal the
 * captured one too.
 */
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import {
  PacketType,
  ParamType,
  authenticatedBytes,
  emitPacket,
  findTlv,
  getParam,
  getParams,
  parsePacket,
  verifyChecksum,
  type CapturedHip,
  type HipPacket,
} from '../../src/wire/index.js';
import { extractHipPackets, readCapture } from '../../src/wire/pcap.js';
import { runTshark, skipWithoutTshark } from '../helpers/tshark.js';
import { expectWireError, hx } from './wire-helpers.js';

const DIR = CAPTURES_DIR;
const LIBHIPL: Record<string, number> = {
  'libhipl-v1-udp-bex.pcap': 6,
  'libhipl-v1-udp-bex-close.pcap': 6,
  'libhipl-v1-check_libhipl-udp-tcp.pcap': 10,
  'libhipl-v1-udp-k12.pcap': 6,
  'libhipl-v1-udp-k12-swapped.pcap': 6,
};
const CUTEHIP = 'cutehip-v2-rawip-bex.pcap';

function hipOf(file: string): CapturedHip[] {
  return extractHipPackets(readCapture(readFileSync(DIR + file)));
}

function reemit(c: CapturedHip, pkt: HipPacket, checkOrder = true): Uint8Array {
  return emitPacket(pkt, {
    checkOrder,
    ...(pkt.checksum !== 0 ? { checksum: { src: c.srcAddress, dst: c.dstAddress } } : {}),
  });
}

describe('libhipl HIPv1 captures (C1-C5)', () => {
  it('hold 34 HIP packets in all, as HIPV1-PROFILE says', () => {
    let total = 0;
    for (const [file, n] of Object.entries(LIBHIPL)) {
      const hips = hipOf(file);
      expect(hips.length, file).toBe(n);
      total += hips.length;
    }
    expect(total).toBe(34);
  });

  it.skipIf(skipWithoutTshark())('tshark finds the same UDP HIP frames in every file', async () => {
    // tshark dissects HIP over UDP when told the ports; it has no HIP-over-TCP dissector, so the
    // TCP packets of check_libhipl are counted by our reader only (5, checked above).
    for (const file of Object.keys(LIBHIPL)) {
      const udp = hipOf(file).filter((c) => c.carrier === 'udp');
      const ports = new Set(udp.flatMap((c) => [c.srcPort!, c.dstPort!]));
      const args = ['-r', DIR + file, '-Y', 'hip', '-T', 'fields', '-e', 'frame.number'];
      for (const port of ports) args.push('-d', `udp.port==${port},hip`);
      const frames = (await runTshark(args)).split('\n').filter((l) => l.trim() !== '').map(Number);
      expect(frames, file).toEqual(udp.map((c) => c.frameIndex + 1));
    }
  });

  for (const file of Object.keys(LIBHIPL)) {
    it(`${file}: every packet parses strictly and re-emits byte for byte (checksum 0)`, () => {
      for (const c of hipOf(file)) {
        const pkt = parsePacket(c.hip);
        expect(pkt.version).toBe(1);
        expect(pkt.checksum).toBe(0);
        expect(bytesToHex(reemit(c, pkt))).toBe(bytesToHex(c.hip));
      }
    });
  }

  it('check_libhipl carries the BEX over both UDP and TCP', () => {
    const carriers = hipOf('libhipl-v1-check_libhipl-udp-tcp.pcap').map((c) => c.carrier);
    expect(carriers.filter((c) => c === 'udp')).toHaveLength(5);
    expect(carriers.filter((c) => c === 'tcp')).toHaveLength(5);
  });

  describe('C4 (K = 12) field values against HIPV1-PROFILE 15', () => {
    const byType = new Map<number, { c: CapturedHip; pkt: HipPacket }>();
    for (const c of hipOf('libhipl-v1-udp-k12.pcap')) byType.set(parsePacket(c.hip).type, { c, pkt: parsePacket(c.hip) });
    const get = (t: number) => byType.get(t)!;

    it('has I1, R1, I2, R2, CLOSE and CLOSE_ACK with the profile HITs', () => {
      expect([...byType.keys()]).toEqual([1, 2, 3, 4, 18, 19]);
      const i1 = get(PacketType.I1).pkt;
      expect(bytesToHex(i1.senderHit)).toBe('20010016613b9165e851e18f52bd385c');
      expect(bytesToHex(i1.receiverHit)).toBe('20010016eea67454a0afcf3b2717837b');
      expect(i1.params).toEqual([]);
    });

    it('R1: parameter list, puzzle, two DH values, transforms, v1 HOST_ID, 1-byte signature algorithm', () => {
      const r1 = get(PacketType.R1).pkt;
      expect(r1.params.map((p) => p.type)).toEqual([257, 513, 577, 705, 4095, 61633]);
      const puzzle = getParam(r1, 257)!;
      expect([puzzle.k, puzzle.lifetime, puzzle.opaque, bytesToHex(puzzle.i)]).toEqual([12, 0x2a, 0x4849, '8237c328d6d714eb']);
      const dh = getParam(r1, 513)!;
      expect(dh.values.map((v) => [v.group, v.publicValue.length])).toEqual([[3, 192], [1, 48]]);
      expect(getParam(r1, 577)!.suites).toEqual([1, 2, 5]);
      expect(getParam(r1, 4095)).toMatchObject({ reserved: 0, suites: [1, 2, 5] });
      const hid = getParam(r1, 705)!;
      expect(hid.algorithm).toBe(5);
      expect(hid.v1Rdata).toEqual({ flags: 0x0202, protocol: 0xff });
      expect(hid.diType).toBe(1);
      expect(bytesToHex(hid.di)).toBe('766d00');
      expect(hid.hostIdentity.length).toBe(132);
      expect(bytesToHex(hid.hostIdentity.subarray(0, 8))).toBe('03010001d21e886a');
      const sig = getParam(r1, 61633)!;
      expect([sig.algorithm, sig.signature.length]).toEqual([5, 128]);
      expect(bytesToHex(findTlv(get(PacketType.R1).c.hip, ParamType.HOST_ID)!)).toBe(
        hx(`02c1008f008810030202ff0503010001d21e886ab7f0f484e74981b6d138112a6f48b71af8e64f9bd0605aeabbd65df3
            1fbd718fb7e5a251178130ed04a6e7d0e83ed8e9ceb496f462cd4fc20106f8fc0229eea266e591892acc39901747a2f2
            996e079516287f2473c96a24ef385b74ef8dc348967bd9c62e9fa487205a6e75369b51913b1ea109df71a9c81f785963
            766d000000000000`),
      );
    });

    it('I2: ESP_INFO index 72, SOLUTION #J, one DH value, HMAC', () => {
      const i2 = get(PacketType.I2).pkt;
      expect(getParam(i2, 65)).toMatchObject({ reserved: 0, keymatIndex: 72, oldSpi: 0 });
      const sol = getParam(i2, 321)!;
      expect([sol.k, sol.opaque, bytesToHex(sol.i), bytesToHex(sol.j)]).toEqual([12, 0x4849, '8237c328d6d714eb', '16216eba09b50255']);
      expect(getParam(i2, 513)!.values.map((v) => [v.group, v.publicValue.length])).toEqual([[3, 192]]);
      expect(getParam(i2, 577)!.suites).toEqual([1]);
      expect(getParam(i2, 4095)!.suites).toEqual([1]);
      expect(bytesToHex(getParam(i2, 61505)!.mac)).toBe('0ab93965a773792111a1bd8028eef0f2d1fae102');
    });

    it('R2: HMAC_2 value', () => {
      expect(bytesToHex(getParam(get(PacketType.R2).pkt, 61569)!.mac)).toBe('c0b474be390ef480f3850a96b015d484fdc3f08b');
    });

    it('CLOSE / CLOSE_ACK: the 4-byte echo is copied', () => {
      const req = getParam(get(PacketType.CLOSE).pkt, 897)!.opaque;
      const resp = getParam(get(PacketType.CLOSE_ACK).pkt, 961)!.opaque;
      expect(req.length).toBe(4);
      expect(bytesToHex(resp)).toBe(bytesToHex(req));
    });

    it('MAC/signature inputs have the lengths the profile gives', () => {
      const r1 = authenticatedBytes(get(PacketType.R1).c.hip, ParamType.HIP_SIGNATURE_2);
      expect([r1.length, r1[1]]).toEqual([496, 61]);
      expect(bytesToHex(r1.subarray(24, 40))).toBe('00'.repeat(16));
      const i2 = authenticatedBytes(get(PacketType.I2).c.hip, ParamType.HIP_SIGNATURE);
      expect([i2.length, i2[1]]).toEqual([472, 58]);
      expect(authenticatedBytes(get(PacketType.I2).c.hip, ParamType.HIP_MAC).length).toBe(448);
      const r2 = authenticatedBytes(get(PacketType.R2).c.hip, ParamType.HIP_SIGNATURE);
      expect([r2.length, r2[1]]).toEqual([80, 9]);
      const hostId = findTlv(get(PacketType.R1).c.hip, ParamType.HOST_ID)!;
      const r2mac = authenticatedBytes(get(PacketType.R2).c.hip, ParamType.HIP_MAC_2, { responderHostIdTlv: hostId });
      expect([r2mac.length, r2mac[1]]).toEqual([208, 0x19]);
      const close = authenticatedBytes(get(PacketType.CLOSE).c.hip, ParamType.HIP_SIGNATURE);
      expect([close.length, close[1]]).toEqual([72, 8]);
    });
  });
});

describe('CuteHIP HIPv2 capture (raw IPv4)', () => {
  const hips = hipOf(CUTEHIP);

  it('holds 4 HIP packets (I1, R1, I2, R2) over raw IP', () => {
    expect(hips).toHaveLength(4);
    expect(hips.map((c) => c.carrier)).toEqual(['ip', 'ip', 'ip', 'ip']);
    expect(hips.map((c) => c.hip[2])).toEqual([1, 2, 3, 4]);
  });

  it.skipIf(skipWithoutTshark())('tshark finds the same 4 HIP packets', async () => {
    const out = await runTshark(['-r', DIR + CUTEHIP, '-Y', 'hip', '-T', 'fields', '-e', 'hip.packet_type']);
    expect(out.split('\n').filter((l) => l.trim() !== '')).toEqual(['1', '2', '3', '4']);
  });

  it('every checksum verifies with the IPv4 pseudo-header', () => {
    for (const c of hips) {
      expect(c.srcAddress.length).toBe(4);
      expect(verifyChecksum(c.hip, c.srcAddress, c.dstAddress)).toBe(true);
    }
  });

  it('I1 and R2 parse strictly and re-emit byte for byte with the real checksum', () => {
    for (const c of [hips[0]!, hips[3]!]) {
      const pkt = parsePacket(c.hip);
      expect(pkt.version).toBe(2);
      expect(pkt.checksum).not.toBe(0);
      expect(bytesToHex(reemit(c, pkt))).toBe(bytesToHex(c.hip));
    }
    expect(getParam(parsePacket(hips[0]!.hip), 511)!.groups).toEqual([7, 9, 8, 3, 4, 10]);
    // Known deviation: its R2 carries HIP_SIGNATURE_2.
    expect(parsePacket(hips[3]!.hip).params.map((p) => p.type)).toEqual([65, 61569, 61633]);
  });

  it('R1 and I2 break RFC 7401: a DH Public Value Length of 8 for a 64-byte value, and misordered parameters', () => {
    for (const c of [hips[1]!, hips[2]!]) {
      const e = expectWireError(() => parsePacket(c.hip), 'ERR_HIP_PARAM_LENGTH');
      expect(e.details?.paramType).toBe(513);
    }
    // With the DH parameter removed the strict parser still refuses R1 for its order
    // (ESP_TRANSFORM 4095 before HOST_ID 705).
    const r1 = parsePacket(hips[1]!.hip, { lenient: true });
    expect(r1.params.map((p) => p.type)).toEqual([257, 513, 579, 4095, 705, 715, 511, 2049, 61633]);
    const withoutDh = emitPacket({ ...r1, params: r1.params.filter((p) => p.type !== 513) }, { checkOrder: false });
    expectWireError(() => parsePacket(withoutDh), 'ERR_HIP_PARAM_ORDER');
  });

  it('R1 and I2 re-emit byte for byte through the lenient parse', () => {
    for (const c of [hips[1]!, hips[2]!]) {
      const pkt = parsePacket(c.hip, { lenient: true });
      const dh = pkt.params.find((p) => p.type === 513)!;
      expect(dh).toMatchObject({ raw: true, malformed: 'ERR_HIP_PARAM_LENGTH' });
      expect(bytesToHex(reemit(c, pkt, false))).toBe(bytesToHex(c.hip));
    }
  });

  it('CuteHIP v2 HOST_ID and puzzle fields decode with the v2 layouts', () => {
    const r1 = parsePacket(hips[1]!.hip, { lenient: true });
    const hid = getParams(r1, 705)[0]!;
    expect([hid.algorithm, hid.hostIdentity.length, hid.diType, hid.di.length]).toEqual([5, 260, 2, 29]);
    expect(Buffer.from(hid.di).toString()).toBe('dmitriy.kuptsov@strangebit.io');
    expect(bytesToHex(hid.hostIdentity.subarray(0, 4))).toBe('03010001');
    const puzzle = getParam(r1, 257)!;
    expect([puzzle.k, puzzle.lifetime, puzzle.opaque, puzzle.i.length]).toEqual([16, 37, 0x3168, 32]);
    const i2 = parsePacket(hips[2]!.hip, { lenient: true });
    const sol = getParam(i2, 321)!;
    expect(bytesToHex(sol.i)).toBe(bytesToHex(puzzle.i));
    expect(getParam(i2, 61505)!.mac.length).toBe(32);
  });
});
