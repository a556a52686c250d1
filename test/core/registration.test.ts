/**
 * Registration (RFC 8003) and rendezvous (RFC 8004) in the in-memory network: REG_INFO in R1,
 * REG_REQUEST in I2, REG_RESPONSE / REG_FAILED / REG_FROM in R2; an I1 forwarded by the server
 * with FROM and RVS_HMAC, answered directly with VIA_RVS; whitelist, lifetime bounds, expiry,
 * rate limit, forged HMAC.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractHipPackets } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { bytesEqual } from '../../src/bytes.js';
import type { EngineOptions } from '../../src/core/config.js';
import type { PeerLocator } from '../../src/core/events.js';
import { encodeLifetime, lifetimeSeconds, type LocatorCodec } from '../../src/core/registration.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { formatHit } from '../../src/crypto/hit.js';
import { getParam, mapIpv4, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idS = HostIdentity.generate();
const idR = HostIdentity.generate();
const idI = HostIdentity.generate();
const rsaS = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaR = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaI = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });

/** Each sim node gets a documentation address; the codec maps between them and sim locators. */
const ADDRESSES: Record<string, number[]> = { s: [192, 0, 2, 1], r: [192, 0, 2, 2], i: [192, 0, 2, 3] };

/** Each node is seen at port 10500 unless `ports` says otherwise (an initiator behind a NAT). */
function codec(net: SimNetwork, protocol = 17, ports: Record<string, number> = {}): LocatorCodec<PeerLocator> {
  return {
    addressOf(l) {
      const name = l.key.replace('sim:', '');
      const a = ADDRESSES[name];
      return a ? { address: mapIpv4(new Uint8Array(a)), port: ports[name] ?? 10500, protocol } : undefined;
    },
    udpLocator(address) {
      for (const [name, a] of Object.entries(ADDRESSES)) if (bytesEqual(address, mapIpv4(new Uint8Array(a)))) return net.nodes.get(`sim:${name}`)?.locator;
      return undefined;
    },
  };
}

function lab(opts: { server?: EngineOptions; rsa?: boolean; protocol?: number; ports?: Record<string, number> } = {}) {
  const net = new SimNetwork('registration');
  const ids = opts.rsa ? [rsaS, rsaR, rsaI] : [idS, idR, idI];
  const version: 1 | 2 = opts.rsa ? 1 : 2;
  const base: EngineOptions = { idleTimeoutMs: 0, version };
  const deps = { locators: codec(net, opts.protocol, opts.ports) };
  const server = { ...base, registrar: { types: [1], minLifetimeS: 60, maxLifetimeS: 3600, allow: [formatHit(ids[1]!.hit(version))] }, ...opts.server };
  const s = net.addNode('s', ids[0]!, server, deps);
  const r = net.addNode('r', ids[1]!, base, deps);
  const i = net.addNode('i', ids[2]!, base, deps);
  const packets: { from: string; to: string; pkt: HipPacket; raw: Uint8Array }[] = [];
  net.hook = (t, from, to) => {
    packets.push({ from: from.name, to: to.name, pkt: parsePacket(t.packet), raw: t.packet });
    return t.packet;
  };
  return { net, s, r, i, ids, version, packets };
}

function registrations(n: SimNode) {
  return SimNetwork.eventsOf(n, 'registration');
}

describe('RFC 8003 lifetimes', () => {
  it('encodes 2^((l-64)/8) seconds both ways', () => {
    expect(lifetimeSeconds(0)).toBe(0);
    expect(lifetimeSeconds(64)).toBe(1);
    expect(lifetimeSeconds(96)).toBe(16);
    expect(lifetimeSeconds(128)).toBe(256);
    expect(encodeLifetime(256)).toBe(128);
    expect(encodeLifetime(0)).toBe(0);
    expect(encodeLifetime(1e12)).toBe(255);
    expect(encodeLifetime(1e-9)).toBe(1);
    // Bounds round inwards: never below the minimum, never above the maximum.
    expect(lifetimeSeconds(encodeLifetime(60, 'up'))).toBeGreaterThanOrEqual(60);
    expect(lifetimeSeconds(encodeLifetime(3600, 'down'))).toBeLessThanOrEqual(3600);
  });
});

describe('registration in the base exchange', () => {
  for (const rsa of [false, true]) {
    it(`HIPv${rsa ? 1 : 2}: REG_INFO in R1, REG_REQUEST in I2, REG_RESPONSE and REG_FROM in R2; lifetime clamped to the bounds`, () => {
      const { net, s, r, ids, version, packets } = lab({ rsa });
      r.engine.connect(ids[0]!.hit(version), [s.locator], net.now, { version, register: { types: [1], lifetimeS: 1e6 } });
      net.run(net.now + 1000);
      const r1 = packets.find((p) => p.pkt.type === PacketType.R1)!.pkt;
      expect(getParam(r1, ParamType.REG_INFO)).toMatchObject({ regTypes: [1], minLifetime: encodeLifetime(60, 'up'), maxLifetime: encodeLifetime(3600, 'down') });
      const i2 = packets.find((p) => p.pkt.type === PacketType.I2)!.pkt;
      expect(getParam(i2, ParamType.REG_REQUEST)).toMatchObject({ regTypes: [1], lifetime: encodeLifetime(3600, 'down') });
      const r2 = packets.find((p) => p.pkt.type === PacketType.R2)!.pkt;
      expect(getParam(r2, ParamType.REG_RESPONSE)).toMatchObject({ regTypes: [1] });
      expect(getParam(r2, ParamType.REG_FROM)).toMatchObject({ port: 10500, protocol: 17 });
      const [mine] = registrations(r);
      expect(mine).toMatchObject({ role: 'requester', granted: [1], failed: [] });
      expect(mine!.lifetimeS).toBeLessThanOrEqual(3600);
      expect(mine!.lifetimeS).toBeGreaterThan(3000);
      expect(Array.from(mine!.reflexive!.address.subarray(12))).toEqual(ADDRESSES.r);
      expect(registrations(s)[0]).toMatchObject({ role: 'registrar', granted: [1] });
      expect(s.engine.registry.clients(net.now)).toHaveLength(1);
      expect(r.engine.registry.heldRegistrations(net.now)).toHaveLength(1);
    });
  }

  it('a HIT not on the whitelist gets REG_FAILED type 0 and no registration', () => {
    const { net, s, i, ids, packets } = lab();
    i.engine.connect(ids[0]!.hit(2), [s.locator], net.now, { register: { types: [1], lifetimeS: 600 } });
    net.run(net.now + 1000);
    const r2 = packets.find((p) => p.pkt.type === PacketType.R2)!.pkt;
    expect(getParam(r2, ParamType.REG_RESPONSE)).toBeUndefined();
    expect(getParam(r2, ParamType.REG_FAILED)).toMatchObject({ failureType: 0, regTypes: [1] });
    expect(registrations(i)[0]).toMatchObject({ granted: [], failed: [{ type: 1, failureType: 0 }] });
    expect(s.engine.registry.clients(net.now)).toHaveLength(0);
    expect(s.engine.registry.stats.refused).toBe(1);
  });

  it('a type the registrar does not offer is never requested and is reported failed', () => {
    const { net, s, r, ids, packets } = lab();
    r.engine.connect(ids[0]!.hit(2), [s.locator], net.now, { register: { types: [2], lifetimeS: 600 } });
    net.run(net.now + 1000);
    expect(getParam(packets.find((p) => p.pkt.type === PacketType.I2)!.pkt, ParamType.REG_REQUEST)).toBeUndefined();
    expect(registrations(r)[0]).toMatchObject({ granted: [], failed: [{ type: 2, failureType: 1 }] });
  });
});

describe('rendezvous (RFC 8004)', () => {
  function registered() {
    const l = lab();
    l.r.engine.connect(l.ids[0]!.hit(2), [l.s.locator], l.net.now, { register: { types: [1], lifetimeS: 600 } });
    l.net.run(l.net.now + 1000);
    l.packets.length = 0;
    return l;
  }

  it('the server forwards the I1 with FROM and RVS_HMAC; the responder answers directly with VIA_RVS', () => {
    const { net, s, r, i, ids, packets } = registered();
    i.engine.connect(ids[1]!.hit(2), [s.locator], net.now);
    net.run(net.now + 1000);
    expect(packets.map((p) => `${p.from}>${p.to}:${p.pkt.type}`)).toEqual(['i>s:1', 's>r:1', 'r>i:2', 'i>r:3', 'r>i:4']);
    const relayed = packets[1]!.pkt;
    expect(Array.from(getParam(relayed, ParamType.FROM)!.address.subarray(12))).toEqual(ADDRESSES.i);
    expect(getParam(relayed, ParamType.RVS_HMAC)).toBeDefined();
    const via = getParam(packets[2]!.pkt, ParamType.VIA_RVS)!;
    expect(Array.from(via.addresses[0]!.subarray(12))).toEqual(ADDRESSES.s);
    // The initiator learnt the responder's own locator from the R1.
    expect(i.engine.association(ids[1]!.hit(2))?.locator.key).toBe('sim:r');
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(1);
    expect(s.engine.registry.stats.forwarded).toBe(1);
    expect(r.engine.registry.stats.answeredViaRvs).toBe(1);
  });

  it('FROM alone from port 10500; an initiator at another port (behind a NAT) is named in a RELAY_FROM too, and answered there', () => {
    for (const [port, relayFrom] of [[10500, undefined], [40000, 40000]] as const) {
      const l = lab({ ports: { i: port } });
      l.r.engine.connect(l.ids[0]!.hit(2), [l.s.locator], l.net.now, { register: { types: [1], lifetimeS: 600 } });
      l.net.run(l.net.now + 1000);
      l.packets.length = 0;
      l.i.engine.connect(l.ids[1]!.hit(2), [l.s.locator], l.net.now);
      l.net.run(l.net.now + 1000);
      const relayed = l.packets[1]!.pkt;
      expect(getParam(relayed, ParamType.RELAY_FROM)?.port).toBe(relayFrom);
      expect(Array.from(getParam(relayed, ParamType.FROM)!.address.subarray(12))).toEqual(ADDRESSES.i);
      expect(l.packets.map((p) => `${p.from}>${p.to}:${p.pkt.type}`)).toEqual(['i>s:1', 's>r:1', 'r>i:2', 'i>r:3', 'r>i:4']);
    }
  });

  it('a relayed I1 whose RVS_HMAC does not verify is dropped', () => {
    const { net, s, r, i, ids } = registered();
    net.hook = (t, from, to) => {
      if (from.name === 's' && to.name === 'r' && t.packetType === PacketType.I1) {
        const bad = t.packet.slice();
        bad[bad.length - 5]! ^= 1; // inside the HMAC (the TLV ends in 4 bytes of padding)
        return bad;
      }
      return t.packet;
    };
    i.engine.connect(ids[1]!.hit(2), [s.locator], net.now);
    net.run(net.now + 500);
    expect(r.engine.stats.dropped['bad-mac']).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(r, 'dropped').find((d) => d.reason === 'bad-mac')?.detail).toBe('RVS_HMAC');
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(0);
  });

  it('an I1 for an unregistered HIT, or after the registration expired, is not forwarded', () => {
    const { net, s, i, ids } = registered();
    const stranger = HostIdentity.generate();
    i.engine.connect(stranger.hit(2), [s.locator], net.now);
    net.run(net.now + 100);
    expect(s.engine.registry.stats.forwarded).toBe(0);
    expect(s.engine.registry.stats.notRegistered).toBeGreaterThan(0);
    // 600 s requested (inside the bounds): past that the server forwards nothing more.
    net.now += 700_000; // 600 s asked, encoded as 2^(74/8) = 609 s
    i.engine.close(stranger.hit(2), net.now);
    i.engine.connect(ids[1]!.hit(2), [s.locator], net.now);
    net.run(net.now + 100);
    expect(s.engine.registry.stats.forwarded).toBe(0);
  });

  it('forwarding to one client is rate limited', () => {
    const { net, s, r, ids } = registered();
    // Many initiators at once: only the bucket's worth get through.
    for (let n = 0; n < 40; n++) {
      const id = HostIdentity.generate();
      ADDRESSES[`x${n}`] = [198, 51, 100, n + 1];
      const e = net.addNode(`x${n}`, id, { idleTimeoutMs: 0 });
      e.engine.connect(ids[1]!.hit(2), [s.locator], net.now);
    }
    net.flush();
    net.run(net.now + 5);
    expect(s.engine.registry.stats.forwarded).toBe(20);
    expect(s.engine.registry.stats.rateLimited).toBe(20);
    expect(r.engine.registry.stats.answeredViaRvs).toBe(20);
    for (let n = 0; n < 40; n++) delete ADDRESSES[`x${n}`];
  });
});

describe('the shape of hipd 1.0.x registration and rendezvous (hipd-v1-rvs.pcap)', () => {
  const REG_AND_RVS = new Set<number>([
    ParamType.REG_INFO,
    ParamType.REG_REQUEST,
    ParamType.REG_RESPONSE,
    ParamType.REG_FAILED,
    ParamType.REG_FROM,
    ParamType.RELAY_FROM,
    ParamType.FROM,
    ParamType.RVS_HMAC,
    ParamType.VIA_RVS,
  ]);
  const shape = (pkts: HipPacket[]) => pkts.map((p) => `${p.type}:${p.params.map((q) => q.type).filter((t) => REG_AND_RVS.has(t)).join(',')}`);

  it('hipl in HIPv1 on all three ends puts the same registration and rendezvous parameters in the same packets', () => {
    const frames = readCapture(readFileSync(`${CAPTURES_DIR}hipd-v1-rvs.pcap`));
    const captured = extractHipPackets(frames).map((h) => parsePacket(h.hip));
    // Registration BEX (client ↔ server), then I1 → server, I1 server → client, R1 client → initiator.
    const theirs = shape(captured).slice(0, 7);
    expect(theirs).toEqual(['1:', '2:930', '3:932', '4:934,950', '1:', '1:65498,65500', '2:65502']);

    // The same run with hipl: HIPv1 over UDP port 10500 on all three ends, as in the capture. The
    // server adds no RELAY_FROM here: hipd would take the I1 for a full relay's and answer
    // through the server instead of directly with VIA_RVS.
    const { net, s, r, i, ids, packets } = lab({ rsa: true });
    r.engine.connect(ids[0]!.hit(1), [s.locator], net.now, { version: 1, register: { types: [1], lifetimeS: 600 } });
    net.run(net.now + 1000);
    i.engine.connect(ids[1]!.hit(1), [s.locator], net.now, { version: 1 });
    net.run(net.now + 1000);
    const ours = shape(packets.map((p) => p.pkt)).slice(0, 7);
    expect(ours).toEqual(theirs);
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(1);
  });

  it('whole packets: every parameter, in order, with the same senders and receivers as the capture', () => {
    const frames = readCapture(readFileSync(`${CAPTURES_DIR}hipd-v1-rvs.pcap`));
    const names: Record<string, string> = { '10.77.0.3': 's', '10.77.0.2': 'r', '10.77.0.1': 'i' };
    const whole = (from: string, to: string, p: HipPacket) => `${from}>${to} ${p.type}:${p.params.map((q) => q.type).join(',')}`;
    const theirs = extractHipPackets(frames).map((h) => whole(names[h.src]!, names[h.dst]!, parsePacket(h.hip)));
    expect(theirs).toHaveLength(9);
    const { net, s, r, i, ids, packets } = lab({ rsa: true });
    r.engine.connect(ids[0]!.hit(1), [s.locator], net.now, { version: 1, register: { types: [1], lifetimeS: 600 } });
    net.run(net.now + 1000);
    i.engine.connect(ids[1]!.hit(1), [s.locator], net.now, { version: 1 });
    net.run(net.now + 1000);
    expect(packets.map((p) => whole(p.from, p.to, p.pkt))).toEqual(theirs);
  });
});
