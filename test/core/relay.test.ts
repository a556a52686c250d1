/**
 * The HIP relay (RFC 5770 §4.12 / RFC 9028) in the in-memory network: a responder registered for
 * RELAY_UDP_HIP and RELAY_UDP_ESP is reached by an initiator that knows only the server; every
 * control packet goes through the server (RELAY_FROM + RELAY_HMAC towards the client, RELAY_TO +
 * RELAY_HMAC from it), and ESP is relayed by (source, SPI) within the client's byte budget,
 * only for a registered client: never an open relay.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { EngineOptions } from '../../src/core/config.js';
import type { PeerLocator } from '../../src/core/events.js';
import type { LocatorCodec } from '../../src/core/registration.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { formatHit } from '../../src/crypto/hit.js';
import { getParam, mapIpv4, PacketType, ParamType, parsePacket, RegType, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idS = HostIdentity.generate();
const idR = HostIdentity.generate();
const idI = HostIdentity.generate();
const idX = HostIdentity.generate();

const ADDRESSES: Record<string, number[]> = { s: [192, 0, 2, 1], r: [192, 0, 2, 2], i: [192, 0, 2, 3], x: [192, 0, 2, 4] };
const PORTS: Record<string, number> = { s: 10500, r: 40001, i: 40002, x: 40003 };

function codec(net: SimNetwork): LocatorCodec<PeerLocator> {
  return {
    addressOf(l) {
      const name = l.key.replace('sim:', '');
      const a = ADDRESSES[name];
      return a ? { address: mapIpv4(new Uint8Array(a)), port: PORTS[name]!, protocol: 17 } : undefined;
    },
    udpLocator(address, port) {
      for (const [name, a] of Object.entries(ADDRESSES)) {
        if (bytesEqual(address, mapIpv4(new Uint8Array(a))) && port === PORTS[name]) return net.nodes.get(`sim:${name}`)?.locator;
      }
      return undefined;
    },
  };
}

interface Seen {
  from: string;
  to: string;
  pkt: HipPacket;
  raw: Uint8Array;
}

function lab(opts: { relay?: NonNullable<EngineOptions['registrar']>['relay']; types?: number[]; punch?: boolean } = {}) {
  const net = new SimNetwork('relay');
  const deps = { locators: codec(net) };
  // Hole punching has its own tests below; without it everything stays on the relay.
  const base: EngineOptions = { idleTimeoutMs: 0, holePunching: opts.punch ?? false };
  const registrar = {
    types: [RegType.RENDEZVOUS, RegType.RELAY_UDP_HIP, RegType.RELAY_UDP_ESP],
    minLifetimeS: 60,
    maxLifetimeS: 3600,
    allow: [formatHit(idR.hit(2))],
    ...(opts.relay ? { relay: opts.relay } : {}),
  };
  const s = net.addNode('s', idS, { ...base, registrar }, deps);
  const r = net.addNode('r', idR, base, deps);
  const i = net.addNode('i', idI, base, deps);
  const x = net.addNode('x', idX, base, deps);
  const seen: Seen[] = [];
  net.hook = (t, from, to) => {
    if (t.packet.length >= 40 && t.packet[0] === 59) seen.push({ from: from.name, to: to.name, pkt: parsePacket(t.packet), raw: t.packet.slice() });
    return t.packet;
  };
  const register = (who: SimNode, types = opts.types ?? [RegType.RELAY_UDP_HIP, RegType.RELAY_UDP_ESP]) => {
    who.engine.connect(idS.hit(2), [s.locator], net.now, { register: { types, lifetimeS: 600 } });
    net.run(net.now + 2000);
  };
  return { net, s, r, i, x, seen, register };
}

function established(n: SimNode, peer: HostIdentity): boolean {
  return SimNetwork.eventsOf(n, 'established').some((e) => bytesEqual(e.peerHit, peer.hit(2)));
}

/** The packet with one bit of its RELAY_HMAC (the last TLV) flipped. */
function flipRelayHmac(packet: Uint8Array): Uint8Array {
  const mac = getParam(parsePacket(packet), ParamType.RELAY_HMAC)!.mac;
  const tlv = Math.ceil((4 + mac.length) / 8) * 8;
  const out = packet.slice();
  out[out.length - tlv + 4]! ^= 1;
  return out;
}

/** A fake ESP packet with this SPI. */
function esp(spi: number, length = 64): Uint8Array {
  const b = new Uint8Array(length);
  new DataView(b.buffer).setUint32(0, spi);
  b[7] = 1;
  return b;
}

describe('HIP relay: control plane through the server', () => {
  it('relays I1, R1, I2 and R2 with RELAY_FROM / RELAY_TO / RELAY_HMAC; both ends keep the server as the peer locator', () => {
    const { net, s, r, i, seen, register } = lab();
    register(r);
    expect(s.engine.registry.isGranted(idR.hit(2), RegType.RELAY_UDP_HIP, net.now)).toBe(true);
    seen.length = 0;
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    expect(established(i, idR)).toBe(true);
    expect(established(r, idI)).toBe(true);

    for (const type of [PacketType.I1, PacketType.I2]) {
      const toClient = seen.find((p) => p.from === 's' && p.to === 'r' && p.pkt.type === type)!.pkt;
      const rf = getParam(toClient, ParamType.RELAY_FROM)!;
      expect(Array.from(rf.address.subarray(12))).toEqual(ADDRESSES.i);
      expect(rf.port).toBe(PORTS.i);
      expect(getParam(toClient, ParamType.RELAY_HMAC)).toBeDefined();
    }
    for (const type of [PacketType.R1, PacketType.R2]) {
      const fromClient = seen.find((p) => p.from === 'r' && p.to === 's' && p.pkt.type === type)!.pkt;
      expect(getParam(fromClient, ParamType.RELAY_TO)!.port).toBe(PORTS.i);
      expect(getParam(fromClient, ParamType.RELAY_HMAC)).toBeDefined();
      // The server removed the RELAY_HMAC only it could check, and left RELAY_TO in.
      const atInitiator = seen.find((p) => p.from === 's' && p.to === 'i' && p.pkt.type === type)!.pkt;
      expect(getParam(atInitiator, ParamType.RELAY_HMAC)).toBeUndefined();
      expect(Array.from(getParam(atInitiator, ParamType.RELAY_TO)!.address.subarray(12))).toEqual(ADDRESSES.i);
    }
    // Nothing went between the two hosts directly.
    expect(seen.some((p) => (p.from === 'i' && p.to === 'r') || (p.from === 'r' && p.to === 'i'))).toBe(false);
    expect(i.engine.association(idR.hit(2))!.locator.key).toBe(s.locator.key);
    expect(r.engine.association(idI.hit(2))!.locator.key).toBe(s.locator.key);
    expect(r.engine.isRelayed(idI.hit(2))).toBe(true);
    expect(s.engine.relayStats).toMatchObject({ controlToClient: 2, controlFromClient: 2, controlRefused: 0 });
  });

  it('relays CLOSE and CLOSE_ACK too: the initiator closes through the server', () => {
    const { net, r, i, register } = lab();
    register(r);
    i.engine.connect(idR.hit(2), [net.nodes.get('sim:s')!.locator], net.now);
    net.run(net.now + 2000);
    i.engine.close(idR.hit(2), net.now);
    net.run(net.now + 5000);
    expect(SimNetwork.eventsOf(r, 'closed').some((e) => bytesEqual(e.peerHit, idI.hit(2)) && e.by === 'peer')).toBe(true);
    expect(SimNetwork.eventsOf(i, 'closed').some((e) => bytesEqual(e.peerHit, idR.hit(2)) && e.by === 'local')).toBe(true);
  });

  it('a HIT that is not registered (not on the whitelist) is not relayed to', () => {
    const { net, s, i, x, register } = lab();
    register(x); // refused: not on the whitelist
    expect(s.engine.registry.isGranted(idX.hit(2), RegType.RELAY_UDP_HIP, net.now)).toBe(false);
    i.engine.connect(idX.hit(2), [s.locator], net.now);
    net.run(net.now + 3000);
    expect(established(i, idX)).toBe(false);
    expect(s.engine.relayStats.controlToClient).toBe(0);
  });

  it('RELAY_TO from a host that is not a client, or with a forged RELAY_HMAC, is refused', () => {
    const { net, s, r, i, x, seen, register } = lab();
    register(r);
    register(x);
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    const raw = seen.find((p) => p.from === 'r' && p.to === 's' && p.pkt.type === PacketType.R1)!.raw;
    // x (not a client) replays r's relayed R1 from its own address.
    const before = s.engine.relayStats.controlRefused;
    net.inject(s, raw, x);
    expect(s.engine.relayStats.controlRefused).toBe(before + 1);
    // The client's own packet with one bit of the RELAY_HMAC flipped.
    const forged = flipRelayHmac(raw);
    net.inject(s, forged, r);
    expect(s.engine.relayStats.controlRefused).toBe(before + 2);
  });

  it('a forged RELAY_HMAC towards the client is dropped there', () => {
    const { net, s, r, i, register } = lab();
    register(r);
    const captured: Uint8Array[] = [];
    net.hook = (t, from, to) => {
      if (from === s && to === r && t.packetType === PacketType.I1) {
        const bad = flipRelayHmac(t.packet);
        captured.push(bad);
        return bad;
      }
      return t.packet;
    };
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 3000);
    expect(captured.length).toBeGreaterThan(0);
    expect(established(i, idR)).toBe(false);
    expect(r.engine.stats.dropped['bad-mac']).toBeGreaterThan(0);
  });
});

describe('HIP relay: data plane (ESP relayed by source and SPI)', () => {
  function relayedPair(opts: Parameters<typeof lab>[0] = {}) {
    const l = lab(opts);
    l.register(l.r);
    l.i.engine.connect(idR.hit(2), [l.s.locator], l.net.now);
    l.net.run(l.net.now + 2000);
    const sa = l.i.engine.association(idR.hit(2))!.sa!;
    return { ...l, iInbound: sa.localSpi, rInbound: sa.peerSpi };
  }

  it('forwards ESP both ways between the client and its peer, and nothing else', () => {
    const { net, s, r, i, x, iInbound, rInbound } = relayedPair();
    expect(s.engine.relayEsp(esp(rInbound), i.locator, net.now)?.key).toBe(r.locator.key);
    expect(s.engine.relayEsp(esp(iInbound), r.locator, net.now)?.key).toBe(i.locator.key);
    // Unknown SPI, or a known SPI from another source: dropped.
    expect(s.engine.relayEsp(esp(12345), i.locator, net.now)).toBeUndefined();
    expect(s.engine.relayEsp(esp(rInbound), x.locator, net.now)).toBeUndefined();
    expect(s.engine.relayEsp(esp(iInbound), i.locator, net.now)).toBeUndefined();
    expect(s.engine.relayStats).toMatchObject({ espPackets: 2, espBytes: 128 });
  });

  it("charges every relayed byte to the client's budget", () => {
    const { net, s, i, rInbound } = relayedPair({ relay: { espBytesPerSecond: 1000 } });
    let passed = 0;
    for (let k = 0; k < 10; k++) if (s.engine.relayEsp(esp(rInbound, 200), i.locator, net.now)) passed++;
    expect(passed).toBe(5);
    expect(s.engine.relayStats.espRateLimited).toBe(5);
    // A second later the budget is back.
    expect(s.engine.relayEsp(esp(rInbound, 200), i.locator, net.now + 1000)).toBeDefined();
  });

  it('routes end with the association (CLOSE through the relay), and a client has at most maxPeersPerClient peers', () => {
    const { net, s, r, i, x, iInbound, rInbound } = relayedPair({ relay: { maxPeersPerClient: 1 } });
    expect(s.engine.relayEsp(esp(rInbound), i.locator, net.now)).toBeDefined();
    // A second peer of the same client takes the only slot: the first peer's routes give way.
    x.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    const xSa = x.engine.association(idR.hit(2))!.sa!;
    expect(s.engine.relayEsp(esp(xSa.peerSpi), x.locator, net.now)?.key).toBe(r.locator.key);
    expect(s.engine.relayEsp(esp(rInbound), i.locator, net.now)).toBeUndefined();
    expect(s.engine.relayEsp(esp(iInbound), r.locator, net.now)).toBeUndefined();
    // The client closes with x: nothing is relayed for that pair any more.
    r.engine.close(idX.hit(2), net.now);
    net.run(net.now + 5000);
    expect(s.engine.relayEsp(esp(xSa.peerSpi), x.locator, net.now)).toBeUndefined();
  });

  it('a rekey through the relay: the new SPIs of both sides are relayed too (learnt from the UPDATEs)', () => {
    const { net, s, r, i } = relayedPair();
    expect(i.engine.rekey(idR.hit(2), net.now)).toBe(true);
    net.run(net.now + 5000);
    expect(SimNetwork.eventsOf(i, 'rekeyed')).toHaveLength(1);
    const sa = i.engine.association(idR.hit(2))!.sa!;
    expect(s.engine.relayEsp(esp(sa.peerSpi), i.locator, net.now)?.key).toBe(r.locator.key);
    expect(s.engine.relayEsp(esp(sa.localSpi), r.locator, net.now)?.key).toBe(i.locator.key);
    // Two more rekeys: the relay keeps the newest two SPIs per direction, not every one.
    for (let k = 0; k < 2; k++) {
      i.engine.rekey(idR.hit(2), net.now);
      net.run(net.now + 5000);
    }
    expect(SimNetwork.eventsOf(i, 'rekeyed')).toHaveLength(3);
    const last = i.engine.association(idR.hit(2))!.sa!;
    expect(s.engine.relayEsp(esp(last.peerSpi), i.locator, net.now)?.key).toBe(r.locator.key);
    expect(s.engine.relayEsp(esp(sa.peerSpi), i.locator, net.now)).toBeUndefined();
  });

  it('a client registered for the control relay only gets no data relay', () => {
    const { net, s, i, iInbound, rInbound, r } = relayedPair({ types: [RegType.RELAY_UDP_HIP] });
    expect(SimNetwork.eventsOf(i, 'established').length).toBe(1);
    expect(s.engine.relayEsp(esp(rInbound), i.locator, net.now)).toBeUndefined();
    expect(s.engine.relayEsp(esp(iInbound), r.locator, net.now)).toBeUndefined();
  });
});

describe('hole punching (RFC 9028 connectivity checks, simplified)', () => {
  function punchLab(direct: boolean) {
    const l = lab({ punch: true });
    l.register(l.r);
    if (!direct) {
      // Two NATs that let nothing through between the hosts: only the relay works.
      const prev = l.net.hook!;
      l.net.hook = (t, from, to) => ((from === l.i && to === l.r) || (from === l.r && to === l.i) ? undefined : prev(t, from, to));
    }
    l.seen.length = 0;
    l.i.engine.connect(idR.hit(2), [l.s.locator], l.net.now);
    l.net.run(l.net.now + 60_000);
    return l;
  }

  it('the client announces its reflexive candidate through the relay; both checks succeed and both ends move to the direct path', () => {
    const { s, r, i, seen } = punchLab(true);
    const announce = seen.find((p) => p.from === 'r' && p.to === 's' && p.pkt.type === PacketType.UPDATE && getParam(p.pkt, ParamType.LOCATOR_SET))!;
    expect(announce).toBeDefined();
    const loc = getParam(announce.pkt, ParamType.LOCATOR_SET)!.locators[0]!;
    expect(loc.locatorType).toBe(2);
    // Connectivity checks went directly both ways, each answered with the echo.
    const checks = seen.filter((p) => p.pkt.type === PacketType.UPDATE && getParam(p.pkt, ParamType.ECHO_REQUEST_SIGNED));
    expect(checks.some((p) => p.from === 'i' && p.to === 'r')).toBe(true);
    expect(checks.some((p) => p.from === 'r' && p.to === 'i')).toBe(true);
    expect(i.engine.association(idR.hit(2))!.locator.key).toBe(r.locator.key);
    expect(r.engine.association(idI.hit(2))!.locator.key).toBe(i.locator.key);
    expect(SimNetwork.eventsOf(i, 'locator')).toHaveLength(1);
    expect(SimNetwork.eventsOf(r, 'locator')).toHaveLength(1);
    // Control packets on the direct path carry no relay parameters.
    const after = seen.filter((p) => p.from === 'r' && p.to === 'i');
    expect(after.every((p) => !getParam(p.pkt, ParamType.RELAY_TO))).toBe(true);
    expect(s.engine.relayStats.controlRefused).toBe(0);
  });

  it('when no check gets through, both ends stay on the relay and the association lives on', () => {
    const { net, s, r, i } = punchLab(false);
    expect(i.engine.association(idR.hit(2))!.locator.key).toBe(s.locator.key);
    expect(r.engine.association(idI.hit(2))!.locator.key).toBe(s.locator.key);
    expect(SimNetwork.eventsOf(i, 'locator')).toHaveLength(0);
    expect(SimNetwork.eventsOf(i, 'path').filter((e) => e.state === 'dead')).toHaveLength(0);
    expect(i.engine.association(idR.hit(2))!.state).toBe(r.engine.association(idI.hit(2))!.state);
    // The relayed data path still works.
    const sa = i.engine.association(idR.hit(2))!.sa!;
    expect(s.engine.relayEsp(esp(sa.peerSpi), i.locator, net.now)?.key).toBe(r.locator.key);
  });
});
