/**
 * HIPL's hipd (HIPv1, RFC 5206) moving to a new address, from a real capture: every packet parses
 * strictly and re-emits byte for byte, the 3-packet UPDATE has the shape hipd expects, and the
 * exchange our engine runs in HIPv1 has exactly that shape (same parameters, same order, same
 * directions, SEQ from 0, 4-byte echo). Then hipl on each end of a move is fed hipd's own UPDATE
 * parameters (re-sealed with the sender's keys, since the capture has none) and must answer
 * with the parameters hipd answered with, and follow the move.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import { hitKey, type LocalSide } from '../../src/core/context.js';
import type { HipEngine } from '../../src/core/engine.js';
import { sealPacket } from '../../src/core/sealing.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import type { HashName } from '../../src/crypto/keys.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import {
  decodeLocatorValue,
  emitPacket,
  getParam,
  mapIpv4,
  PacketType,
  ParamType,
  parsePacket,
  type HipPacket,
  type HipParam,
} from '../../src/wire/index.js';
import { extractEspPackets, extractHipPackets, readCapture } from '../../src/wire/pcap.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { SimNetwork, type SimNode } from './sim.js';

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

/** Two HIPv1 (RSA) nodes with an established association: a initiated it. */
function establishedV1(seed: string) {
  const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
  const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
  const net = new SimNetwork(seed);
  const a = net.addNode('a', rsaA, { version: 1 });
  const b = net.addNode('b', rsaB, { version: 1 });
  a.engine.connect(rsaB.hit(1), [b.locator], net.now);
  net.run(net.now + 60_000);
  return { net, a, b, rsaA };
}

/** a moves to a new address, as the capture's initiator did (to 10.77.0.11), and announces it. */
function moveA(net: SimNetwork, a: SimNode): void {
  net.move(a, 'sim:a-new');
  a.engine.updateLocators([mapIpv4(new Uint8Array([10, 77, 0, 11]))], net.now);
  net.run(net.now + 10_000);
}

describe("our HIPv1 readdress exchange has hipd's shape", () => {
  it('same parameters in the same order, same directions, SEQ from 0, a 4-byte echo', () => {
    const { net, a, b, rsaA } = establishedV1('hipd-shape');
    const ours: { from: string; to: string; pkt: HipPacket }[] = [];
    net.hook = (t, from, to) => {
      if (t.packetType === PacketType.UPDATE) ours.push({ from: from.locator.key, to: t.to.key, pkt: parsePacket(t.packet) });
      return t.packet;
    };
    moveA(net, a);
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

/** Our side of an engine, with its signing key (what the sender of an UPDATE signs with). */
function signerOf(engine: HipEngine): LocalSide {
  return (engine as unknown as { local(v: 1 | 2): LocalSide }).local(1);
}

/**
 * The capture's UPDATE `theirs` as `from` would send it in place of its own `ours`: hipd's
 * parameters as they are (two type 1 locators with Locator Length 4, lifetimes 0 and
 * uninitialised, no preferred bit, an IPv6 locator beside the IPv4 one, hipd's KEYMAT indexes),
 * with only what belongs to this association taken from ours (SPIs, SEQ and ACK numbers, the
 * echo nonce), then MACed and signed with `from`'s keys as hipd would.
 */
function asHipd(theirs: HipPacket, ours: HipPacket, from: SimNode): Uint8Array {
  const inner = from.engine as unknown as { associations: Map<string, { hipKeys: { macHash: HashName; macOut: Uint8Array } }> };
  const keys = inner.associations.get(hitKey(ours.receiverHit))!.hipKeys;
  const params = theirs.params
    .filter((p) => p.type !== ParamType.HIP_MAC && p.type !== ParamType.HIP_SIGNATURE)
    .map((p): HipParam => {
      const mine = ours.params.find((q) => q.type === p.type);
      expect(mine, `our UPDATE has ${p.type} too`).toBeDefined();
      if (p.type === ParamType.ESP_INFO && 'keymatIndex' in p) {
        const o = getParam(ours, ParamType.ESP_INFO)!;
        return { ...p, oldSpi: o.oldSpi, newSpi: o.newSpi };
      }
      if (p.type === ParamType.LOCATOR_SET && 'locators' in p) {
        const spi = getParam(ours, ParamType.ESP_INFO)!.newSpi;
        return {
          ...p,
          locators: p.locators.map((l) => {
            const value = l.value.slice();
            new DataView(value.buffer).setUint32(0, spi);
            return { ...l, value };
          }),
        };
      }
      return mine!;
    });
  const me = signerOf(from.engine);
  return sealPacket(
    nodeCrypto,
    { ...theirs, senderHit: ours.senderHit, receiverHit: ours.receiverHit, checksum: 0, params },
    { type: ParamType.HIP_MAC, hash: keys.macHash, key: keys.macOut },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
}

describe("hipl answers hipd's own UPDATE packets, both ways", () => {
  it("as the peer of hipd moving, and as the host moving with hipd as its peer: each answer has hipd's parameters", () => {
    const { net, a, b, rsaA } = establishedV1('hipd-bytes');
    // Every UPDATE on the wire is the capture's, in order: each hipl end only ever receives
    // hipd's bytes, and what it answers (before it is swapped for hipd's) is recorded.
    const answered: HipPacket[] = [];
    const sent: HipPacket[] = [];
    let n = 0;
    net.hook = (t, from) => {
      if (t.packetType !== PacketType.UPDATE) return t.packet;
      const ours = parsePacket(t.packet);
      answered.push(ours);
      const theirs = updates[n++]!.pkt;
      const bytes = asHipd(theirs, ours, from);
      sent.push(parsePacket(bytes));
      return bytes;
    };
    moveA(net, a);
    expect(n).toBe(3);
    // What went on the wire was hipd's: its parameter list and its LOCATOR form.
    expect(sent.map(types)).toEqual(updates.map((u) => types(u.pkt)));
    expect(getParam(sent[0]!, ParamType.LOCATOR_SET)!.locators.map((l) => [l.lengthField, l.lifetime, l.preferred])).toEqual(
      getParam(updates[0]!.pkt, ParamType.LOCATOR_SET)!.locators.map((l) => [4, l.lifetime, false]),
    );
    // b answered hipd's LOCATOR UPDATE as hipd did, and a answered hipd's echo request as hipd did.
    expect(types(answered[1]!)).toEqual(types(updates[1]!.pkt));
    expect(types(answered[2]!)).toEqual(types(updates[2]!.pkt));
    expect(getParam(answered[1]!, ParamType.ACK)!.updateIds).toEqual([getParam(answered[0]!, ParamType.SEQ)!.updateId]);
    // Nothing was dropped on the way: hipd's form parsed, verified and was acted on.
    expect(a.engine.stats.dropped).toEqual({});
    expect(b.engine.stats.dropped).toEqual({});
    // b checked the address the UPDATE came from (not the locators' 10.77.0.11 or fd77::1) and moved there.
    expect(b.engine.association(rsaA.hit(1))!.locator.key).toBe('sim:a-new');
    expect(SimNetwork.eventsOf(b, 'readdressed').map((e) => e.mover)).toEqual(['peer']);
    expect(SimNetwork.eventsOf(a, 'readdressed').map((e) => e.mover)).toEqual(['self']);
  });
});
