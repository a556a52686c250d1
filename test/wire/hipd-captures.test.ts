/**
 * Issue 13: every HIP packet hipd (HIPL trunk r6467, HIPv1, NAT mode plain-udp) put on the wire
 * in the three hipd captures parses STRICTLY, re-emits byte for byte, and the exchanges have
 * the shapes RFC 5201/5206/5204 describe: the BEX, the 3-packet UPDATE (ESP_INFO, LOCATOR, SEQ /
 * ACK, ECHO) and the rendezvous (REG_* in the BEX, FROM + RVS_HMAC on the relayed I1, VIA_RVS on
 * the R1). The captures hold no keys, so the ESP packets are checked for structure: suite 1
 * layout, the SPIs the BEX announced, and 32-bit sequence numbers counting up from 1.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractEspPackets, extractHipPackets, formatIpAddress, type CapturedHip } from '../../src/wire/ip-frames.js';
import { emitPacket, parsePacket } from '../../src/wire/packet.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import { PacketType, ParamType, packetTypeName, paramTypeName } from '../../src/wire/constants.js';
import { getParam, type HipPacket } from '../../src/wire/types.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';

interface Seen extends CapturedHip {
  pkt: HipPacket;
}

function load(file: string): { hip: Seen[]; frames: ReturnType<typeof readCapture> } {
  const frames = readCapture(readFileSync(CAPTURES_DIR + file));
  // strict: no { lenient: true }
  return { frames, hip: extractHipPackets(frames).map((h) => ({ ...h, pkt: parsePacket(h.hip) })) };
}

const shape = (p: HipPacket): string => `${packetTypeName(p.type)}: ${p.params.map((x) => paramTypeName(x.type)).join(' ')}`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** An IPv4 address as the IPv4-mapped IPv6 bytes HIP parameters carry. */
const mapped = (v4: string): string => '00000000000000000000ffff' + v4.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('');

const FILES = ['hipd-v1-nat-udp-bex-esp.pcap', 'hipd-v1-update-locator.pcap', 'hipd-v1-rvs.pcap'];

describe('hipd captures: every HIP packet, strictly', () => {
  for (const file of FILES) {
    it(`${file}: parses strictly, is HIPv1 with checksum 0 (UDP), and re-emits byte for byte`, () => {
      const { hip } = load(file);
      expect(hip.length).toBeGreaterThan(3);
      for (const h of hip) {
        expect(h.carrier).toBe('udp');
        expect([h.srcPort, h.dstPort]).toEqual([10500, 10500]);
        expect(h.pkt.version).toBe(1);
        expect(h.pkt.checksum).toBe(0);
        expect(hex(emitPacket(h.pkt))).toBe(hex(h.hip));
      }
    });
  }
});

/** The BEX between an initiator and a responder address: the four packets and both SPIs. */
function bex(hip: Seen[], initiator: string, responder: string) {
  const i1 = hip.find((h) => h.pkt.type === PacketType.I1 && h.src === initiator)!;
  const after = (type: number, src: string, dst: string, prev: Seen) =>
    hip.find((h) => h.pkt.type === type && h.src === src && h.dst === dst && h.frameIndex > prev.frameIndex)!;
  const r1 = after(PacketType.R1, responder, initiator, i1);
  const i2 = after(PacketType.I2, initiator, responder, r1);
  const r2 = after(PacketType.R2, responder, initiator, i2);
  const iHit = hex(i1.pkt.senderHit);
  const rHit = hex(r1.pkt.senderHit);
  for (const [p, s, r] of [[i1, iHit, hex(i1.pkt.receiverHit)], [r1, rHit, iHit], [i2, iHit, rHit], [r2, rHit, iHit]] as const) {
    expect([hex(p.pkt.senderHit), hex(p.pkt.receiverHit)]).toEqual([s, r]);
  }
  // ORCHIDv1 HITs (2001:10::/28): the only kind this hipd knows
  expect(formatIpAddress(i1.pkt.senderHit)).toMatch(/^2001:1[0-9a-f]:/);
  const initiatorSpi = getParam(i2.pkt, ParamType.ESP_INFO)!.newSpi;
  const responderSpi = getParam(r2.pkt, ParamType.ESP_INFO)!.newSpi;
  return { i1, r1, i2, r2, initiatorSpi, responderSpi };
}

/** ESP from `src` in frames [from, to): all on `spi`, suite 1 layout, sequence numbers 1, 2, 3 ... */
function checkEsp(frames: ReturnType<typeof readCapture>, src: string[], spi: number, min: number, from = 0, to = Infinity): void {
  const esp = extractEspPackets(frames).filter(
    (e) => src.includes(e.src) && e.frameIndex >= from && e.frameIndex < to && new DataView(e.esp.buffer, e.esp.byteOffset).getUint32(0) === spi,
  );
  expect(esp.length).toBeGreaterThanOrEqual(min);
  esp.forEach((e, i) => {
    const v = new DataView(e.esp.buffer, e.esp.byteOffset, e.esp.byteLength);
    expect(v.getUint32(4), `sequence number of ESP packet ${i}`).toBe(i + 1);
    // AES-128-CBC + HMAC-SHA1-96: SPI, seq, 16-byte IV, whole cipher blocks, 12-byte ICV
    expect((e.esp.length - 8 - 16 - 12) % 16).toBe(0);
    expect(e.esp.length).toBeGreaterThanOrEqual(8 + 16 + 16 + 12);
  });
}

describe('hipd-v1-nat-udp-bex-esp.pcap', () => {
  it('is a BEX of the RFC 5201 shape followed by ESP both ways on the announced SPIs', () => {
    const { hip, frames } = load('hipd-v1-nat-udp-bex-esp.pcap');
    expect(hip.map((h) => shape(h.pkt))).toEqual([
      'I1: ',
      'R1: PUZZLE DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID ESP_TRANSFORM HIP_SIGNATURE_2',
      'I2: ESP_INFO SOLUTION DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID ESP_TRANSFORM HIP_MAC HIP_SIGNATURE',
      'R2: ESP_INFO HIP_MAC_2 HIP_SIGNATURE',
    ]);
    const b = bex(hip, '10.77.0.1', '10.77.0.2');
    expect(getParam(b.r1.pkt, ParamType.ESP_TRANSFORM)!.suites).toContain(1);
    checkEsp(frames, ['10.77.0.1'], b.responderSpi, 4);
    checkEsp(frames, ['10.77.0.2'], b.initiatorSpi, 4);
  });
});

describe('hipd-v1-update-locator.pcap', () => {
  it('moves with the 3-packet UPDATE: LOCATOR + SEQ, then SEQ + ACK + ECHO_REQUEST, then ACK + ECHO_RESPONSE', () => {
    const { hip, frames } = load('hipd-v1-update-locator.pcap');
    const b = bex(hip, '10.77.0.1', '10.77.0.2');
    const updates = hip.filter((h) => h.pkt.type === PacketType.UPDATE);
    expect(updates.map((h) => shape(h.pkt))).toEqual([
      'UPDATE: ESP_INFO LOCATOR_SET SEQ HIP_MAC HIP_SIGNATURE',
      'UPDATE: ESP_INFO SEQ ACK ECHO_REQUEST_SIGNED HIP_MAC HIP_SIGNATURE',
      'UPDATE: ACK ECHO_RESPONSE_SIGNED HIP_MAC HIP_SIGNATURE',
    ]);
    const [u1, u2, u3] = updates as [Seen, Seen, Seen];
    // the mover (the initiator, now at 10.77.0.11) starts; its peer checks the new address
    expect([u1.src, u1.dst, u2.src, u2.dst, u3.src, u3.dst]).toEqual(['10.77.0.11', '10.77.0.2', '10.77.0.2', '10.77.0.11', '10.77.0.11', '10.77.0.2']);
    expect(hex(u1.pkt.senderHit)).toBe(hex(b.i1.pkt.senderHit));
    // ESP_INFO keeps the SA (old = new SPI: no rekey), the LOCATOR names the new address with it
    const info1 = getParam(u1.pkt, ParamType.ESP_INFO)!;
    expect([info1.oldSpi, info1.newSpi]).toEqual([b.initiatorSpi, b.initiatorSpi]);
    const locs = getParam(u1.pkt, ParamType.LOCATOR_SET)!.locators;
    expect(locs.length).toBeGreaterThanOrEqual(1);
    const first = locs[0]!;
    expect(first.locatorType).toBe(1); // ESP SPI + IPv6 address (RFC 5206 §4)
    expect(hex(first.value)).toContain(b.initiatorSpi.toString(16).padStart(8, '0') + mapped('10.77.0.11'));
    // SEQ / ACK pair up; the echo comes back unchanged
    const seq1 = getParam(u1.pkt, ParamType.SEQ)!.updateId;
    const seq2 = getParam(u2.pkt, ParamType.SEQ)!.updateId;
    expect(getParam(u2.pkt, ParamType.ACK)!.updateIds).toEqual([seq1]);
    expect(getParam(u3.pkt, ParamType.ACK)!.updateIds).toEqual([seq2]);
    const req = getParam(u2.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque;
    expect(hex(getParam(u3.pkt, ParamType.ECHO_RESPONSE_SIGNED)!.opaque)).toBe(hex(req));
    const info2 = getParam(u2.pkt, ParamType.ESP_INFO)!;
    expect([info2.oldSpi, info2.newSpi]).toEqual([b.responderSpi, b.responderSpi]);
    // ESP carries on from the new address on the same SPIs (and keys: no DH in the UPDATE), but
    // hipd re-installs its SAs on a move, so BOTH ends start their sequence numbers again at 1:
    // a receiver that keeps its replay window across hipd's readdress drops everything after it.
    checkEsp(frames, ['10.77.0.1'], b.responderSpi, 10, 0, u1.frameIndex);
    checkEsp(frames, ['10.77.0.2'], b.initiatorSpi, 10, 0, u1.frameIndex);
    checkEsp(frames, ['10.77.0.11'], b.responderSpi, 5, u3.frameIndex);
    checkEsp(frames, ['10.77.0.2'], b.initiatorSpi, 5, u3.frameIndex);
    expect(extractEspPackets(frames).filter((e) => e.src === '10.77.0.1' && e.frameIndex > u1.frameIndex)).toEqual([]);
  });
});

describe('hipd-v1-rvs.pcap', () => {
  it('registers with the RVS in the BEX, relays an I1 with FROM + RVS_HMAC, and answers with VIA_RVS', () => {
    const { hip } = load('hipd-v1-rvs.pcap');
    expect(hip.map((h) => `${h.src}>${h.dst} ${shape(h.pkt)}`)).toEqual([
      '10.77.0.2>10.77.0.3 I1: ',
      '10.77.0.3>10.77.0.2 R1: PUZZLE DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID REG_INFO ESP_TRANSFORM HIP_SIGNATURE_2',
      '10.77.0.2>10.77.0.3 I2: ESP_INFO SOLUTION DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID REG_REQUEST ESP_TRANSFORM HIP_MAC HIP_SIGNATURE',
      '10.77.0.3>10.77.0.2 R2: ESP_INFO REG_RESPONSE REG_FROM HIP_MAC_2 HIP_SIGNATURE',
      '10.77.0.1>10.77.0.3 I1: ',
      '10.77.0.3>10.77.0.2 I1: FROM RVS_HMAC',
      '10.77.0.2>10.77.0.1 R1: PUZZLE DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID ESP_TRANSFORM HIP_SIGNATURE_2 VIA_RVS',
      '10.77.0.1>10.77.0.2 I2: ESP_INFO SOLUTION DIFFIE_HELLMAN HIP_TRANSFORM HOST_ID ESP_TRANSFORM HIP_MAC HIP_SIGNATURE',
      '10.77.0.2>10.77.0.1 R2: ESP_INFO HIP_MAC_2 HIP_SIGNATURE',
    ]);
    const reg = bex(hip, '10.77.0.2', '10.77.0.3');
    const offered = getParam(reg.r1.pkt, ParamType.REG_INFO)!.regTypes;
    const asked = getParam(reg.i2.pkt, ParamType.REG_REQUEST)!.regTypes;
    const granted = getParam(reg.r2.pkt, ParamType.REG_RESPONSE)!.regTypes;
    expect(offered).toContain(1); // RVS (RFC 8004)
    expect(asked).toEqual([1]);
    expect(granted).toEqual([1]);
    // the relayed I1: same HITs as the original, FROM = the initiator's address
    const original = hip[4]!;
    const relayed = hip[5]!;
    expect([hex(relayed.pkt.senderHit), hex(relayed.pkt.receiverHit)]).toEqual([hex(original.pkt.senderHit), hex(original.pkt.receiverHit)]);
    expect(hex(getParam(relayed.pkt, ParamType.FROM)!.address)).toBe(mapped('10.77.0.1'));
    // the R1 goes straight to the initiator and names the RVS it came through
    const viaRvs = getParam(hip[6]!.pkt, ParamType.VIA_RVS)!.addresses.map(hex);
    expect(viaRvs).toEqual([mapped('10.77.0.3')]);
    const served = bex(hip, '10.77.0.1', '10.77.0.2');
    expect(hex(served.r1.pkt.senderHit)).toBe(hex(reg.i1.pkt.senderHit));
  });
});
