/**
 * HIPL's hipd (HIPv1, RFC 5206) moving to a new address, from a real capture: every packet parses
 * strictly and re-emits byte for byte, the 3-packet UPDATE has the shape hipd expects, and the
 * exchange our engine runs in HIPv1 has exactly that shape (same parameters, same order, same
 * directions, SEQ from 0, 4-byte echo).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import {
  decodeLocatorValue,
  emitPacket,
  getParam,
  mapIpv4,
  PacketType,
  ParamType,
  parsePacket,
  type HipPacket,
} from '../../src/wire/index.js';
import { extractEspPackets, extractHipPackets, readCapture } from '../../src/wire/pcap.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { SimNetwork } from './sim.js';

const frames = readCapture(readFileSync(`${CAPTURES_DIR}hipd-v1-update-locator.pcap`));
const hips = extractHipPackets(frames);
const parsed = hips.map((h) => ({ ...h, pkt: parsePacket(h.hip) }));
const updates = parsed.filter((p) => p.pkt.type === PacketType.UPDATE);
const types = (p: HipPacket) => p.params.map((x) => x.type);

describe('hipd-v1-update-locator.pcap', () => {
  it('every HIP packet parses strictly and re-emits byte for byte', () => {
    expect(parsed.map((p) => p.pkt.type)).toEqual([1, 2, 3, 4, 16, 16, 16]);
    for (const p of parsed) expect(bytesEqual(emitPacket(p.pkt), p.hip)).toBe(true);
  });

  it("hipd's LOCATOR: type 1 (SPI + address) records with Locator Length 4, as HIPL writes them", () => {
    const loc = getParam(updates[0]!.pkt, ParamType.LOCATOR_SET)!;
    expect(loc.locators).toHaveLength(2);
    for (const l of loc.locators) {
      expect(l.locatorType).toBe(1);
      expect(l.lengthField).toBe(4);
      expect(l.value).toHaveLength(20);
    }
    const first = decodeLocatorValue(loc.locators[0]!);
    expect(first.locatorType === 1 && bytesEqual(first.address, mapIpv4(updates[0]!.srcAddress))).toBe(true);
  });

  it('runs the RFC 5206 readdress exchange: LOCATOR + SEQ, then SEQ + ACK + echo to the new address, then ACK + echo', () => {
    const i2 = parsed.find((p) => p.pkt.type === PacketType.I2)!;
    const r2 = parsed.find((p) => p.pkt.type === PacketType.R2)!;
    const [u1, u2, u3] = updates;
    const mobileSpi = getParam(i2.pkt, ParamType.ESP_INFO)!.newSpi;
    const peerSpi = getParam(r2.pkt, ParamType.ESP_INFO)!.newSpi;
    // The mobile host (the initiator) speaks from a new address; the peer answers there.
    expect(u1!.src).not.toBe(i2.src);
    expect(u1!.dst).toBe(i2.dst);
    expect([u2!.src, u2!.dst]).toEqual([u1!.dst, u1!.src]);
    expect([u3!.src, u3!.dst]).toEqual([u1!.src, u1!.dst]);

    expect(types(u1!.pkt)).toEqual([ParamType.ESP_INFO, ParamType.LOCATOR_SET, ParamType.SEQ, ParamType.HIP_MAC, ParamType.HIP_SIGNATURE]);
    expect(getParam(u1!.pkt, ParamType.ESP_INFO)).toMatchObject({ oldSpi: mobileSpi, newSpi: mobileSpi });
    expect(getParam(u1!.pkt, ParamType.SEQ)!.updateId).toBe(0);

    expect(types(u2!.pkt)).toEqual([ParamType.ESP_INFO, ParamType.SEQ, ParamType.ACK, ParamType.ECHO_REQUEST_SIGNED, ParamType.HIP_MAC, ParamType.HIP_SIGNATURE]);
    expect(getParam(u2!.pkt, ParamType.ESP_INFO)).toMatchObject({ oldSpi: peerSpi, newSpi: peerSpi });
    expect(getParam(u2!.pkt, ParamType.ACK)!.updateIds).toEqual([0]);
    const nonce = getParam(u2!.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque;
    expect(nonce).toHaveLength(4);

    expect(types(u3!.pkt)).toEqual([ParamType.ACK, ParamType.ECHO_RESPONSE_SIGNED, ParamType.HIP_MAC, ParamType.HIP_SIGNATURE]);
    expect(getParam(u3!.pkt, ParamType.ACK)!.updateIds).toEqual([getParam(u2!.pkt, ParamType.SEQ)!.updateId]);
    expect(bytesEqual(getParam(u3!.pkt, ParamType.ECHO_RESPONSE_SIGNED)!.opaque, nonce)).toBe(true);
  });

  it('ESP continues from the new address after the exchange, and not from the old one', () => {
    const esp = extractEspPackets(frames);
    const u3Frame = updates[2]!.frameIndex;
    const after = esp.filter((e) => e.frameIndex > u3Frame);
    expect(after.length).toBeGreaterThan(0);
    const oldAddress = parsed[0]!.src;
    for (const e of after) expect([e.src, e.dst]).not.toContain(oldAddress);
  });
});

describe("our HIPv1 readdress exchange has hipd's shape", () => {
  it('same parameters in the same order, same directions, SEQ from 0, a 4-byte echo', () => {
    const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const net = new SimNetwork('hipd-shape');
    const a = net.addNode('a', rsaA, { version: 1 });
    const b = net.addNode('b', rsaB, { version: 1 });
    a.engine.connect(rsaB.hit(1), [b.locator], net.now);
    net.run(net.now + 60_000);
    const ours: { from: string; to: string; pkt: HipPacket }[] = [];
    net.hook = (t, from, to) => {
      if (t.packetType === PacketType.UPDATE) ours.push({ from: from.locator.key, to: t.to.key, pkt: parsePacket(t.packet) });
      return t.packet;
    };
    net.move(a, 'sim:a-new');
    a.engine.updateLocators([mapIpv4(new Uint8Array([10, 77, 0, 11]))], net.now);
    net.run(net.now + 10_000);
    expect(ours.map((o) => types(o.pkt))).toEqual(updates.map((u) => types(u.pkt)));
    expect(ours.map((o) => `${o.from}>${o.to}`)).toEqual(['sim:a-new>sim:b', 'sim:b>sim:a-new', 'sim:a-new>sim:b']);
    expect(getParam(ours[0]!.pkt, ParamType.SEQ)!.updateId).toBe(0);
    expect(getParam(ours[1]!.pkt, ParamType.ACK)!.updateIds).toEqual([0]);
    expect(getParam(ours[1]!.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque).toHaveLength(4);
    expect(ours.every((o) => o.pkt.version === 1)).toBe(true);
    // Our LOCATOR is RFC 5206's own form (Locator Length 5); hipd reads records by type, so it
    // takes both forms.
    const loc = getParam(ours[0]!.pkt, ParamType.LOCATOR_SET)!.locators[0]!;
    expect([loc.locatorType, loc.lengthField, loc.value.length]).toEqual([1, undefined, 20]);
    expect(b.engine.association(rsaA.hit(1))!.locator.key).toBe('sim:a-new');
    // Each end learns that the readdress finished (hipd re-installs its SAs at this point).
    expect(SimNetwork.eventsOf(b, 'readdressed').map((e) => e.mover)).toEqual(['peer']);
    expect(SimNetwork.eventsOf(a, 'readdressed').map((e) => e.mover)).toEqual(['self']);
  });
});
