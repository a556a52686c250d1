/**
 * UPDATE in the in-memory network: readdressing with a return-routability check, NAT rebinding,
 * a replayed packet from a third host, rekeying, liveness probes and keepalives, with loss and
 * reordering like the BEX tests.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import type { EngineOptions } from '../../src/core/config.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getParam, mapIpv4, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork, type Impairments, type SimNode } from './sim.js';

const idA = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
const idB = HostIdentity.generate({ algorithm: 'ecdsa-p256' });
const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const NEW_ADDRESS = mapIpv4(new Uint8Array([10, 77, 0, 11]));

interface Pair {
  net: SimNetwork;
  a: SimNode;
  b: SimNode;
  hitA: Uint8Array;
  hitB: Uint8Array;
}

function established(seed: string, opts: EngineOptions = {}, version: 1 | 2 = 2, imp: Impairments = {}): Pair {
  const net = new SimNetwork(seed, imp);
  const a = net.addNode('a', version === 1 ? rsaA : idA, { version, ...opts });
  const b = net.addNode('b', version === 1 ? rsaB : idB, { version, ...opts });
  const hitA = a.engine.localHit(version);
  const hitB = b.engine.localHit(version);
  a.engine.connect(hitB, [b.locator], net.now);
  net.run(net.now + 60_000);
  expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  expect(b.engine.association(hitA)?.state).toMatch(/ESTABLISHED|R2-SENT/);
  net.impairments = {};
  net.log.length = 0;
  return { net, a, b, hitA, hitB };
}

const updates = (net: SimNetwork) => net.log.filter((l) => l.packetType === PacketType.UPDATE);

describe('readdressing (RFC 8046): the mobile host announces, the peer checks, then moves', () => {
  it('moves the peer to the new address after a 3-packet UPDATE, with both SAs untouched', () => {
    const { net, a, b, hitA, hitB } = established('move');
    const saBefore = b.engine.association(hitA)!.sa!;
    net.move(a, 'sim:a-moved');
    a.engine.updateLocators([NEW_ADDRESS], net.now);
    net.run(net.now + 10_000);
    expect(updates(net).map((u) => `${u.from}>${u.to}`)).toEqual(['a>b', 'b>a', 'a>b']);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-moved');
    const moved = SimNetwork.eventsOf(b, 'locator');
    expect(moved.map((e) => [e.previous.key, e.locator.key])).toEqual([['sim:a', 'sim:a-moved']]);
    expect(b.engine.association(hitA)!.sa).toBe(saBefore);
    expect(b.engine.paths(hitA)).toEqual([
      { key: 'sim:a', state: 'deprecated', announced: false, checking: false },
      { key: 'sim:a-moved', state: 'active', announced: true, checking: false },
    ]);
    // The mobile side's view of the peer did not change.
    expect(a.engine.association(hitB)!.locator.key).toBe('sim:b');
    expect(SimNetwork.eventsOf(a, 'path')).toEqual([]);
  });

  it('lets data follow an announced move on credit only, and never before the peer sent data', () => {
    const { net, a, b, hitA } = established('credit');
    net.move(a, 'sim:a-moved');
    // Hold the peer's check in flight: its echo request is lost.
    net.hook = (t, from) => (from === b && t.packetType === PacketType.UPDATE ? undefined : t.packet);
    a.engine.updateLocators([NEW_ADDRESS], net.now);
    net.run(net.now + 100);
    expect(b.engine.paths(hitA).find((p) => p.key === 'sim:a-moved')).toMatchObject({ state: 'unverified', announced: true, checking: true });
    // The UPDATE itself earned some credit (its size); 1000 bytes of data need more.
    expect(b.engine.dataLocator(hitA, 10_000, net.now)!.key).toBe('sim:a');
    b.engine.received(hitA, { key: 'sim:a-moved' }, 3000, net.now);
    expect(b.engine.dataLocator(hitA, 1000, net.now)!.key).toBe('sim:a-moved');
    expect(b.engine.dataLocator(hitA, 1000, net.now)!.key).toBe('sim:a-moved');
    // Credit spent: back to the verified locator, not to the unverified one.
    expect(b.engine.dataLocator(hitA, 2000, net.now)!.key).toBe('sim:a');
    net.hook = undefined;
    net.run(net.now + 30_000);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-moved');
  });

  for (const seed of ['l1', 'l2', 'l3', 'l4', 'l5', 'l6']) {
    it(`completes through 30% loss, duplication and reordering (seed ${seed})`, () => {
      const { net, a, b, hitA } = established(`lossy-${seed}`);
      net.impairments = { loss: 0.3, duplicate: 0.1, reorder: 0.3, jitterMs: 20 };
      net.move(a, 'sim:a-moved');
      a.engine.updateLocators([NEW_ADDRESS], net.now);
      net.run(net.now + 60_000);
      expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-moved');
      expect(SimNetwork.eventsOf(b, 'locator')).toHaveLength(1);
    });
  }

  it('answers a retransmitted UPDATE again without processing it twice', () => {
    const { net, a, b, hitA } = established('dup');
    net.move(a, 'sim:a-moved');
    let dropped = 0;
    // Lose the mobile host's last packet (ACK + echo response) once.
    net.hook = (t, from) => {
      if (from === a && t.packetType === PacketType.UPDATE && getParam(parsePacket(t.packet), ParamType.ECHO_RESPONSE_SIGNED) && dropped++ === 0) return undefined;
      return t.packet;
    };
    a.engine.updateLocators([NEW_ADDRESS], net.now);
    net.run(net.now + 10_000);
    expect(updates(net).map((u) => `${u.from}>${u.to}${u.dropped ? ' lost' : ''}`)).toEqual(['a>b', 'b>a', 'a>b lost', 'b>a', 'a>b']);
    expect(a.engine.stats.dropped.duplicate).toBe(1);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-moved');
  });

  it('an announcement interrupted by a check of the peer is sent again, not lost', () => {
    const { net, a, b, hitA, hitB } = established('announce-interrupted');
    net.move(a, 'sim:a-moved');
    // a's announcement is in flight when ESP from b's new address arrives: a must check b there.
    net.hook = (t, from) => (from === a && t.packetType === PacketType.UPDATE && getParam(parsePacket(t.packet), ParamType.LOCATOR_SET) && net.now < 5 ? undefined : t.packet);
    a.engine.updateLocators([NEW_ADDRESS], net.now);
    net.move(b, 'sim:b-moved');
    a.engine.received(hitB, { key: 'sim:b-moved' }, 100, net.now);
    net.run(net.now + 60_000);
    expect(a.engine.association(hitB)!.locator.key).toBe('sim:b-moved');
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-moved');
  });

  it('reports a dead path when the peer never acknowledges the announcement', () => {
    const { net, a, hitB } = established('dead-announce');
    net.move(a, 'sim:a-moved');
    net.hook = () => undefined;
    a.engine.updateLocators([NEW_ADDRESS], net.now);
    net.run(net.now + 120_000);
    expect(SimNetwork.eventsOf(a, 'path').map((e) => e.state)).toEqual(['dead']);
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  });
});

describe('an authentic ESP packet from a new address starts a check, never a switch', () => {
  it('NAT rebinding: the peer is found at its new port after one echo', () => {
    const { net, a, b, hitA } = established('rebind');
    net.move(a, 'sim:a-rebound');
    b.engine.received(hitA, { key: 'sim:a-rebound' }, 100, net.now);
    // Until the echo comes back, data still goes to the verified address.
    expect(b.engine.dataLocator(hitA, 10, net.now)!.key).toBe('sim:a');
    net.run(net.now + 10_000);
    expect(updates(net).map((u) => `${u.from}>${u.to}`)).toEqual(['b>a', 'a>b']);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a-rebound');
    expect(b.engine.dataLocator(hitA, 10, net.now)!.key).toBe('sim:a-rebound');
    // A rebinding is no readdress: nobody announced anything (SA windows stay as they are).
    expect([...SimNetwork.eventsOf(a, 'readdressed'), ...SimNetwork.eventsOf(b, 'readdressed')]).toEqual([]);
  });

  it('a replayed packet from a third host does not redirect anything', () => {
    const { net, b, hitA } = established('replay');
    const mallory = net.addNode('mallory', HostIdentity.generate({ algorithm: 'ecdsa-p256' }));
    // Twenty replayed packets, as in the issue; the first starts a check, the rest wait for it.
    for (let i = 0; i < 20; i++) b.engine.received(hitA, mallory.locator, 100, net.now + i);
    net.run(net.now + 120_000);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a');
    expect(b.engine.dataLocator(hitA, 10, net.now)!.key).toBe('sim:a');
    expect(SimNetwork.eventsOf(b, 'locator')).toEqual([]);
    expect(b.engine.paths(hitA).find((p) => p.key === mallory.locator.key)?.state).toBe('deprecated');
    // Mallory received only the check and its retransmissions, nothing it could answer.
    const toMallory = net.log.filter((l) => l.to === 'mallory');
    expect(toMallory.every((l) => l.packetType === PacketType.UPDATE)).toBe(true);
    expect(toMallory.length).toBe(1 + b.engine.config.retransmit.updateRetries);
  });

  it('keeps its locator table bounded under a flood of forged sources', () => {
    const { net, b, hitA } = established('flood');
    for (let i = 0; i < 100; i++) b.engine.received(hitA, { key: `sim:forged-${i}` }, 100, net.now);
    expect(b.engine.paths(hitA).length).toBeLessThanOrEqual(8);
    expect(b.engine.association(hitA)!.locator.key).toBe('sim:a');
  });
});

function expectRekeyed(a: SimNode, b: SimNode, hitA: Uint8Array, hitB: Uint8Array) {
  const [ra] = SimNetwork.eventsOf(a, 'rekeyed');
  const [rb] = SimNetwork.eventsOf(b, 'rekeyed');
  expect(ra, 'a rekeyed').toBeDefined();
  expect(rb, 'b rekeyed').toBeDefined();
  const [ea] = SimNetwork.eventsOf(a, 'established');
  expect(ra!.sa.peerSpi).toBe(rb!.sa.localSpi);
  expect(rb!.sa.peerSpi).toBe(ra!.sa.localSpi);
  expect(ra!.previousLocalSpi).toBe(ea!.sa.localSpi);
  expect(ra!.sa.localSpi).not.toBe(ea!.sa.localSpi);
  expect(bytesEqual(ra!.sa.outbound.enc, rb!.sa.inbound.enc)).toBe(true);
  expect(bytesEqual(ra!.sa.inbound.enc, rb!.sa.outbound.enc)).toBe(true);
  expect(bytesEqual(ra!.sa.outbound.auth, rb!.sa.inbound.auth)).toBe(true);
  // New keys: never the BEX's (a key is used with one counter space only).
  expect(bytesEqual(ra!.sa.outbound.enc, ea!.sa.outbound.enc)).toBe(false);
  expect(bytesEqual(ra!.sa.outbound.enc, ra!.sa.inbound.enc)).toBe(false);
  expect(a.engine.association(hitB)!.sa).toBe(ra!.sa);
  expect(b.engine.association(hitA)!.sa).toBe(rb!.sa);
}

describe('rekeying with UPDATE and ESP_INFO (RFC 7402 §6.9)', () => {
  it('draws the next ESP keys from KEYMAT on both sides', () => {
    const { net, a, b, hitA, hitB } = established('rekey');
    expect(a.engine.rekey(hitB, net.now)).toBe(true);
    expect(a.engine.rekey(hitB, net.now)).toBe(false);
    net.run(net.now + 10_000);
    expect(updates(net).map((u) => `${u.from}>${u.to}`)).toEqual(['a>b', 'b>a', 'a>b']);
    expectRekeyed(a, b, hitA, hitB);
    expect(SimNetwork.eventsOf(a, 'rekeyed')[0]!.sa.keymatIndex).toBeGreaterThan(SimNetwork.eventsOf(a, 'established')[0]!.sa.keymatIndex);
  });

  it('each side can receive on the new SA before it switches: the final ACK lost once changes nothing', () => {
    const { net, a, b, hitA, hitB } = established('rekey-early');
    let finalAcks = 0;
    net.hook = (t, from) => {
      const p = parsePacket(t.packet);
      const finalAck = from === a && t.packetType === PacketType.UPDATE && !getParam(p, ParamType.SEQ);
      return finalAck && finalAcks++ === 0 ? undefined : t.packet;
    };
    a.engine.rekey(hitB, net.now);
    net.run(net.now + 100);
    // a switched; b has not heard the ACK yet but already knows the new inbound SA a sends on.
    const [ra] = SimNetwork.eventsOf(a, 'rekeyed');
    const [early] = SimNetwork.eventsOf(b, 'rekey-inbound');
    expect(SimNetwork.eventsOf(b, 'rekeyed')).toEqual([]);
    expect(early!.sa.localSpi).toBe(ra!.sa.peerSpi);
    expect(bytesEqual(early!.sa.inbound.enc, ra!.sa.outbound.enc)).toBe(true);
    net.run(net.now + 10_000);
    // b retransmitted its UPDATE; a recognised it and sent its ACK again.
    expect(finalAcks).toBe(2);
    expectRekeyed(a, b, hitA, hitB);
  });

  it('UPDATEs and probes do not keep an unused association from its idle close', () => {
    const { net, a } = established('idle', { livenessMs: 20_000, keepaliveMs: 15_000, idleTimeoutMs: 100_000 });
    net.run(net.now + 300_000);
    expect(SimNetwork.eventsOf(a, 'closed').map((e) => e.by)).toContain('idle');
  });

  it("both ends rekeying at once: each takes the other's ESP_INFO as the answer", () => {
    const { net, a, b, hitA, hitB } = established('rekey-both');
    expect(a.engine.rekey(hitB, net.now, { dh: true })).toBe(true);
    expect(b.engine.rekey(hitA, net.now, { dh: true })).toBe(true);
    net.run(net.now + 10_000);
    expectRekeyed(a, b, hitA, hitB);
    expect(a.engine.rekey(hitB, net.now)).toBe(true);
  });

  it('a second rekey draws fresh keys again', () => {
    const { net, a, b, hitB } = established('rekey2');
    a.engine.rekey(hitB, net.now);
    net.run(net.now + 10_000);
    b.engine.rekey(a.engine.localHit(2), net.now);
    net.run(net.now + 10_000);
    const keys = [...SimNetwork.eventsOf(a, 'rekeyed'), ...SimNetwork.eventsOf(a, 'established')].map((e) => Buffer.from(e.sa.outbound.enc).toString('hex'));
    expect(new Set(keys).size).toBe(3);
    const [, second] = SimNetwork.eventsOf(b, 'rekeyed');
    expect(bytesEqual(second!.sa.inbound.enc, SimNetwork.eventsOf(a, 'rekeyed')[1]!.sa.outbound.enc)).toBe(true);
  });

  it('with a new DH key (and with the noble-free default provider) through loss', () => {
    const { net, a, b, hitA, hitB } = established('rekey-dh');
    net.impairments = { loss: 0.25, reorder: 0.2 };
    a.engine.rekey(hitB, net.now, { dh: true });
    net.run(net.now + 120_000);
    expectRekeyed(a, b, hitA, hitB);
    const sent = net.log.filter((l) => l.packetType === PacketType.UPDATE);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(SimNetwork.eventsOf(a, 'rekeyed')[0]!.sa.keymatIndex).toBe(0);
  });

  it('HIPv1 (RSA, suite 1) rekeys too', () => {
    const { net, a, b, hitA, hitB } = established('rekey-v1', {}, 1);
    a.engine.rekey(hitB, net.now);
    net.run(net.now + 10_000);
    expectRekeyed(a, b, hitA, hitB);
  });
});

describe('sends that fail because the network is unreachable', () => {
  it('fail a base exchange at once instead of after its retransmit schedule', () => {
    const net = new SimNetwork('unreach');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = () => undefined;
    a.engine.connect(b.engine.localHit(2), [b.locator], net.now);
    net.run(net.now + 10);
    a.engine.unreachable(b.locator.key);
    net.flush();
    expect(SimNetwork.eventsOf(a, 'failed').map((e) => e.reason)).toEqual(['unreachable']);
    expect(a.engine.associationCount).toBe(0);
  });

  it('leave an established association alone (the host announces its new address instead)', () => {
    const { net, a, hitB } = established('unreach-est');
    a.engine.unreachable('sim:b');
    net.flush();
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
  });
});

describe('liveness and NAT keepalives', () => {
  it('probes a silent path and reports it dead when nothing answers, alive when the peer is back', () => {
    const { net, a, b, hitA, hitB } = established('live', { livenessMs: 30_000 });
    const start = net.now;
    net.hook = () => undefined;
    net.run(start + 200_000);
    const dead = SimNetwork.eventsOf(a, 'path');
    expect(dead.map((e) => e.state)).toEqual(['dead']);
    net.hook = undefined;
    // The peer speaks again (its own probe gets through): the path is alive.
    b.engine.received(hitA, a.locator, 100, net.now);
    a.engine.received(hitB, b.locator, 100, net.now);
    net.run(net.now + 1000);
    expect(SimNetwork.eventsOf(a, 'path').map((e) => e.state)).toEqual(['dead', 'alive']);
  });

  it('a probe the peer acknowledges reports nothing', () => {
    const { net, a } = established('live-ok', { livenessMs: 30_000, idleTimeoutMs: 0 });
    net.run(net.now + 100_000);
    expect(SimNetwork.eventsOf(a, 'path')).toEqual([]);
    expect(updates(net).length).toBeGreaterThan(0);
  });

  it('sends a parameterless NOTIFY only when the path is idle', () => {
    const { net, a, hitB } = established('keepalive', { keepaliveMs: 15_000, idleTimeoutMs: 0 });
    const start = net.now;
    net.run(start + 61_000);
    const idle = net.log.filter((l) => l.from === 'a' && l.packetType === PacketType.NOTIFY).length;
    expect(idle).toBe(4);
    // Data every 5 s: no keepalive at all.
    net.log.length = 0;
    const t0 = net.now;
    for (let t = t0; t < t0 + 60_000; t += 5000) {
      net.run(t);
      a.engine.sent(hitB, t);
    }
    net.run(t0 + 60_000);
    expect(net.log.filter((l) => l.from === 'a' && l.packetType === PacketType.NOTIFY)).toEqual([]);
  });
});
