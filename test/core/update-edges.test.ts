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
import { sealPacket } from '../../src/core/sealing.js';
import { announceCandidates, checkLocator, probePath, requestRegistration, seqAfter } from '../../src/core/update.js';
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

/**
 * An UPDATE `from` sends its peer, sealed with its real keys (HIP_MAC and HIP_SIGNATURE good);
 * `header` changes the header before sealing (version, receiver HIT).
 */
function sealUpdate(from: SimNode, peerHit: Uint8Array, params: HipParam[], header: Partial<HipPacket> = {}): Uint8Array {
  const ctx = inside(from).ctx;
  const a = assoc(from, peerHit);
  const me = ctx.local(a.version)!;
  const sorted = [...params].sort((x, y) => x.type - y.type);
  return sealPacket(
    ctx.provider,
    { version: a.version, type: PacketType.UPDATE, controls: 0, checksum: 0, senderHit: a.localHit, receiverHit: a.peerHit, params: sorted, ...header },
    { type: ParamType.HIP_MAC, hash: a.hipKeys!.macHash, key: a.hipKeys!.macOut },
    { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm },
  );
}

/** Drops a node recorded, as [reason, detail]. */
const drops = (n: SimNode): [string, string | undefined][] => SimNetwork.eventsOf(n, 'dropped').map((e) => [e.reason, e.detail]);

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

/** Two established peers (HIPv1 with `opts.version` 1, which needs `deps.identities` RSA). */
function lab(
  seed: string,
  opts: EngineOptions = {},
  deps: { locators?: (net: SimNetwork) => LocatorCodec<PeerLocator>; identities?: [HostIdentity, HostIdentity] } = {},
): Lab {
  const net = new SimNetwork(seed);
  const d = deps.locators ? { locators: deps.locators(net) } : {};
  const [ia, ib] = deps.identities ?? [idA, idB];
  const a = net.addNode('a', ia, { idleTimeoutMs: 0, ...opts }, d);
  const b = net.addNode('b', ib, { idleTimeoutMs: 0, ...opts }, d);
  const hitA = a.engine.localHit(opts.version ?? 2);
  const hitB = b.engine.localHit(opts.version ?? 2);
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

  it('a rekey the peer asks for while our announcement is in flight completes on both ends, and a later one can start', () => {
    const l = lab('rekey-vs-announce');
    l.a.engine.updateLocators([X], l.net.now);
    expect(l.b.engine.rekey(l.hitA, l.net.now)).toBe(true);
    l.net.run(l.net.now + 30_000);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toHaveLength(1);
    expect(SimNetwork.eventsOf(l.b, 'rekeyed')).toHaveLength(1);
    const sa = (n: SimNode, peer: Uint8Array) => n.engine.association(peer)!.sa!;
    expect(sa(l.a, l.hitB).localSpi).toBe(sa(l.b, l.hitA).peerSpi);
    expect(sa(l.b, l.hitA).localSpi).toBe(sa(l.a, l.hitB).peerSpi);
    expect(l.b.engine.rekey(l.hitA, l.net.now)).toBe(true);
    l.net.run(l.net.now + 30_000);
    expect(SimNetwork.eventsOf(l.b, 'rekeyed')).toHaveLength(2);
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

const seqParam = (updateId: number): HipParam => ({ type: ParamType.SEQ, updateId });
const ackParam = (...updateIds: number[]): HipParam => ({ type: ParamType.ACK, updateIds });
const fromTo = (l: Lab, from: string, to?: string): Sent[] => l.sent.filter((s) => s.from === from && (to === undefined || s.to === to));

describe('handleUpdate: what is refused before anything changes', () => {
  it('an UPDATE for a peer we have no association with', () => {
    const l = lab('no-assoc');
    const c = l.net.addNode('c', HostIdentity.generate({ algorithm: 'ecdsa-p256' }));
    l.deliver(c, sealUpdate(l.a, l.hitB, [seqParam(1)]), 'sim:a');
    expect(drops(c)).toEqual([['no-association', undefined]]);
    expect(l.sent).toEqual([]);
  });

  it('an UPDATE of the other HIP version, or to another HIT of ours, or in a state without keys', () => {
    const l = lab('wrong-header');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1)], { version: 1 }), 'sim:a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1)], { receiverHit: idA.hit(2) }), 'sim:a');
    expect(drops(l.b)).toEqual([
      ['wrong-state', undefined],
      ['wrong-receiver-hit', undefined],
    ]);
    expect(l.sent).toEqual([]);
    // The same UPDATE with the right header is answered.
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1)]), 'sim:a');
    expect(fromTo(l, 'b')).toHaveLength(1);
    // A closing association takes no UPDATE.
    const u = sealUpdate(l.a, l.hitB, [seqParam(2)]);
    l.b.engine.close(l.hitA, l.net.now);
    l.net.flush();
    l.b.events.length = 0;
    l.deliver(l.b, u, 'sim:a');
    expect(drops(l.b)).toEqual([['wrong-state', undefined]]);
  });

  it('an UPDATE with neither SEQ nor ACK', () => {
    const l = lab('no-seq-ack');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [{ type: ParamType.ECHO_REQUEST_SIGNED, opaque: new Uint8Array(16) }]), 'sim:a');
    expect(drops(l.b)).toEqual([['missing-parameter', 'UPDATE without SEQ or ACK']]);
    expect(l.sent).toEqual([]);
    // With only SEQ, or only ACK, it is taken.
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1)]), 'sim:a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [ackParam(0)]), 'sim:a');
    expect(drops(l.b)).toHaveLength(1);
  });

  it('an UPDATE with a bad HIP_MAC is refused, and nothing of it is used', () => {
    const l = lab('bad-mac');
    const u = sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.ECHO_REQUEST_SIGNED, opaque: new Uint8Array(16) }]);
    const forged = u.slice();
    // Flip a bit in the echo request: the MAC no longer matches.
    forged[60]! ^= 1;
    l.deliver(l.b, forged, 'sim:a');
    expect(drops(l.b).map((d) => d[0])).toEqual(['bad-mac']);
    expect(l.sent).toEqual([]);
  });

  it('a stale Update ID is dropped unanswered; the last one is answered again from the stored reply, to where it came from', () => {
    const l = lab('stale');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(5)]), 'sim:a');
    const [reply] = fromTo(l, 'b', 'a');
    expect(getParam(reply!.pkt, ParamType.ACK)!.updateIds).toEqual([5]);
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(4)]), 'sim:a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(0x8000_0005)]), 'sim:a');
    expect(drops(l.b)).toEqual([
      ['duplicate', 'stale UPDATE 4'],
      ['duplicate', `stale UPDATE ${0x8000_0005}`],
    ]);
    expect(fromTo(l, 'b')).toHaveLength(1);
    // The same ID again (our answer was lost): the same bytes again, now to the new source.
    const c = l.net.addNode('c', idA);
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(5)]), 'sim:c');
    expect(drops(l.b)[2]).toEqual(['duplicate', 'UPDATE 5 again']);
    const again = fromTo(l, 'b');
    expect(again.map((s) => s.to)).toEqual(['a', 'c']);
    expect(emitted(again[1]!.pkt)).toEqual(emitted(reply!.pkt));
    expect(c.events).toEqual([]);
    // A newer ID is taken.
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(6)]), 'sim:a');
    expect(fromTo(l, 'b')).toHaveLength(3);
  });
});

const emitted = (p: HipPacket): string => JSON.stringify(p.params, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

/** Drop every UPDATE from `who` (after recording it): the test answers in its place. */
function silence(l: Lab, who: string): void {
  const record = l.net.hook!;
  l.net.hook = (t, from, to) => {
    const bytes = record(t, from, to);
    return from.name === who && t.packetType === PacketType.UPDATE ? undefined : bytes;
  };
}

describe('SEQ/ACK matching: only the ACK of our Update ID completes our UPDATE', () => {
  it('an ACK of another ID leaves the announcement outstanding (retransmitted); the right one, among others, completes it', () => {
    const l = lab('ack-match');
    silence(l, 'b');
    l.a.engine.updateLocators([X], l.net.now);
    l.net.flush();
    const seq = getParam(fromTo(l, 'a')[0]!.pkt, ParamType.SEQ)!.updateId;
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(seq + 1)]), 'sim:b');
    l.net.run(l.net.now + 1500);
    expect(fromTo(l, 'a').length).toBeGreaterThan(1);
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(seq + 7, seq)]), 'sim:b');
    const before = fromTo(l, 'a').length;
    l.net.run(l.net.now + 60_000);
    expect(fromTo(l, 'a').length).toBe(before);
    expect(SimNetwork.eventsOf(l.a, 'path')).toEqual([]);
  });

  it('an ACK with nothing outstanding changes nothing', () => {
    const l = lab('ack-none');
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(0)]), 'sim:b');
    expect(drops(l.a)).toEqual([]);
    expect(l.sent).toEqual([]);
  });
});

describe('the echo: a locator becomes the path only when its own nonce comes back', () => {
  function checking(seed: string) {
    const l = lab(seed);
    const a2 = l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.flush();
    const check = fromTo(l, 'b', 'a2')[0]!.pkt;
    return { l, a2, nonce: getParam(check, ParamType.ECHO_REQUEST_SIGNED)!.opaque, seq: getParam(check, ParamType.SEQ)!.updateId };
  }

  it('a wrong nonce moves nothing; the right one moves the peer there', () => {
    const { l, nonce, seq } = checking('echo-wrong');
    const wrong = nonce.slice();
    wrong[0]! ^= 0xff;
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [ackParam(seq), { type: ParamType.ECHO_RESPONSE_SIGNED, opaque: wrong }]), 'sim:a2');
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a');
    expect(SimNetwork.eventsOf(l.b, 'locator')).toEqual([]);
    expect(drops(l.b)).toEqual([]);
    expect(l.b.engine.paths(l.hitA).find((p) => p.key === 'sim:a2')).toMatchObject({ state: 'unverified' });
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.ECHO_RESPONSE_SIGNED, opaque: nonce }]), 'sim:a2');
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a2');
    expect(SimNetwork.eventsOf(l.b, 'locator').map((e) => e.locator.key)).toEqual(['sim:a2']);
  });
});

const espInfo = (oldSpi: number, newSpi: number, keymatIndex = 0): HipParam => ({ type: ParamType.ESP_INFO, reserved: 0, keymatIndex, oldSpi, newSpi });

describe('rekeying: only an ESP_INFO that names the SA in use, with a new non-zero SPI, starts or answers one', () => {
  /** b asks a (forged, a's answers recorded only) for a rekey; returns what a answered. */
  function ask(l: Lab, params: HipParam[], seq = 1): HipPacket {
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(seq), ...params]), 'sim:b');
    const answers = fromTo(l, 'a', 'b');
    return answers[answers.length - 1]!.pkt;
  }
  const spis = (l: Lab) => ({ aPeer: l.a.engine.association(l.hitB)!.sa!.peerSpi });

  it('an ESP_INFO naming another SA, a new SPI 0, or OLD = NEW (a readdress) gets a plain ACK', () => {
    const l = lab('peer-rekey-bad');
    silence(l, 'a');
    const { aPeer } = spis(l);
    for (const [i, info] of [espInfo(aPeer + 1, 0x5000), espInfo(aPeer, 0), espInfo(aPeer, aPeer)].entries()) {
      const answer = ask(l, [info], i + 1);
      expect(getParam(answer, ParamType.ESP_INFO), `case ${i}`).toBeUndefined();
      expect(getParam(answer, ParamType.SEQ), `case ${i}`).toBeUndefined();
      expect(getParam(answer, ParamType.ACK)!.updateIds).toEqual([i + 1]);
    }
    expect(assoc(l.a, l.hitB).update.rekey).toBeUndefined();
  });

  it('a good ESP_INFO is answered with ours: a fresh SPI, the later of the two KEYMAT indexes, SEQ and ACK', () => {
    const l = lab('peer-rekey-index');
    silence(l, 'a');
    const next = assoc(l.a, l.hitB).hipKeys!.keymatNext;
    const later = ask(l, [espInfo(spis(l).aPeer, 0x5000, next + 64)]);
    const info = getParam(later, ParamType.ESP_INFO)!;
    expect(info.keymatIndex).toBe(next + 64);
    expect(info.oldSpi).toBe(l.a.engine.association(l.hitB)!.sa!.localSpi);
    expect(info.newSpi).not.toBe(info.oldSpi);
    expect(getParam(later, ParamType.SEQ)).toBeDefined();
    expect(getParam(later, ParamType.ACK)!.updateIds).toEqual([1]);
    expect(getParam(later, ParamType.DIFFIE_HELLMAN)).toBeUndefined();

    const l2 = lab('peer-rekey-index2');
    silence(l2, 'a');
    const next2 = assoc(l2.a, l2.hitB).hipKeys!.keymatNext;
    const earlier = ask(l2, [espInfo(spis(l2).aPeer, 0x5000, 0)]);
    expect(getParam(earlier, ParamType.ESP_INFO)!.keymatIndex).toBe(next2);
  });

  it('a rekey asked for while our own UPDATE is outstanding gets a plain ACK now and our ESP_INFO in an UPDATE of ours once that one is done', () => {
    const l = lab('peer-rekey-busy', { dhGroups: [7] });
    silence(l, 'a');
    l.a.engine.updateLocators([X], l.net.now);
    l.net.flush();
    const announce = fromTo(l, 'a', 'b')[0]!.pkt;
    const busy = ask(l, [espInfo(spis(l).aPeer, 0x5000)]);
    expect(getParam(busy, ParamType.ESP_INFO)).toBeUndefined();
    expect(getParam(busy, ParamType.SEQ)).toBeUndefined();
    expect(getParam(busy, ParamType.ACK)!.updateIds).toEqual([1]);
    // The answer waits for the announcement's ACK (one UPDATE of ours outstanding at a time).
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [{ type: ParamType.ACK, updateIds: [getParam(announce, ParamType.SEQ)!.updateId] }]), 'sim:b');
    const deferred = fromTo(l, 'a', 'b').at(-1)!.pkt;
    const info = getParam(deferred, ParamType.ESP_INFO)!;
    expect(info.oldSpi).toBe(l.a.engine.association(l.hitB)!.sa!.localSpi);
    expect(info.newSpi).not.toBe(info.oldSpi);
    expect(getParam(deferred, ParamType.SEQ)).toBeDefined();
    expect(getParam(deferred, ParamType.ACK)).toBeUndefined();

    const l2 = lab('peer-rekey-group', { dhGroups: [7] });
    silence(l2, 'a');
    const dh = { type: ParamType.DIFFIE_HELLMAN, values: [{ group: 8, publicValue: new Uint8Array(132).fill(1) }] } as HipParam;
    const refused = ask(l2, [espInfo(spis(l2).aPeer, 0x5000), dh]);
    expect(getParam(refused, ParamType.ESP_INFO)).toBeUndefined();
    expect(assoc(l2.a, l2.hitB).update.rekey).toBeUndefined();
  });

  it('HIPv1: a DH rekey is taken only in a group of dhGroupsV1', () => {
    const rsa = (): HostIdentity => HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    for (const [group, taken] of [
      [7, false],
      [3, true],
    ] as const) {
      const l = lab(`peer-rekey-v1-${group}`, { version: 1 }, { identities: [rsa(), rsa()] });
      silence(l, 'a');
      const key = inside(l.b).ctx.provider.dhGenerate(group);
      const answer = ask(l, [espInfo(spis(l).aPeer, 0x5000), { type: ParamType.DIFFIE_HELLMAN, values: [{ group, publicValue: key.publicValue }] } as HipParam]);
      expect(getParam(answer, ParamType.ACK)!.updateIds, `group ${group}`).toEqual([1]);
      expect(getParam(answer, ParamType.ESP_INFO) !== undefined, `group ${group}`).toBe(taken);
      if (taken) expect(getParam(answer, ParamType.DIFFIE_HELLMAN)!.values[0]!.group).toBe(group);
    }
  });

  it('a DH rekey starts the KEYMAT over at 0 with a new key of the peer group', () => {
    const l = lab('peer-rekey-dh');
    silence(l, 'a');
    // P-256, the group the base exchange used.
    const group = 7;
    const key = inside(l.b).ctx.provider.dhGenerate(group);
    const answer = ask(l, [espInfo(spis(l).aPeer, 0x5000, 40), { type: ParamType.DIFFIE_HELLMAN, values: [{ group, publicValue: key.publicValue }] } as HipParam]);
    expect(getParam(answer, ParamType.ESP_INFO)!.keymatIndex).toBe(0);
    expect(getParam(answer, ParamType.DIFFIE_HELLMAN)!.values[0]!.group).toBe(group);
  });
});

describe('the rekey initiator takes only an answer that names the SA in use', () => {
  /** a starts a rekey (b silenced); returns a's UPDATE and the SPIs in use. */
  function started(seed: string, dh = false) {
    const l = lab(seed);
    silence(l, 'b');
    expect(l.a.engine.rekey(l.hitB, l.net.now, { dh })).toBe(true);
    l.net.flush();
    const mine = fromTo(l, 'a', 'b')[0]!.pkt;
    const sa = l.b.engine.association(l.hitA)!.sa!;
    return { l, mine, seq: getParam(mine, ParamType.SEQ)!.updateId, bLocal: sa.localSpi, bPeer: sa.peerSpi };
  }

  it('an answer whose ESP_INFO names another SA, or a new SPI 0, or OLD = NEW, completes nothing; the right one does', () => {
    const { l, seq, bLocal } = started('note-bad');
    const bad = [espInfo(bLocal + 1, 0x6000), espInfo(bLocal, 0), espInfo(bLocal, bLocal)];
    for (const [i, info] of bad.entries()) l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(i + 1), ackParam(seq), info]), 'sim:b');
    expect(SimNetwork.eventsOf(l.a, 'rekey-inbound')).toEqual([]);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toEqual([]);
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(9), espInfo(bLocal, 0x6000)]), 'sim:b');
    const [done] = SimNetwork.eventsOf(l.a, 'rekeyed');
    expect(done!.sa.peerSpi).toBe(0x6000);
  });

  it('the first good answer wins: a second ESP_INFO does not change the new SA', () => {
    const { l, seq, bLocal } = started('note-twice');
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), espInfo(bLocal, 0x6000)]), 'sim:b');
    const [inbound] = SimNetwork.eventsOf(l.a, 'rekey-inbound');
    expect(inbound!.sa.peerSpi).toBe(0x6000);
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(2), ackParam(seq), espInfo(bLocal, 0x7000)]), 'sim:b');
    expect(SimNetwork.eventsOf(l.a, 'rekey-inbound')).toHaveLength(1);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')[0]!.sa.peerSpi).toBe(0x6000);
  });

  it('a DH rekey waits for the peer DH value; a value that does not work ends the rekey with bad-dh and frees it for a new one', () => {
    const { l, seq, bLocal } = started('note-bad-dh', true);
    const localBefore = l.a.engine.association(l.hitB)!.sa!.localSpi;
    // ESP_INFO without DIFFIE_HELLMAN: nothing to derive yet.
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), ackParam(seq), espInfo(bLocal, 0x6000)]), 'sim:b');
    expect(SimNetwork.eventsOf(l.a, 'rekey-inbound')).toEqual([]);
    expect(assoc(l.a, l.hitB).update.rekey).toBeDefined();
    // Now a public value that is not a point of the curve.
    const { l: l2, seq: seq2, bLocal: bLocal2 } = started('note-bad-dh2', true);
    const notAPoint = { type: ParamType.DIFFIE_HELLMAN, values: [{ group: 7, publicValue: new Uint8Array(64).fill(7) }] } as HipParam;
    l2.deliver(l2.a, sealUpdate(l2.b, l2.hitA, [seqParam(1), ackParam(seq2), espInfo(bLocal2, 0x6000), notAPoint]), 'sim:b');
    expect(drops(l2.a).map((d) => d[0])).toEqual(['bad-dh']);
    expect(SimNetwork.eventsOf(l2.a, 'rekey-inbound')).toEqual([]);
    expect(assoc(l2.a, l2.hitB).update.rekey).toBeUndefined();
    expect(l2.a.engine.rekey(l2.hitB, l2.net.now)).toBe(true);
    expect(l.a.engine.association(l.hitB)!.sa!.localSpi).toBe(localBefore);
  });
});

describe('retransmission and giving up', () => {
  const gaps = (xs: Sent[]): number[] => xs.slice(1).map((s, i) => s.at - xs[i]!.at);

  it('a check is retransmitted on the backoff schedule, then abandoned; work queued behind it goes out then', () => {
    const l = lab('check-schedule');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    // A rekey asked for meanwhile waits: a check is not cancelled for it.
    expect(l.b.engine.rekey(l.hitA, l.net.now)).toBe(true);
    l.net.run(l.net.now + 200_000);
    const checks = fromTo(l, 'b', 'a2');
    expect(gaps(checks)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(l.b.engine.paths(l.hitA).find((p) => p.key === 'sim:a2')).toMatchObject({ state: 'deprecated', checking: false });
    const rekey = fromTo(l, 'b', 'a').filter((s) => getParam(s.pkt, ParamType.ESP_INFO));
    expect(rekey[0]!.at).toBe(checks[checks.length - 1]!.at + 16000);
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a');
  });

  it('updateRetries bounds every UPDATE; a loss probe or a registration at most LOSS_PROBE_RETRIES', () => {
    const l = lab('check-retries', { retransmit: { updateRetries: 2 } });
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.run(l.net.now + 200_000);
    expect(fromTo(l, 'b', 'a2')).toHaveLength(3);
  });

  it('an unanswered announcement, probe or rekey reports the path dead, saying which; a rekey can be asked for again', () => {
    for (const kind of ['announce', 'probe', 'rekey'] as const) {
      const l = lab(`dead-${kind}`, kind === 'probe' ? { livenessMs: 30_000 } : {});
      silence(l, 'b');
      if (kind === 'announce') l.a.engine.updateLocators([X], l.net.now);
      if (kind === 'rekey') l.a.engine.rekey(l.hitB, l.net.now);
      l.net.run(l.net.now + (kind === 'probe' ? 100_000 : 70_000));
      const dead = SimNetwork.eventsOf(l.a, 'path');
      expect(dead.map((e) => [e.state, e.detail]), kind).toEqual([['dead', `${kind} UPDATE not acknowledged`]]);
      expect(dead[0]!.locator.key).toBe('sim:b');
      if (kind === 'rekey') {
        expect(assoc(l.a, l.hitB).update.rekey).toBeUndefined();
        expect(l.a.engine.rekey(l.hitB, l.net.now)).toBe(true);
      }
    }
  });
});

describe('what our UPDATEs carry', () => {
  it('an announcement: ESP_INFO with OLD = NEW = our SPI at the next KEYMAT index, and a LOCATOR_SET of SPI + address, the first preferred', () => {
    const l = lab('announce-shape');
    l.a.engine.updateLocators([X, Y], l.net.now);
    l.net.flush();
    const p = fromTo(l, 'a')[0]!.pkt;
    const sa = l.a.engine.association(l.hitB)!.sa!;
    expect(getParam(p, ParamType.ESP_INFO)).toMatchObject({ oldSpi: sa.localSpi, newSpi: sa.localSpi, keymatIndex: assoc(l.a, l.hitB).hipKeys!.keymatNext });
    const set = getParam(p, ParamType.LOCATOR_SET)!.locators;
    expect(set.map((x) => [x.trafficType, x.locatorType, x.preferred, x.lifetime])).toEqual([
      [LocatorTrafficType.BOTH, LocatorType.ESP_SPI_ADDRESS, true, 3600],
      [LocatorTrafficType.BOTH, LocatorType.ESP_SPI_ADDRESS, false, 3600],
    ]);
    expect(set.map((x) => decodeLocatorValue(x))).toEqual([
      { locatorType: LocatorType.ESP_SPI_ADDRESS, spi: sa.localSpi, address: X },
      { locatorType: LocatorType.ESP_SPI_ADDRESS, spi: sa.localSpi, address: Y },
    ]);
  });

  it('transport candidates: UDP, server-reflexive, in falling priority by order, each with its port', () => {
    const l = lab('candidates-shape');
    announceCandidates(inside(l.a).ctx, assoc(l.a, l.hitB), [{ address: X, port: 4000 }, { address: Y, port: 5000 }], l.net.now);
    l.net.flush();
    const set = getParam(fromTo(l, 'a')[0]!.pkt, ParamType.LOCATOR_SET)!.locators;
    const spi = l.a.engine.association(l.hitB)!.sa!.localSpi;
    expect(set.map((x) => x.preferred)).toEqual([true, false]);
    expect(set.map((x) => decodeLocatorValue(x))).toEqual([
      { locatorType: LocatorType.TRANSPORT, port: 4000, protocol: 17, kind: 1, priority: 0x7fff_ffff, spi, address: X },
      { locatorType: LocatorType.TRANSPORT, port: 5000, protocol: 17, kind: 1, priority: 0x7fff_fffe, spi, address: Y },
    ]);
  });

  it('Update IDs wrap from 2^32 - 1 to 0, and the peer takes the wrapped one as new', () => {
    const l = lab('seq-wrap');
    assoc(l.a, l.hitB).update.nextSeq = 0xffff_ffff;
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.run(l.net.now + 10_000);
    l.a.engine.updateLocators([X], l.net.now);
    l.net.run(l.net.now + 10_000);
    const seqs = fromTo(l, 'a').map((s) => getParam(s.pkt, ParamType.SEQ)?.updateId).filter((x) => x !== undefined);
    expect(seqs).toEqual([0xffff_ffff, 0]);
    // Both acknowledged: nothing retransmitted, nothing reported dead.
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toHaveLength(1);
    expect(SimNetwork.eventsOf(l.a, 'path')).toEqual([]);
  });

  it('a loss probe asks for an echo (the shape hipd answers), 16 bytes in HIPv2', () => {
    const l = lab('loss-shape', { peerLossMs: 5000 });
    silence(l, 'b');
    for (let t = 0; t < 10; t++) {
      l.a.engine.sent(l.hitB, l.net.now);
      l.net.run(l.net.now + 1000);
      l.net.now += 1000;
    }
    const [probe] = fromTo(l, 'a');
    expect(getParam(probe!.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque).toHaveLength(16);
    expect(getParam(probe!.pkt, ParamType.SEQ)).toBeDefined();
  });

  it('a loss probe is retransmitted at most min(LOSS_PROBE_RETRIES, updateRetries) times', () => {
    for (const [updateRetries, sends] of [
      [5, 4],
      [1, 2],
    ] as const) {
      const l = lab(`loss-bound-${updateRetries}`, { peerLossMs: 5000, retransmit: { updateRetries } });
      silence(l, 'b');
      for (let t = 0; t < 60; t++) {
        if (!l.a.engine.association(l.hitB)) break;
        l.a.engine.sent(l.hitB, l.net.now);
        const next = l.net.now + 1000;
        l.net.run(next);
        l.net.now = next;
      }
      expect(fromTo(l, 'a'), `updateRetries ${updateRetries}`).toHaveLength(sends);
      expect(SimNetwork.eventsOf(l.a, 'peer-lost')).toHaveLength(1);
    }
  });
});

describe('rekey KEYMAT positions', () => {
  it('the initiator uses the later of its index and the answer index', () => {
    for (const higher of [false, true]) {
      const l = lab(`rekey-index-${higher}`);
      silence(l, 'b');
      l.a.engine.rekey(l.hitB, l.net.now);
      l.net.flush();
      const mine = getParam(fromTo(l, 'a')[0]!.pkt, ParamType.ESP_INFO)!;
      const theirs = higher ? mine.keymatIndex + 96 : 0;
      const bLocal = l.b.engine.association(l.hitA)!.sa!.localSpi;
      const seq = getParam(fromTo(l, 'a')[0]!.pkt, ParamType.SEQ)!.updateId;
      l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), ackParam(seq), espInfo(bLocal, 0x6000, theirs)]), 'sim:b');
      expect(SimNetwork.eventsOf(l.a, 'rekeyed')[0]!.sa.keymatIndex, `higher ${higher}`).toBe(Math.max(mine.keymatIndex, theirs));
    }
  });

  it('after a DH rekey, the next rekey draws from the new KEYMAT, never from the old one', () => {
    const l = lab('rekey-rebased');
    const old = assoc(l.a, l.hitB).hipKeys!;
    l.a.engine.rekey(l.hitB, l.net.now, { dh: true });
    l.net.run(l.net.now + 10_000);
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.run(l.net.now + 10_000);
    const [, second] = SimNetwork.eventsOf(l.a, 'rekeyed');
    expect(second).toBeDefined();
    const fromOld = old.espKeysAt(second!.sa.keymatIndex);
    expect(bytesEqual(second!.sa.outbound.enc, fromOld.outbound.enc)).toBe(false);
    // Both ends agree on it all the same.
    const [, theirs] = SimNetwork.eventsOf(l.b, 'rekeyed');
    expect(bytesEqual(second!.sa.outbound.enc, theirs!.sa.inbound.enc)).toBe(true);
  });
});

describe('a LOCATOR_SET from an address we do not use: the answer is the check', () => {
  const locatorSet = (n: number): HipParam => ({ type: ParamType.LOCATOR_SET, locators: [espAddress(n)] });
  const echoTo = (l: Lab, to: string): Sent[] => fromTo(l, 'b', to).filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED));

  it('from the current address it is no move: a plain ACK', () => {
    const l = lab('set-current');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), locatorSet(1)]), 'sim:a');
    const [reply] = fromTo(l, 'b');
    expect(getParam(reply!.pkt, ParamType.ECHO_REQUEST_SIGNED)).toBeUndefined();
    expect(getParam(reply!.pkt, ParamType.SEQ)).toBeUndefined();
    expect(getParam(reply!.pkt, ParamType.ACK)!.updateIds).toEqual([1]);
  });

  it('from a new address: one UPDATE that acknowledges, asks for the echo and, for a readdress, carries our ESP_INFO; a repeat gets the same bytes', () => {
    const l = lab('set-moved');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    const sa = l.b.engine.association(l.hitA)!.sa!;
    const u = sealUpdate(l.a, l.hitB, [seqParam(1), locatorSet(1), espInfo(sa.peerSpi, sa.peerSpi)]);
    l.deliver(l.b, u, 'sim:a2');
    const [check] = fromTo(l, 'b');
    expect(check!.to).toBe('a2');
    expect(getParam(check!.pkt, ParamType.ACK)!.updateIds).toEqual([1]);
    expect(getParam(check!.pkt, ParamType.SEQ)).toBeDefined();
    expect(getParam(check!.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque).toHaveLength(16);
    expect(getParam(check!.pkt, ParamType.ESP_INFO)).toMatchObject({ oldSpi: sa.localSpi, newSpi: sa.localSpi });
    expect(l.b.engine.paths(l.hitA).find((p) => p.key === 'sim:a2')).toMatchObject({ state: 'unverified', announced: true, checking: true });
    l.deliver(l.b, u, 'sim:a2');
    const again = fromTo(l, 'b');
    expect(again).toHaveLength(2);
    expect(emitted(again[1]!.pkt)).toEqual(emitted(check!.pkt));
    // A LOCATOR_SET without ESP_INFO (RFC 9028 style) gets a check without it.
    const l2 = lab('set-moved-plain');
    l2.net.addNode('a2', idA);
    l2.deliver(l2.b, sealUpdate(l2.a, l2.hitB, [seqParam(1), locatorSet(1)]), 'sim:a2');
    const [plain] = fromTo(l2, 'b');
    expect(getParam(plain!.pkt, ParamType.ECHO_REQUEST_SIGNED)).toBeDefined();
    expect(getParam(plain!.pkt, ParamType.ESP_INFO)).toBeUndefined();
  });

  it('a second set from the address being checked starts no second check', () => {
    const l = lab('set-twice');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), locatorSet(1)]), 'sim:a2');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(2), locatorSet(1)]), 'sim:a2');
    expect(echoTo(l, 'a2')).toHaveLength(1);
    const [, ack] = fromTo(l, 'b', 'a2');
    expect(getParam(ack!.pkt, ParamType.ACK)!.updateIds).toEqual([2]);
    expect(getParam(ack!.pkt, ParamType.SEQ)).toBeUndefined();
  });

  it('our announcement in flight gives way to the check (and is sent again after it); our rekey does not', () => {
    const l = lab('set-preempt');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.updateLocators([X], l.net.now);
    l.net.flush();
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), locatorSet(1)]), 'sim:a2');
    expect(echoTo(l, 'a2')).toHaveLength(1);
    l.net.run(l.net.now + 200_000);
    const announces = fromTo(l, 'b', 'a').filter((s) => getParam(s.pkt, ParamType.LOCATOR_SET));
    // Once before the check, then again (with its retransmissions) after the check gave up.
    expect(announces.length).toBeGreaterThan(2);
    expect(announces[1]!.at).toBeGreaterThan(echoTo(l, 'a2').at(-1)!.at);

    const r = lab('set-rekey');
    r.net.addNode('a2', idA);
    silence(r, 'a');
    r.b.engine.rekey(r.hitA, r.net.now);
    r.net.flush();
    r.deliver(r.b, sealUpdate(r.a, r.hitB, [seqParam(1), locatorSet(1)]), 'sim:a2');
    // The rekey stays outstanding: the answer is a plain ACK, the check waits its turn.
    const [ack] = fromTo(r, 'b', 'a2');
    expect(getParam(ack!.pkt, ParamType.ECHO_REQUEST_SIGNED)).toBeUndefined();
    expect(getParam(ack!.pkt, ParamType.ACK)!.updateIds).toEqual([1]);
    r.net.run(r.net.now + 200_000);
    expect(echoTo(r, 'a2').length).toBeGreaterThan(0);
  });

  it('a check in flight gives way to a newer move, and is run again afterwards', () => {
    const l = lab('set-recheck');
    l.net.addNode('a2', idA);
    l.net.addNode('a3', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.flush();
    expect(echoTo(l, 'a2')).toHaveLength(1);
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), locatorSet(1)]), 'sim:a3');
    expect(echoTo(l, 'a3')).toHaveLength(1);
    expect(l.b.engine.paths(l.hitA).find((p) => p.key === 'sim:a2')).toMatchObject({ checking: false });
    l.net.run(l.net.now + 200_000);
    const a2 = echoTo(l, 'a2');
    expect(a2.length).toBeGreaterThan(1);
    expect(a2[1]!.at).toBeGreaterThan(echoTo(l, 'a3').at(-1)!.at);
  });

  it('an authentic UPDATE without a set from a new address (a rebound peer) is answered there and starts a check of it', () => {
    const l = lab('seq-rebound');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1)]), 'sim:a2');
    const sent = fromTo(l, 'b', 'a2');
    expect(sent).toHaveLength(2);
    expect(getParam(sent[0]!.pkt, ParamType.ACK)!.updateIds).toEqual([1]);
    expect(getParam(sent[1]!.pkt, ParamType.ECHO_REQUEST_SIGNED)).toBeDefined();
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a');
  });
});

describe('R2-SENT: an UPDATE from the peer proves it has the keys', () => {
  it('moves the responder to ESTABLISHED and starts its idle timer', () => {
    const net = new SimNetwork('r2-update');
    const a = net.addNode('a', idA, { idleTimeoutMs: 0 });
    const b = net.addNode('b', idB, { idleTimeoutMs: 30_000 });
    const hitA = a.engine.localHit(2);
    const hitB = b.engine.localHit(2);
    a.engine.connect(hitB, [b.locator], net.now);
    net.run(net.now + 10_000);
    expect(b.engine.association(hitA)?.state).toBe('R2-SENT');
    const t0 = net.now;
    a.engine.rekey(hitB, net.now);
    net.run(net.now + 100);
    expect(b.engine.association(hitA)?.state).toBe('ESTABLISHED');
    net.run(t0 + 40_000);
    const closed = SimNetwork.eventsOf(b, 'closed');
    expect(closed.map((e) => e.by)).toEqual(['idle']);
  });
});

describe('a check acknowledged without its echo stays open', () => {
  it('starts no second check of that address, and the echo arriving later still moves the peer', () => {
    const l = lab('ack-no-echo');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.flush();
    const check = fromTo(l, 'b', 'a2')[0]!.pkt;
    const nonce = getParam(check, ParamType.ECHO_REQUEST_SIGNED)!.opaque;
    // The peer acknowledges the check but leaves the echo out.
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [ackParam(getParam(check, ParamType.SEQ)!.updateId)]), 'sim:a2');
    expect(l.b.engine.paths(l.hitA).find((p) => p.key === 'sim:a2')).toMatchObject({ checking: true });
    // More ESP from there, and a set from there: still that one check.
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.LOCATOR_SET, locators: [espAddress(1)] }]), 'sim:a2');
    l.net.run(l.net.now + 200_000);
    expect(fromTo(l, 'b', 'a2').filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED))).toHaveLength(1);
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(2), { type: ParamType.ECHO_RESPONSE_SIGNED, opaque: nonce }]), 'sim:a2');
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a2');
  });
});

describe('cancelled work is sent again, never lost', () => {
  const regRequests = (l: Lab): number[] =>
    fromTo(l, 'a', 'b')
      .map((s) => getParam(s.pkt, ParamType.REG_REQUEST))
      .filter((r) => r !== undefined)
      .map((r) => r.lifetime);
  const checksFromA = (l: Lab, to: string): Sent[] => fromTo(l, 'a', to).filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED));

  it('a registration UPDATE cut short by a check goes out again afterwards; a newer request replaces it', () => {
    const l = lab('cancel-register');
    l.net.addNode('b2', idB);
    silence(l, 'b');
    expect(l.a.engine.register(l.hitB, { types: [1], lifetimeS: 0 }, l.net.now)).toBe(true);
    l.net.flush();
    l.a.engine.received(l.hitB, { key: 'sim:b2' }, 100, l.net.now);
    l.net.flush();
    expect(checksFromA(l, 'b2')).toHaveLength(1);
    l.net.run(l.net.now + 60_000);
    const [first, ...again] = regRequests(l);
    expect(first).toBe(0);
    expect(again.length).toBeGreaterThan(0);
    expect(again.every((x) => x === 0)).toBe(true);

    const n = lab('cancel-register-newer');
    n.net.addNode('b2', idB);
    silence(n, 'b');
    n.a.engine.register(n.hitB, { types: [1], lifetimeS: 0 }, n.net.now);
    n.net.flush();
    // A newer request waits behind the one in flight; the check then cancels the old one.
    n.a.engine.register(n.hitB, { types: [1], lifetimeS: 3600 }, n.net.now);
    n.a.engine.received(n.hitB, { key: 'sim:b2' }, 100, n.net.now);
    n.net.run(n.net.now + 60_000);
    const sent = regRequests(n);
    expect(sent[0]).toBe(0);
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.slice(1).every((x) => x !== 0)).toBe(true);
  });

  it('an unacknowledged registration UPDATE is tried 1 + LOSS_PROBE_RETRIES times and reported as an error', () => {
    const l = lab('register-unanswered');
    silence(l, 'b');
    l.a.engine.register(l.hitB, { types: [1], lifetimeS: 600 }, l.net.now);
    l.net.run(l.net.now + 120_000);
    expect(regRequests(l)).toHaveLength(4);
    expect(SimNetwork.eventsOf(l.a, 'registration').map((e) => e.error)).toEqual(['registration UPDATE not acknowledged']);
  });

  it('transport candidates cut short by a check are announced again with their ports', () => {
    const l = lab('cancel-candidates');
    l.net.addNode('b2', idB);
    silence(l, 'b');
    announceCandidates(inside(l.a).ctx, assoc(l.a, l.hitB), [{ address: X, port: 4000 }], l.net.now);
    l.net.flush();
    l.a.engine.received(l.hitB, { key: 'sim:b2' }, 100, l.net.now);
    l.net.run(l.net.now + 60_000);
    const sets = fromTo(l, 'a', 'b').filter((s) => getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(sets.length).toBeGreaterThan(1);
    for (const s of sets) expect(decodeLocatorValue(getParam(s.pkt, ParamType.LOCATOR_SET)!.locators[0]!)).toMatchObject({ locatorType: LocatorType.TRANSPORT, port: 4000 });
  });

  it('an announcement in flight gives way to a check at once, and is sent again after the check', () => {
    const l = lab('cancel-announce');
    l.net.addNode('b2', idB);
    silence(l, 'b');
    l.a.engine.updateLocators([X], l.net.now);
    l.net.flush();
    l.a.engine.received(l.hitB, { key: 'sim:b2' }, 100, l.net.now);
    l.net.flush();
    // The check went out now, not after the announcement's retransmissions.
    expect(checksFromA(l, 'b2')).toHaveLength(1);
    l.net.run(l.net.now + 200_000);
    const sets = fromTo(l, 'a', 'b').filter((s) => getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(sets.length).toBeGreaterThan(1);
    expect(sets[1]!.at).toBeGreaterThan(checksFromA(l, 'b2').at(-1)!.at);
  });

  it('a rekey in flight does not give way: the check waits', () => {
    const l = lab('rekey-no-preempt');
    l.net.addNode('b2', idB);
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.flush();
    l.a.engine.received(l.hitB, { key: 'sim:b2' }, 100, l.net.now);
    l.net.flush();
    expect(checksFromA(l, 'b2')).toEqual([]);
    l.net.run(l.net.now + 200_000);
    expect(checksFromA(l, 'b2').length).toBeGreaterThan(0);
  });
});

describe('the entry points refuse what they cannot do', () => {
  it('probePath does nothing while an UPDATE of ours is outstanding or queued', () => {
    const l = lab('probe-guard');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.flush();
    const ctx = inside(l.a).ctx;
    const a = assoc(l.a, l.hitB);
    probePath(ctx, a, l.net.now);
    expect(a.update.wants).toEqual([]);
    l.a.engine.updateLocators([X], l.net.now);
    const queued = [...a.update.wants];
    probePath(ctx, a, l.net.now, 'loss');
    expect(a.update.wants).toEqual(queued);
  });

  it('requestRegistration is refused before the base exchange ends', () => {
    const net = new SimNetwork('register-early');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    a.engine.connect(b.engine.localHit(2), [b.locator], net.now);
    const early = assoc(a, b.engine.localHit(2));
    expect(requestRegistration(inside(a).ctx, early, { type: ParamType.REG_REQUEST, lifetime: 0, regTypes: [1] } as HipParam, net.now)).toBe(false);
    expect(early.update.wants).toEqual([]);
  });
});

describe('a DH rekey starts the new KEYMAT at 0 whatever index the answer names', () => {
  it('an answer with DIFFIE_HELLMAN and KEYMAT index 40: the new SA is drawn at 0', () => {
    const l = lab('dh-answer-index');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now, { dh: true });
    l.net.flush();
    const mine = fromTo(l, 'a')[0]!.pkt;
    const bLocal = l.b.engine.association(l.hitA)!.sa!.localSpi;
    const key = inside(l.b).ctx.provider.dhGenerate(7);
    const dh = { type: ParamType.DIFFIE_HELLMAN, values: [{ group: 7, publicValue: key.publicValue }] } as HipParam;
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), ackParam(getParam(mine, ParamType.SEQ)!.updateId), espInfo(bLocal, 0x6000, 40), dh]), 'sim:b');
    const [inbound] = SimNetwork.eventsOf(l.a, 'rekey-inbound');
    expect(inbound!.sa.keymatIndex).toBe(0);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')[0]!.sa.keymatIndex).toBe(0);
  });
});

describe('only the UPDATE that acknowledges our REG_REQUEST carries its answer', () => {
  it('an announcement acknowledged while a registration waits behind it reports nothing about the registration', () => {
    const l = lab('register-behind');
    l.a.engine.updateLocators([X], l.net.now);
    expect(l.a.engine.register(l.hitB, { types: [1], lifetimeS: 600 }, l.net.now)).toBe(true);
    l.net.run(l.net.now + 10_000);
    // b is no registrar: one answer, after the REG_REQUEST went out, and not before.
    const outcomes = SimNetwork.eventsOf(l.a, 'registration');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.failed.map((f) => f.type)).toEqual([1]);
    expect(fromTo(l, 'a').filter((s) => getParam(s.pkt, ParamType.REG_REQUEST))).toHaveLength(1);
  });
});

describe('the order of queued checks', () => {
  const echoes = (l: Lab, who = 'b'): Sent[] => fromTo(l, who).filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED));

  it('a preempting check goes first even when it was already queued behind other checks', () => {
    const l = lab('preempt-queued');
    for (const n of ['a2', 'a3']) l.net.addNode(n, idA);
    silence(l, 'a');
    l.b.engine.updateLocators([X], l.net.now);
    l.net.flush();
    // Checks that do not preempt (as the relay's hole punching asks for them) queue behind the
    // announcement in flight.
    const ctx = inside(l.b).ctx;
    const a = assoc(l.b, l.hitA);
    checkLocator(ctx, a, { key: 'sim:a2' }, false, l.net.now, false);
    checkLocator(ctx, a, { key: 'sim:a3' }, false, l.net.now, false);
    l.net.flush();
    expect(echoes(l)).toEqual([]);
    // ESP from a2: its check preempts the announcement and goes out first, before a3's.
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.flush();
    expect(echoes(l).map((s) => s.to)).toEqual(['a2']);
  });

  it('a queued check of a locator that became the path meanwhile is skipped', () => {
    const l = lab('verify-activated');
    l.net.addNode('a2', idA);
    l.net.addNode('a3', idA);
    silence(l, 'a');
    // ESP from a2, then from a3: a2 is checked, a3 waits.
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.b.engine.received(l.hitA, { key: 'sim:a3' }, 100, l.net.now);
    l.net.flush();
    expect(echoes(l).map((s) => s.to)).toEqual(['a2']);
    // The peer announces a move to a3: the answer is the check of a3 (a2's is cancelled).
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.LOCATOR_SET, locators: [espAddress(3)] }]), 'sim:a3');
    const check = echoes(l).at(-1)!;
    expect(check.to).toBe('a3');
    // The echo returns: a3 is the path, and the check still queued for it is not sent.
    const nonce = getParam(check.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque;
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [ackParam(getParam(check.pkt, ParamType.SEQ)!.updateId), { type: ParamType.ECHO_RESPONSE_SIGNED, opaque: nonce }]), 'sim:a3');
    expect(l.b.engine.association(l.hitA)!.locator.key).toBe('sim:a3');
    expect(echoes(l).map((s) => s.to)).toEqual(['a2', 'a3', 'a2']);
  });

  it('checkLocator of the current locator does nothing, not even cancel our announcement in flight', () => {
    const l = lab('check-current');
    silence(l, 'b');
    l.a.engine.updateLocators([X], l.net.now);
    l.net.flush();
    const a = assoc(l.a, l.hitB);
    const seq = a.update.out!.seq;
    checkLocator(inside(l.a).ctx, a, a.locator, false, l.net.now);
    l.net.flush();
    expect(a.update.out).toMatchObject({ purpose: 'announce', seq });
    expect(a.update.wants).toEqual([]);
    expect(fromTo(l, 'a')).toHaveLength(1);
  });
});

describe('rekeys never draw the same keys twice', () => {
  const keyBytes = (sa: { outbound: { enc: Uint8Array; auth: Uint8Array }; inbound: { enc: Uint8Array; auth: Uint8Array } }): number =>
    sa.outbound.enc.length + sa.outbound.auth.length + sa.inbound.enc.length + sa.inbound.auth.length;

  it('the next rekey starts in KEYMAT where the keys of the previous one end (encryption and integrity keys)', () => {
    // Suite 8 (AES-128-CBC with HMAC-SHA-256) has integrity keys; AES-GCM has none.
    for (const espSuites of [[8], [13]]) {
      const l = lab(`keymat-next-${espSuites[0]}`, { espSuites });
      l.a.engine.rekey(l.hitB, l.net.now);
      l.net.run(l.net.now + 10_000);
      l.a.engine.rekey(l.hitB, l.net.now);
      l.net.run(l.net.now + 10_000);
      const [first, second] = SimNetwork.eventsOf(l.a, 'rekeyed');
      expect(first!.sa.outbound.auth.length > 0, `suite ${espSuites[0]}`).toBe(espSuites[0] === 8);
      expect(second!.sa.keymatIndex, `suite ${espSuites[0]}`).toBe(first!.sa.keymatIndex + keyBytes(first!.sa));
      expect(bytesEqual(second!.sa.outbound.enc, first!.sa.outbound.enc)).toBe(false);
    }
  });

  it('two DH rekeys in a row: the second draws from its own new secret, not the first one (both start at index 0)', () => {
    const l = lab('dh-twice');
    for (let i = 0; i < 2; i++) {
      expect(l.a.engine.rekey(l.hitB, l.net.now, { dh: true })).toBe(true);
      l.net.run(l.net.now + 10_000);
    }
    const [first, second] = SimNetwork.eventsOf(l.a, 'rekeyed');
    expect([first!.sa.keymatIndex, second!.sa.keymatIndex]).toEqual([0, 0]);
    // (The default suite is AES-GCM: its keys are all in `enc`.)
    expect(bytesEqual(second!.sa.outbound.enc, first!.sa.outbound.enc)).toBe(false);
    expect(bytesEqual(second!.sa.inbound.enc, first!.sa.inbound.enc)).toBe(false);
    const [, theirs] = SimNetwork.eventsOf(l.b, 'rekeyed');
    expect(bytesEqual(second!.sa.outbound.enc, theirs!.sa.inbound.enc)).toBe(true);
  });
});

describe('the SPI table stays bounded: every SPI a rekey gives up is free again', () => {
  /** The SPIs the engine has handed out and not yet released. */
  const liveSpis = (n: SimNode): { has(spi: number): boolean; size: number } => (n.engine as unknown as { spis: { has(spi: number): boolean; size: number } }).spis;

  it('a finished rekey frees the SPI it replaced', () => {
    const l = lab('spi-rekeyed');
    const before = l.a.engine.association(l.hitB)!.sa!.localSpi;
    expect(liveSpis(l.a).size).toBe(1);
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.run(l.net.now + 10_000);
    const after = l.a.engine.association(l.hitB)!.sa!.localSpi;
    expect(after).not.toBe(before);
    expect(liveSpis(l.a).has(before)).toBe(false);
    expect(liveSpis(l.a).has(after)).toBe(true);
    expect(liveSpis(l.a).size).toBe(1);
    // The same on the answering end.
    expect(liveSpis(l.b).size).toBe(1);
  });

  it('a rekey nobody acknowledges frees the SPI it proposed', () => {
    const l = lab('spi-unanswered');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.flush();
    expect(liveSpis(l.a).size).toBe(2);
    l.net.run(l.net.now + 70_000);
    expect(SimNetwork.eventsOf(l.a, 'path').map((e) => e.detail)).toEqual(['rekey UPDATE not acknowledged']);
    expect(liveSpis(l.a).size).toBe(1);
    expect(liveSpis(l.a).has(l.a.engine.association(l.hitB)!.sa!.localSpi)).toBe(true);
  });

  it('a DH rekey ended by a DH value that does not work frees the SPI it proposed', () => {
    const l = lab('spi-bad-dh');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now, { dh: true });
    l.net.flush();
    const mine = fromTo(l, 'a')[0]!.pkt;
    expect(liveSpis(l.a).size).toBe(2);
    const bLocal = l.b.engine.association(l.hitA)!.sa!.localSpi;
    const notAPoint = { type: ParamType.DIFFIE_HELLMAN, values: [{ group: 7, publicValue: new Uint8Array(64).fill(7) }] } as HipParam;
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), ackParam(getParam(mine, ParamType.SEQ)!.updateId), espInfo(bLocal, 0x6000), notAPoint]), 'sim:b');
    expect(drops(l.a).map((d) => d[0])).toEqual(['bad-dh']);
    expect(liveSpis(l.a).size).toBe(1);
  });
});

describe('NAT keepalives count our UPDATEs as traffic', () => {
  it('no keepalive NOTIFY while our UPDATEs keep the path busy; one keepaliveMs after the last', () => {
    const l = lab('keepalive-update', { keepaliveMs: 15_000 });
    const notifies = (): number[] => l.net.log.filter((x) => x.from === 'a' && x.packetType === PacketType.NOTIFY).map((x) => x.at);
    const start = l.net.now;
    // An UPDATE of ours every 10 s (the peer answers each): the path is never idle for 15 s.
    for (let i = 1; i <= 4; i++) {
      l.net.run(start + i * 10_000);
      l.net.now = start + i * 10_000;
      l.a.engine.updateLocators([i % 2 ? X : Y], l.net.now);
      l.net.flush();
    }
    const last = fromTo(l, 'a').at(-1)!.at;
    l.net.run(last + 14_000);
    expect(notifies()).toEqual([]);
    l.net.run(last + 16_000);
    expect(notifies()).toEqual([last + 15_000]);
  });
});
