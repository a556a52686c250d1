/**
 * The UPDATE handler (src/core/update.ts) case by case, for the checks the end-to-end UPDATE
 * tests pass through without noticing: the SEQ/ACK bookkeeping, the work queue (one UPDATE of
 * ours outstanding, the newest request of a kind wins, cancelled work is sent again), the echo
 * that moves a peer, ESP_INFO rekeying with wrong or odd SPIs and DH groups, transport candidates,
 * and the retransmission schedule. A peer that builds unusual (but authentic) UPDATEs is played
 * by the engine's own sealing with its real keys, so every packet passes HIP_MAC and HIP_SIGNATURE
 * and only the check under test can refuse it.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { Association } from '../../src/core/association.js';
import type { EngineOptions } from '../../src/core/config.js';
import { hitKey, type EngineContext } from '../../src/core/context.js';
import type { PeerLocator } from '../../src/core/events.js';
import type { LocatorCodec } from '../../src/core/registration.js';
import { sealForPeer } from '../../src/core/teardown.js';
import { announceCandidates, seqAfter } from '../../src/core/update.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import {
  decodeLocatorValue,
  encodeLocatorValue,
  getParam,
  LocatorTrafficType,
  LocatorType,
  mapIpv4,
  PacketType,
  ParamType,
  parsePacket,
  type HipPacket,
  type HipParam,
  type Locator,
} from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
const idB = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
const X = mapIpv4(new Uint8Array([10, 77, 0, 11]));
const Y = mapIpv4(new Uint8Array([10, 77, 0, 12]));

/** The engine's insides a test needs to play a peer that sends unusual UPDATEs. */
interface Inside {
  ctx: EngineContext<PeerLocator>;
  associations: Map<string, Association<PeerLocator>>;
}
const inside = (n: SimNode): Inside => n.engine as unknown as Inside;
const assoc = (n: SimNode, peerHit: Uint8Array): Association<PeerLocator> => inside(n).associations.get(hitKey(peerHit))!;

/** An UPDATE `from` sends its peer, sealed with its real keys (HIP_MAC and HIP_SIGNATURE good). */
function sealUpdate(from: SimNode, peerHit: Uint8Array, params: HipParam[]): Uint8Array {
  return sealForPeer(inside(from).ctx, assoc(from, peerHit), PacketType.UPDATE, [...params].sort((x, y) => x.type - y.type));
}

interface Sent {
  from: string;
  to: string;
  at: number;
  pkt: HipPacket;
}

interface Lab {
  net: SimNetwork;
  a: SimNode;
  b: SimNode;
  hitA: Uint8Array;
  hitB: Uint8Array;
  /** Every UPDATE put on the wire since the association was established (lost ones too). */
  sent: Sent[];
  /** Hand a packet to `to` as if it came from `fromKey`, then collect what it sends. */
  deliver(to: SimNode, packet: Uint8Array, fromKey: string): void;
}

function lab(seed: string, opts: EngineOptions = {}, deps: { locators?: (net: SimNetwork) => LocatorCodec<PeerLocator> } = {}): Lab {
  const net = new SimNetwork(seed);
  const d = deps.locators ? { locators: deps.locators(net) } : {};
  const a = net.addNode('a', idA, { idleTimeoutMs: 0, ...opts }, d);
  const b = net.addNode('b', idB, { idleTimeoutMs: 0, ...opts }, d);
  const hitA = a.engine.localHit(2);
  const hitB = b.engine.localHit(2);
  a.engine.connect(hitB, [b.locator], net.now);
  net.run(net.now + 10_000);
  expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  const sent: Sent[] = [];
  net.hook = (t, from, to) => {
    if (t.packetType === PacketType.UPDATE) sent.push({ from: from.name, to: to.name, at: net.now, pkt: parsePacket(t.packet) });
    return t.packet;
  };
  net.log.length = 0;
  for (const n of [a, b]) n.events.length = 0;
  return {
    net,
    a,
    b,
    hitA,
    hitB,
    sent,
    deliver(to, packet, fromKey) {
      to.engine.handlePacket(packet, { key: fromKey }, net.now);
      net.flush();
    },
  };
}

const locatorAddresses = (p: HipPacket): Uint8Array[] =>
  getParam(p, ParamType.LOCATOR_SET)!.locators.map((l) => {
    const v = decodeLocatorValue(l);
    return v.address;
  });

describe('seqAfter: Update IDs in 32-bit wrapping order', () => {
  it('is after by 1 up to 2^31 - 1, never for the same ID or half the space away', () => {
    expect(seqAfter(1, 0)).toBe(true);
    expect(seqAfter(0, 1)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
    expect(seqAfter(0, 0xffff_ffff)).toBe(true);
    expect(seqAfter(0x7fff_ffff, 0)).toBe(true);
    expect(seqAfter(0x8000_0000, 0)).toBe(false);
    expect(seqAfter(0, 0x8000_0000)).toBe(false);
  });
});

describe('the work queue: one UPDATE of ours outstanding, the newest request of a kind wins', () => {
  it('a newer announcement replaces one in flight at once (new SEQ), and the peer moves once', () => {
    const l = lab('announce-twice');
    l.net.move(l.a, 'sim:a-moved');
    l.a.engine.updateLocators([X], l.net.now);
    l.a.engine.updateLocators([Y], l.net.now);
    l.net.flush();
    // Both went out before any answer: the second did not wait for the first's ACK.
    const first = l.sent.filter((s) => s.from === 'a');
    expect(first).toHaveLength(2);
    expect(locatorAddresses(first[0]!.pkt)).toEqual([X]);
    expect(locatorAddresses(first[1]!.pkt)).toEqual([Y]);
    expect(getParam(first[1]!.pkt, ParamType.SEQ)!.updateId).toBe(getParam(first[0]!.pkt, ParamType.SEQ)!.updateId + 1);
    l.net.run(l.net.now + 10_000);
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a-moved');
    // No announcement is left over to be sent again later.
    const later = l.sent.filter((s) => s.from === 'a' && getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(later).toHaveLength(2);
  });

  it('while a rekey is outstanding, two announcements wait as one: the newest', () => {
    const l = lab('announce-queued');
    // Hold the rekey's answer back until both announcements are queued.
    expect(l.a.engine.rekey(l.hitB, l.net.now)).toBe(true);
    const held = [X.slice()];
    l.a.engine.updateLocators(held, l.net.now);
    l.a.engine.updateLocators([Y], l.net.now);
    // The caller's array is copied: changing it later changes nothing on the wire.
    held[0]!.fill(0);
    l.net.run(l.net.now + 10_000);
    const announces = l.sent.filter((s) => s.from === 'a' && getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(announces).toHaveLength(1);
    expect(locatorAddresses(announces[0]!.pkt)).toEqual([Y]);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toHaveLength(1);
  });

  it('the caller may reuse its address buffers: the announcement keeps its own copy', () => {
    const l = lab('announce-copy');
    l.a.engine.rekey(l.hitB, l.net.now);
    const mine = X.slice();
    l.a.engine.updateLocators([mine], l.net.now);
    mine.fill(0);
    l.net.run(l.net.now + 10_000);
    const [announce] = l.sent.filter((s) => s.from === 'a' && getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(locatorAddresses(announce!.pkt)).toEqual([X]);
  });

  it('a rekey asked for while one is queued is refused (false) and queued once', () => {
    const l = lab('rekey-queued');
    l.a.engine.updateLocators([X], l.net.now);
    expect(l.a.engine.rekey(l.hitB, l.net.now)).toBe(true);
    expect(l.a.engine.rekey(l.hitB, l.net.now, { dh: true })).toBe(false);
    l.net.run(l.net.now + 10_000);
    const rekeys = l.sent.filter((s) => s.from === 'a' && getParam(s.pkt, ParamType.ESP_INFO) && !getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(rekeys).toHaveLength(1);
    // The first request won: no DH in it.
    expect(getParam(rekeys[0]!.pkt, ParamType.DIFFIE_HELLMAN)).toBeUndefined();
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toHaveLength(1);
  });

  it('the responder may send UPDATEs in R2-SENT; nobody may before the base exchange ends', () => {
    const net = new SimNetwork('r2-sent');
    const a = net.addNode('a', idA, { idleTimeoutMs: 0 });
    const b = net.addNode('b', idB, { idleTimeoutMs: 0 });
    const hitA = a.engine.localHit(2);
    const hitB = b.engine.localHit(2);
    a.engine.connect(hitB, [b.locator], net.now);
    net.flush();
    // a is in I1-SENT: nothing to update yet.
    a.engine.updateLocators([X], net.now);
    expect(a.engine.rekey(hitB, net.now)).toBe(false);
    net.flush();
    expect(net.log.filter((l) => l.packetType === PacketType.UPDATE)).toEqual([]);
    net.run(net.now + 10_000);
    expect(b.engine.association(hitA)?.state).toBe('R2-SENT');
    expect(b.engine.rekey(hitA, net.now)).toBe(true);
    net.run(net.now + 10_000);
    expect(SimNetwork.eventsOf(b, 'rekeyed')).toHaveLength(1);
    expect(SimNetwork.eventsOf(a, 'rekeyed')).toHaveLength(1);
  });
});

/** Sim locators `sim:c<n>` are reached at 192.0.2.<n>, UDP port 40000 + n. */
function simCodec(net: SimNetwork): LocatorCodec<PeerLocator> {
  return {
    addressOf(l) {
      const n = Number(l.key.replace('sim:c', ''));
      return Number.isInteger(n) ? { address: mapIpv4(new Uint8Array([192, 0, 2, n])), port: 40000 + n, protocol: 17 } : undefined;
    },
    udpLocator(address, port) {
      if (!bytesEqual(address.subarray(0, 15), mapIpv4(new Uint8Array([192, 0, 2, 0])).subarray(0, 15))) return undefined;
      const key = `sim:c${address[15]}`;
      return port === 40000 + address[15]! ? (net.nodes.get(key)?.locator ?? { key }) : undefined;
    },
  };
}

function transport(n: number, opts: { protocol?: number; port?: number } = {}): Locator {
  const v = encodeLocatorValue({
    locatorType: LocatorType.TRANSPORT,
    port: opts.port ?? 40000 + n,
    protocol: opts.protocol ?? 17,
    kind: 1,
    priority: 100 - n,
    spi: 1,
    address: mapIpv4(new Uint8Array([192, 0, 2, n])),
  });
  return { trafficType: LocatorTrafficType.BOTH, locatorType: v.locatorType, preferred: false, reserved: 0, lifetime: 60, value: v.value };
}

function espAddress(n: number): Locator {
  const v = encodeLocatorValue({ locatorType: LocatorType.ESP_SPI_ADDRESS, spi: 1, address: mapIpv4(new Uint8Array([192, 0, 2, n])) });
  return { trafficType: LocatorTrafficType.BOTH, locatorType: v.locatorType, preferred: false, reserved: 0, lifetime: 60, value: v.value };
}

/** Keys of the locators `b` sent connectivity checks (UPDATE with an echo request) to. */
const checkedBy = (l: Lab, who = 'b'): string[] =>
  l.sent.filter((s) => s.from === who && s.to !== 'a' && getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED)).map((s) => s.to);

describe('transport candidates (RFC 9028): a connectivity check to each, at most four', () => {
  function candidatesLab(seed: string, opts: EngineOptions = {}, codec = true): Lab {
    const l = lab(seed, opts, codec ? { locators: simCodec } : {});
    for (let n = 1; n <= 9; n++) l.net.addNode(`c${n}`, idB);
    return l;
  }
  const announce = (l: Lab, locators: Locator[], fromKey = 'sim:a'): void => {
    const u = sealUpdate(l.a, l.hitB, [{ type: ParamType.LOCATOR_SET, locators }, { type: ParamType.SEQ, updateId: 7 }]);
    l.deliver(l.b, u, fromKey);
  };

  it('checks UDP transport candidates only, skipping the current path and what it cannot reach, four at most', () => {
    const l = candidatesLab('cand-mix');
    const broken: Locator = { ...transport(9), value: transport(9).value.subarray(0, 20) };
    announce(l, [
      espAddress(8), // not a transport candidate
      transport(7, { protocol: 6 }), // TCP: not checked
      transport(6, { port: 1 }), // the driver cannot reach it
      broken, // undecodable: skipped, the rest still checked
      transport(1),
      transport(2),
      transport(3),
      transport(4),
      transport(5), // the fifth valid one: over the limit
    ]);
    // One check at a time (one UPDATE of ours outstanding): the first goes out now, the others
    // wait their turn; each is tried, none is forgotten (a later one used to replace the one
    // queued before it, so only the first and the last were ever checked).
    expect(checkedBy(l)).toEqual(['c1']);
    l.net.run(l.net.now + 600_000);
    expect([...new Set(checkedBy(l))]).toEqual(['c1', 'c2', 'c3', 'c4']);
    // The announcement itself is answered (ACK), and it is no move.
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a');
  });

  it('a candidate that is the current path is not checked and does not count against the limit', () => {
    const l = candidatesLab('cand-current');
    // Make the current path of a at b a codec locator: a moved to c5 and b verified it.
    l.net.move(l.a, 'sim:c5');
    l.b.engine.received(l.hitA, { key: 'sim:c5' }, 100, l.net.now);
    l.net.run(l.net.now + 5000);
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:c5');
    l.sent.length = 0;
    announce(l, [transport(5), transport(1), transport(2), transport(3), transport(4)], 'sim:c5');
    l.net.run(l.net.now + 600_000);
    expect([...new Set(checkedBy(l))]).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('with holePunching off, or a driver that cannot make locators, nothing is checked', () => {
    for (const [seed, opts, codec] of [
      ['cand-off', { holePunching: false }, true],
      ['cand-nocodec', {}, false],
    ] as const) {
      const l = candidatesLab(seed, opts, codec);
      announce(l, [transport(1), transport(2)]);
      expect(checkedBy(l), seed).toEqual([]);
      // Answered all the same.
      expect(l.sent.filter((s) => s.from === 'b' && s.to === 'a')).toHaveLength(1);
    }
  });

  it('a set of transport candidates from another address is no move: the source is not checked', () => {
    const l = candidatesLab('cand-elsewhere', { holePunching: false });
    announce(l, [transport(1)], 'sim:c9');
    expect(checkedBy(l)).toEqual([]);
    expect(l.b.engine.paths(l.hitA).map((p) => p.key)).toEqual(['sim:a']);
    // An ESP_SPI_ADDRESS set from there is one: c9 gets an echo request.
    const u = sealUpdate(l.a, l.hitB, [{ type: ParamType.LOCATOR_SET, locators: [espAddress(9)] }, { type: ParamType.SEQ, updateId: 8 }]);
    l.deliver(l.b, u, 'sim:c9');
    expect(checkedBy(l)).toEqual(['c9']);
  });

  it('announceCandidates with no candidate sends nothing', () => {
    const l = lab('cand-none');
    announceCandidates(inside(l.a).ctx, assoc(l.a, l.hitB), [], l.net.now);
    l.net.flush();
    expect(l.sent).toEqual([]);
  });
});

describe('return-routability checks: one per locator, bounded by the path table', () => {
  it('replayed ESP from a hundred forged sources: checks go to at most the seven other locators the table holds', () => {
    const l = lab('flood-checks');
    // The forged sources are sinks in the network, so what b sends them is seen.
    const sinks = Array.from({ length: 100 }, (_, i) => l.net.addNode(`f${i}`, idB));
    for (const f of sinks) l.b.engine.received(l.hitA, f.locator, 100, l.net.now);
    expect(assoc(l.b, l.hitA).update.wants.length).toBeLessThanOrEqual(7);
    l.net.run(l.net.now + 3_600_000);
    const checked = new Set(l.sent.filter((s) => s.from === 'b' && getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED)).map((s) => s.to));
    expect(checked.size).toBeGreaterThan(1);
    expect(checked.size).toBeLessThanOrEqual(7);
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a');
  });
});
