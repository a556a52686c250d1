/**
 * Shotgun (HIPL manual ch. 11) in the in-memory network: every round of I1s, the first and each
 * retransmission, goes to every known locator of the peer (bounded, a few ms apart), and the
 * first R1 wins; so a dead address or a crashed rendezvous server with a live one known does not
 * stop the base exchange even when the first I1 to the live one is lost.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { PeerLocator } from '../../src/core/events.js';
import type { LocatorCodec } from '../../src/core/registration.js';
import { SHOTGUN_LOCATORS, SHOTGUN_PACE_MS } from '../../src/core/shotgun.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { formatHit } from '../../src/crypto/hit.js';
import { mapIpv4, PacketType } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const idR = HostIdentity.generate();
const idI = HostIdentity.generate();
const idS1 = HostIdentity.generate();
const idS2 = HostIdentity.generate();
const ADDRESSES: Record<string, number[]> = { s1: [192, 0, 2, 1], s2: [192, 0, 2, 4], r: [192, 0, 2, 2], i: [192, 0, 2, 3] };

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

const I1s = (net: SimNetwork, to?: string) => net.log.filter((l) => l.from === 'i' && l.packetType === PacketType.I1 && (to === undefined || l.to === to));

describe('shotgun: I1 rounds to every known locator', () => {
  it('a dead first address and a lost first I1 to the live one: the retransmission round reaches it', () => {
    const net = new SimNetwork('shotgun-dead');
    const r = net.addNode('r', idR, { idleTimeoutMs: 0 });
    const i = net.addNode('i', idI, { idleTimeoutMs: 0 });
    let lost = 0;
    const sent: { to: string; at: number }[] = [];
    net.hook = (t, _from, to) => {
      if (t.packetType === PacketType.I1) sent.push({ to: to.name, at: net.now });
      if (t.packetType === PacketType.I1 && lost++ === 0) return undefined;
      return t.packet;
    };
    const dead = { key: 'sim:gone' };
    i.engine.connect(idR.hit(2), [dead, r.locator], net.now);
    net.run(net.now + 10_000);
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(1);
    expect(SimNetwork.eventsOf(r, 'established')).toHaveLength(1);
    // Round 1 sent one I1 (to r: the dead address is not in the network) and lost it; round 2,
    // one retransmission timeout later, got through.
    expect(sent.map((s) => s.to)).toEqual(['r', 'r']);
    // The I1 to the dead address went first in each round, SHOTGUN_PACE_MS before the one to r.
    expect(sent.map((s) => s.at)).toEqual([SHOTGUN_PACE_MS, 1000 + SHOTGUN_PACE_MS]);
  });

  it('rounds are bounded and paced: at most SHOTGUN_LOCATORS locators, SHOTGUN_PACE_MS apart, one round per retransmission', () => {
    const net = new SimNetwork('shotgun-pace');
    const i = net.addNode('i', idI, { idleTimeoutMs: 0, retransmit: { initialMs: 1000, i1Retries: 2 } });
    const sinks = ['a', 'b', 'c', 'd', 'e'].map((n) => net.addNode(n, HostIdentity.generate(), { idleTimeoutMs: 0 }));
    // The sinks are not the HIT dialled: they drop the I1s (wrong receiver HIT), nobody answers.
    i.engine.connect(idR.hit(2), sinks.map((s) => s.locator), net.now);
    net.run(net.now + 60_000);
    const log = I1s(net);
    expect(new Set(log.map((l) => l.to))).toEqual(new Set(['a', 'b', 'c'].slice(0, SHOTGUN_LOCATORS)));
    expect(log).toHaveLength(3 * SHOTGUN_LOCATORS); // the first round and two retransmissions
    expect(log.map((l) => l.at)).toEqual([0, SHOTGUN_PACE_MS, 2 * SHOTGUN_PACE_MS, 1000, 1000 + SHOTGUN_PACE_MS, 1000 + 2 * SHOTGUN_PACE_MS, 3000, 3000 + SHOTGUN_PACE_MS, 3000 + 2 * SHOTGUN_PACE_MS]);
    expect(SimNetwork.eventsOf(i, 'failed')).toHaveLength(1);
  });

  it('a crashed rendezvous server with a second one known: the BEX gets through the second, even when its first I1 there is lost', () => {
    const net = new SimNetwork('shotgun-rvs');
    const deps = { locators: codec(net) };
    const registrar = { types: [1], minLifetimeS: 60, maxLifetimeS: 3600, allow: [formatHit(idR.hit(2))] };
    const s1 = net.addNode('s1', idS1, { idleTimeoutMs: 0, registrar }, deps);
    const s2 = net.addNode('s2', idS2, { idleTimeoutMs: 0, registrar }, deps);
    const r = net.addNode('r', idR, { idleTimeoutMs: 0 }, deps);
    const i = net.addNode('i', idI, { idleTimeoutMs: 0 }, deps);
    r.engine.connect(idS1.hit(2), [s1.locator], net.now, { register: { types: [1], lifetimeS: 600 } });
    r.engine.connect(idS2.hit(2), [s2.locator], net.now, { register: { types: [1], lifetimeS: 600 } });
    net.run(net.now + 1000);
    expect(r.engine.registry.heldRegistrations(net.now)).toHaveLength(2);
    // s1 crashes; the first I1 that reaches s2 is lost on the way.
    net.nodes.delete(s1.locator.key);
    let lost = false;
    net.hook = (t, from, to) => {
      if (from.name === 'i' && to.name === 's2' && !lost) {
        lost = true;
        return undefined;
      }
      return t.packet;
    };
    const start = net.now;
    i.engine.connect(idR.hit(2), [s1.locator, s2.locator], net.now);
    net.run(net.now + 10_000);
    expect(lost).toBe(true);
    const est = SimNetwork.eventsOf(i, 'established');
    expect(est).toHaveLength(1);
    expect(i.engine.association(idR.hit(2))?.locator.key).toBe('sim:r');
    expect(s2.engine.registry.stats.forwarded).toBe(1);
    // Through on the first retransmission round, not after the whole schedule.
    expect(I1s(net, 's2')).toHaveLength(2);
    expect(I1s(net, 's2')[1]!.at - start).toBe(1000 + SHOTGUN_PACE_MS);
  });

  it('one unreachable locator of several is dropped; the exchange fails only when none is left', () => {
    const net = new SimNetwork('shotgun-unreach');
    const r = net.addNode('r', idR, { idleTimeoutMs: 0 });
    const i = net.addNode('i', idI, { idleTimeoutMs: 0 });
    const v6 = { key: 'sim:v6-only' };
    i.engine.connect(idR.hit(2), [v6, r.locator], net.now);
    i.engine.unreachable(v6.key);
    net.run(net.now + 10_000);
    expect(SimNetwork.eventsOf(i, 'failed')).toHaveLength(0);
    expect(SimNetwork.eventsOf(i, 'established')).toHaveLength(1);
    const x = HostIdentity.generate();
    i.engine.connect(x.hit(2), [v6], net.now);
    i.engine.unreachable(v6.key);
    net.flush();
    expect(SimNetwork.eventsOf(i, 'failed').map((e) => e.reason)).toEqual(['unreachable']);
  });
});

describe('shotgun: readdress UPDATE retransmissions to every known locator', () => {
  const NEW_M = mapIpv4(new Uint8Array([10, 77, 0, 11]));
  const NEW_P = mapIpv4(new Uint8Array([10, 77, 0, 22]));

  /** M dialled P at P's two addresses (sim:p works, sim:p2 does not exist yet); established via sim:p. */
  function pair(seed: string) {
    const net = new SimNetwork(seed);
    const m = net.addNode('m', idI, { idleTimeoutMs: 0 });
    const p = net.addNode('p', idR, { idleTimeoutMs: 0 });
    m.engine.connect(idR.hit(2), [p.locator, { key: 'sim:p2' }], net.now);
    net.run(net.now + 5000);
    expect(m.engine.association(idR.hit(2))?.locator.key).toBe('sim:p');
    net.log.length = 0;
    return { net, m, p };
  }

  it('a double jump (both ends move at once): the retransmitted readdress reaches the peer at its other known address and both ends find each other', () => {
    const { net, m, p } = pair('double-jump');
    net.move(m, 'sim:m2');
    net.move(p, 'sim:p2');
    m.engine.updateLocators([NEW_M], net.now);
    p.engine.updateLocators([NEW_P], net.now);
    net.run(net.now + 30_000);
    expect(m.engine.association(idR.hit(2))?.locator.key).toBe('sim:p2');
    expect(p.engine.association(idI.hit(2))?.locator.key).toBe('sim:m2');
    // M's first readdress went to sim:p (gone); its first retransmission round also to sim:p2.
    const toP2 = net.log.filter((l) => l.from === 'm' && l.to === 'p' && l.packetType === PacketType.UPDATE);
    expect(toP2.length).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(m, 'path').filter((e) => e.state === 'dead')).toHaveLength(0);
  });

  it('the first readdress goes to the current locator alone; each retransmission is a paced round to the known ones', () => {
    const { net, m } = pair('rounds');
    m.engine.updateLocators([NEW_M], net.now);
    const sent: { to: string; at: number }[] = [];
    const drain = (now: number) => {
      for (let t = m.engine.pollTransmit(); t; t = m.engine.pollTransmit()) if (t.packetType === PacketType.UPDATE) sent.push({ to: t.to.key, at: now });
    };
    drain(net.now);
    // Nothing answers (the packets are never delivered): run M's timers through two rounds.
    for (let now = m.engine.nextTimeout()!; now < net.now + 3500; now = m.engine.nextTimeout()!) {
      m.engine.handleTimeout(now);
      drain(now);
    }
    const t0 = sent[0]!.at;
    expect(sent.map((s) => [s.to, s.at - t0])).toEqual([
      ['sim:p', 0],
      ['sim:p', 1000],
      ['sim:p2', 1000 + SHOTGUN_PACE_MS],
      ['sim:p', 3000],
      ['sim:p2', 3000 + SHOTGUN_PACE_MS],
    ]);
  });
});
