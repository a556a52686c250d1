/**
 * Registration renewal and cancellation by UPDATE (RFC 8003 §3.3-3.4) in the in-memory network:
 * REG_REQUEST in an UPDATE on the existing association, REG_RESPONSE / REG_FAILED / REG_FROM in
 * the UPDATE that acknowledges it; lifetime 0 cancels; a lost request is retransmitted and
 * answered once; a request nobody acknowledges is reported as a failed registration.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { PeerLocator } from '../../src/core/events.js';
import type { LocatorCodec } from '../../src/core/registration.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { formatHit } from '../../src/crypto/hit.js';
import { getParam, mapIpv4, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const idS = HostIdentity.generate();
const idR = HostIdentity.generate();
const idI = HostIdentity.generate();
const ADDRESSES: Record<string, number[]> = { s: [192, 0, 2, 1], r: [192, 0, 2, 2], i: [192, 0, 2, 3] };

function codec(net: SimNetwork): LocatorCodec<PeerLocator> {
  return {
    addressOf(l) {
      const a = ADDRESSES[l.key.replace('sim:', '')];
      return a ? { address: mapIpv4(new Uint8Array(a)), port: 10500, protocol: 17 } : undefined;
    },
    udpLocator(address) {
      for (const [name, a] of Object.entries(ADDRESSES)) if (bytesEqual(address, mapIpv4(new Uint8Array(a)))) return net.nodes.get(`sim:${name}`)?.locator;
      return undefined;
    },
  };
}

/** A rendezvous server s (lifetimes 60..3600 s), a responder r registered with it for 60 s, an initiator i. */
function registered(seed: string) {
  const net = new SimNetwork(seed);
  const deps = { locators: codec(net) };
  const base = { idleTimeoutMs: 0 };
  const s = net.addNode('s', idS, { ...base, registrar: { types: [1], minLifetimeS: 60, maxLifetimeS: 3600, allow: [formatHit(idR.hit(2))] } }, deps);
  const r = net.addNode('r', idR, base, deps);
  const i = net.addNode('i', idI, base, deps);
  r.engine.connect(idS.hit(2), [s.locator], net.now, { register: { types: [1], lifetimeS: 60 } });
  net.run(net.now + 1000);
  expect(s.engine.registry.clients(net.now)).toHaveLength(1);
  const packets: { from: string; to: string; pkt: HipPacket }[] = [];
  net.hook = (t, from, to) => {
    packets.push({ from: from.name, to: to.name, pkt: parsePacket(t.packet) });
    return t.packet;
  };
  r.events.length = 0;
  s.events.length = 0;
  return { net, s, r, i, packets };
}

const regEvents = (n: { events: { type: string }[] }) => SimNetwork.eventsOf(n as never, 'registration');

describe('registration renewal and cancellation by UPDATE (RFC 8003 §3.3-3.4)', () => {
  it('renewal: REG_REQUEST in an UPDATE, REG_RESPONSE and REG_FROM in the acknowledging UPDATE; no new base exchange; the grant outlives its first lifetime', () => {
    const { net, s, r, i, packets } = registered('renew');
    const firstExpiry = s.engine.registry.clients(net.now)[0]!.expiresAt;
    net.now += 40_000;
    expect(r.engine.register(idS.hit(2), { types: [1], lifetimeS: 600 }, net.now)).toBe(true);
    net.run(net.now + 1000);
    const req = packets.find((p) => p.from === 'r' && p.pkt.type === PacketType.UPDATE)!.pkt;
    expect(getParam(req, ParamType.REG_REQUEST)).toMatchObject({ regTypes: [1] });
    expect(getParam(req, ParamType.SEQ)).toBeDefined();
    const ans = packets.find((p) => p.from === 's' && p.pkt.type === PacketType.UPDATE)!.pkt;
    expect(getParam(ans, ParamType.ACK)?.updateIds).toEqual([getParam(req, ParamType.SEQ)!.updateId]);
    expect(getParam(ans, ParamType.REG_RESPONSE)).toMatchObject({ regTypes: [1] });
    expect(getParam(ans, ParamType.REG_FROM)?.port).toBe(10500);
    expect(packets.filter((p) => p.pkt.type === PacketType.I1 || p.pkt.type === PacketType.I2)).toHaveLength(0);
    const [ev] = regEvents(r);
    expect(ev).toMatchObject({ role: 'requester', granted: [1], failed: [] });
    expect(ev!.lifetimeS).toBeGreaterThanOrEqual(600);
    expect(ev!.reflexive?.port).toBe(10500);
    expect(regEvents(s)).toMatchObject([{ role: 'registrar', granted: [1] }]);
    expect(r.engine.registry.heldRegistrations(net.now)[0]!.expiresAt).toBeGreaterThan(net.now + 500_000);
    // Past the first lifetime the server still forwards I1s to r.
    net.now = firstExpiry + 10_000;
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    expect(s.engine.registry.stats.forwarded).toBe(1);
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(1);
  });

  it('without renewal the grant expires and I1s are no longer forwarded', () => {
    const { net, s, i } = registered('expire');
    net.now = s.engine.registry.clients(net.now)[0]!.expiresAt + 1;
    expect(s.engine.registry.clients(net.now)).toHaveLength(0);
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    expect(s.engine.registry.stats.forwarded).toBe(0);
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(0);
  });

  it('cancellation: lifetime 0 removes the grant at the server, which stops forwarding; the association stays', () => {
    const { net, s, r, i, packets } = registered('cancel');
    expect(r.engine.register(idS.hit(2), { types: [1], lifetimeS: 0 }, net.now)).toBe(true);
    net.run(net.now + 1000);
    expect(getParam(packets.find((p) => p.from === 'r')!.pkt, ParamType.REG_REQUEST)?.lifetime).toBe(0);
    expect(getParam(packets.find((p) => p.from === 's')!.pkt, ParamType.REG_RESPONSE)?.lifetime).toBe(0);
    expect(s.engine.registry.clients(net.now)).toHaveLength(0);
    expect(s.engine.registry.stats.cancelled).toBe(1);
    expect(r.engine.registry.heldRegistrations(net.now)).toHaveLength(0);
    expect(regEvents(r)).toMatchObject([{ role: 'requester', granted: [1], lifetimeS: 0 }]);
    expect(r.engine.association(idS.hit(2))).toBeDefined();
    i.engine.connect(idR.hit(2), [s.locator], net.now);
    net.run(net.now + 2000);
    expect(s.engine.registry.stats.forwarded).toBe(0);
  });

  it('a lost request and a lost answer are retransmitted; the server grants once and answers the duplicate from its stored reply', () => {
    const { net, s, r, packets } = registered('loss');
    let dropped = 0;
    net.hook = (t, from, to) => {
      packets.push({ from: from.name, to: to.name, pkt: parsePacket(t.packet) });
      // The first request and the first answer are lost.
      if (t.packetType === PacketType.UPDATE && dropped < 2 && (dropped === 0 ? from.name === 'r' : from.name === 's')) {
        dropped++;
        return undefined;
      }
      return t.packet;
    };
    const granted = s.engine.registry.stats.granted;
    r.engine.register(idS.hit(2), { types: [1], lifetimeS: 600 }, net.now);
    net.run(net.now + 10_000);
    expect(dropped).toBe(2);
    expect(packets.filter((p) => p.from === 'r' && p.pkt.type === PacketType.UPDATE)).toHaveLength(3);
    expect(s.engine.registry.stats.granted).toBe(granted + 1);
    expect(regEvents(r)).toHaveLength(1);
    expect(regEvents(r)[0]).toMatchObject({ granted: [1] });
  });

  it('a type the server does not offer gets REG_FAILED type 1 in the answer', () => {
    const { net, r } = registered('type');
    r.engine.register(idS.hit(2), { types: [2], lifetimeS: 600 }, net.now);
    net.run(net.now + 1000);
    expect(regEvents(r)).toMatchObject([{ granted: [], failed: [{ type: 2, failureType: 1 }] }]);
    // The rendezvous registration it holds is untouched.
    expect(r.engine.registry.heldRegistrations(net.now)[0]?.types).toEqual([1]);
  });

  it('a request nobody acknowledges (the server is gone) is reported as a registration with an error', () => {
    const { net, s, r } = registered('gone');
    net.nodes.delete(s.locator.key);
    r.engine.register(idS.hit(2), { types: [1], lifetimeS: 600 }, net.now);
    net.run(net.now + 120_000);
    expect(regEvents(r)).toMatchObject([{ role: 'requester', granted: [], failed: [], error: 'registration UPDATE not acknowledged' }]);
  });

  it('register() without an established association returns false', () => {
    const { net, r } = registered('none');
    expect(r.engine.register(idI.hit(2), { types: [1], lifetimeS: 600 }, net.now)).toBe(false);
  });
});
