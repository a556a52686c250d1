/**
 * More of the UPDATE handler (src/core/update.ts) case by case: what the mutation run of issue 8
 * found unguarded after update-edges.test.ts. The order of queued checks, guards of the entry
 * points before the base exchange, rekey state (KEYMAT positions, DH secrets, SPIs freed, the
 * ACK awaited), what counts as an announced path, keepalives, and a path reported alive once.
 * A peer that sends unusual UPDATEs is played by sealing with its real keys (update-lab.ts).
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes.js';
import { announceCandidates, checkLocator, probePath, requestRegistration } from '../../src/core/update.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { decodeLocatorValue, getParam, PacketType, ParamType, parsePacket, type HipParam } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';
import {
  ackParam,
  assoc,
  drops,
  espAddress,
  espInfo,
  fromTo,
  idA,
  idB,
  inside,
  lab,
  sealUpdate,
  seqParam,
  silence,
  simCodec,
  transport,
  X,
  Y,
  type Lab,
  type Sent,
} from './update-lab.js';

describe('nothing is queued before the base exchange ends', () => {
  it('announceLocators, announceCandidates, requestRekey, probePath, checkLocator and requestRegistration in I1-SENT leave nothing for later', () => {
    const net = new SimNetwork('early-guards');
    const a = net.addNode('a', idA, { idleTimeoutMs: 0 });
    const b = net.addNode('b', idB, { idleTimeoutMs: 0 });
    const hitB = b.engine.localHit(2);
    a.engine.connect(hitB, [b.locator], net.now);
    net.flush();
    const announced: string[] = [];
    net.hook = (t, from) => {
      if (t.packetType === PacketType.UPDATE && getParam(parsePacket(t.packet), ParamType.LOCATOR_SET)) announced.push(from.name);
      return t.packet;
    };
    const ctx = inside(a).ctx;
    const early = assoc(a, hitB);
    a.engine.updateLocators([X], net.now);
    announceCandidates(ctx, early, [{ address: X, port: 4000 }], net.now);
    expect(a.engine.rekey(hitB, net.now)).toBe(false);
    probePath(ctx, early, net.now);
    probePath(ctx, early, net.now, 'loss');
    checkLocator(ctx, early, { key: 'sim:elsewhere' }, false, net.now);
    expect(requestRegistration(ctx, early, { type: ParamType.REG_REQUEST, lifetime: 0, regTypes: [1] } as HipParam, net.now)).toBe(false);
    expect(early.update.wants).toEqual([]);
    net.run(net.now + 10_000);
    expect(a.engine.association(hitB)?.state).toBe('ESTABLISHED');
    expect(announced).toEqual([]);
    expect(net.log.filter((x) => x.packetType === PacketType.UPDATE)).toEqual([]);
  });
});

describe('the order of queued checks', () => {
  const echoes = (l: Lab, who = 'b'): Sent[] => fromTo(l, who).filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED));

  it('a preempting check goes first even when it was already queued between other checks', () => {
    const l = lab('preempt-queued');
    for (const n of ['a2', 'a3', 'a4']) l.net.addNode(n, idA);
    silence(l, 'a');
    l.b.engine.updateLocators([X], l.net.now);
    l.net.flush();
    // Checks that do not preempt (as the relay's hole punching asks for them) queue behind the
    // announcement in flight.
    const ctx = inside(l.b).ctx;
    const a = assoc(l.b, l.hitA);
    for (const n of ['a2', 'a3', 'a4']) checkLocator(ctx, a, { key: `sim:${n}` }, false, l.net.now, false);
    l.net.flush();
    expect(echoes(l)).toEqual([]);
    // ESP from a3: its check preempts the announcement and goes out first, before a2's and a4's.
    l.b.engine.received(l.hitA, { key: 'sim:a3' }, 100, l.net.now);
    l.net.flush();
    expect(echoes(l).map((s) => s.to)).toEqual(['a3']);
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

describe('a deferred rekey answer whose rekey failed meanwhile', () => {
  it('a DH rekey request with a bad DH value, while our announcement is in flight: bad-dh, and no answer is sent later', () => {
    const l = lab('deferred-bad-dh');
    silence(l, 'a');
    l.a.engine.updateLocators([X], l.net.now);
    l.net.flush();
    const announce = fromTo(l, 'a', 'b')[0]!.pkt;
    const aPeer = l.a.engine.association(l.hitB)!.sa!.peerSpi;
    const notAPoint = { type: ParamType.DIFFIE_HELLMAN, values: [{ group: 7, publicValue: new Uint8Array(64).fill(7) }] } as HipParam;
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), espInfo(aPeer, 0x5000), notAPoint]), 'sim:b');
    expect(drops(l.a).map((d) => d[0])).toEqual(['bad-dh']);
    // The announcement is acknowledged: the answer that waited for it has no rekey left to answer.
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(getParam(announce, ParamType.SEQ)!.updateId)]), 'sim:b');
    l.net.run(l.net.now + 60_000);
    expect(fromTo(l, 'a', 'b').filter((s) => getParam(s.pkt, ParamType.ESP_INFO) && !getParam(s.pkt, ParamType.LOCATOR_SET))).toEqual([]);
    expect(drops(l.a).map((d) => d[0])).toEqual(['bad-dh']);
    expect(l.a.engine.association(l.hitB)?.state).toBe('ESTABLISHED');
    // A new rekey can start.
    expect(l.a.engine.rekey(l.hitB, l.net.now)).toBe(true);
  });
});

describe('HIPv1 rekeying', () => {
  it('a DH rekey is taken only in a group of dhGroupsV1', () => {
    const rsa = (): HostIdentity => HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    for (const [group, taken] of [
      [7, false],
      [3, true],
    ] as const) {
      const l = lab(`peer-rekey-v1-${group}`, { version: 1 }, { identities: [rsa(), rsa()] });
      silence(l, 'a');
      const key = inside(l.b).ctx.provider.dhGenerate(group);
      const aPeer = l.a.engine.association(l.hitB)!.sa!.peerSpi;
      const dh = { type: ParamType.DIFFIE_HELLMAN, values: [{ group, publicValue: key.publicValue }] } as HipParam;
      l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), espInfo(aPeer, 0x5000), dh]), 'sim:b');
      const answer = fromTo(l, 'a', 'b').at(-1)!.pkt;
      expect(getParam(answer, ParamType.ACK)!.updateIds, `group ${group}`).toEqual([1]);
      expect(getParam(answer, ParamType.ESP_INFO) !== undefined, `group ${group}`).toBe(taken);
      if (taken) expect(getParam(answer, ParamType.DIFFIE_HELLMAN)!.values[0]!.group).toBe(group);
    }
  });
});

describe('the work queue, more cases', () => {
  const echoes = (l: Lab, to: string): Sent[] => fromTo(l, 'b', to).filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED));

  it('ESP from the same address twice while its check waits: one check (one nonce), not two', () => {
    const l = lab('check-once');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    expect(l.b.engine.rekey(l.hitA, l.net.now)).toBe(true);
    l.net.flush();
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.net.run(l.net.now + 600_000);
    const nonces = new Set(echoes(l, 'a2').map((s) => Buffer.from(getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED)!.opaque).toString('hex')));
    expect(echoes(l, 'a2').length).toBeGreaterThan(0);
    expect(nonces.size).toBe(1);
  });

  it('a rekey may be asked for while an announcement waits in the queue', () => {
    const l = lab('rekey-behind-announce');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.b.engine.received(l.hitA, { key: 'sim:a2' }, 100, l.net.now);
    l.b.engine.updateLocators([X], l.net.now);
    l.net.flush();
    expect(assoc(l.b, l.hitA).update.wants.map((w) => w.kind)).toEqual(['announce']);
    expect(l.b.engine.rekey(l.hitA, l.net.now)).toBe(true);
    l.net.run(l.net.now + 600_000);
    expect(fromTo(l, 'b', 'a').filter((s) => getParam(s.pkt, ParamType.ESP_INFO) && !getParam(s.pkt, ParamType.LOCATOR_SET)).length).toBeGreaterThan(0);
  });

  it('transport candidates are copied: the caller may reuse its buffers while they wait', () => {
    const l = lab('candidates-copy');
    l.a.engine.rekey(l.hitB, l.net.now);
    const mine = X.slice();
    announceCandidates(inside(l.a).ctx, assoc(l.a, l.hitB), [{ address: mine, port: 4000 }], l.net.now);
    mine.fill(0);
    l.net.run(l.net.now + 10_000);
    const [set] = fromTo(l, 'a').filter((s) => getParam(s.pkt, ParamType.LOCATOR_SET));
    expect(decodeLocatorValue(getParam(set!.pkt, ParamType.LOCATOR_SET)!.locators[0]!).address).toEqual(X);
  });

  it('our own UPDATE is not sent again for an unrelated UPDATE of the peer while our rekey waits for its ESP_INFO', () => {
    const l = lab('rekey-probe-between');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.flush();
    const mine = fromTo(l, 'a', 'b')[0]!.pkt;
    // The peer probes (SEQ alone), then acknowledges our rekey without its ESP_INFO yet.
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1)]), 'sim:b');
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(getParam(mine, ParamType.SEQ)!.updateId)]), 'sim:b');
    l.net.run(l.net.now + 60_000);
    expect(fromTo(l, 'a', 'b').filter((s) => getParam(s.pkt, ParamType.ESP_INFO))).toHaveLength(1);
  });
});

describe('the rekey initiator switches only once its UPDATE is acknowledged', () => {
  it("the peer's ESP_INFO without an ACK of ours: the new inbound SA is announced, the switch waits for the ACK", () => {
    const l = lab('switch-after-ack');
    silence(l, 'b');
    l.a.engine.rekey(l.hitB, l.net.now);
    l.net.flush();
    const mine = fromTo(l, 'a', 'b')[0]!.pkt;
    const bLocal = l.b.engine.association(l.hitA)!.sa!.localSpi;
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [seqParam(1), espInfo(bLocal, 0x6000)]), 'sim:b');
    expect(SimNetwork.eventsOf(l.a, 'rekey-inbound')).toHaveLength(1);
    expect(SimNetwork.eventsOf(l.a, 'rekeyed')).toEqual([]);
    expect(l.a.engine.association(l.hitB)!.sa!.peerSpi).not.toBe(0x6000);
    l.deliver(l.a, sealUpdate(l.b, l.hitA, [ackParam(getParam(mine, ParamType.SEQ)!.updateId)]), 'sim:b');
    expect(SimNetwork.eventsOf(l.a, 'rekeyed').map((e) => e.sa.peerSpi)).toEqual([0x6000]);
  });
});

describe('what counts as an announced path (data may follow it on credit)', () => {
  it('transport candidates, and the source of an UPDATE without a set, are checked but not announced', () => {
    const l = lab('not-announced', {}, { locators: simCodec });
    l.net.addNode('c1', idB);
    l.net.addNode('a2', idA);
    silence(l, 'a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.LOCATOR_SET, locators: [transport(1)] }]), 'sim:a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(2)]), 'sim:a2');
    const paths = l.b.engine.paths(l.hitA);
    expect(paths.find((p) => p.key === 'sim:c1')).toMatchObject({ state: 'unverified', announced: false });
    expect(paths.find((p) => p.key === 'sim:a2')).toMatchObject({ state: 'unverified', announced: false });
  });

  it('a set mixing transport candidates and an address, from another address, is no move: its source is not checked', () => {
    const l = lab('mixed-set');
    l.net.addNode('c9', idA);
    silence(l, 'a');
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.LOCATOR_SET, locators: [espAddress(9), transport(1)] }]), 'sim:c9');
    expect(fromTo(l, 'b', 'c9').filter((s) => getParam(s.pkt, ParamType.ECHO_REQUEST_SIGNED))).toEqual([]);
    expect(l.b.engine.paths(l.hitA).map((p) => p.key)).toEqual(['sim:a']);
  });

  it('a move that is also a rekey: the check carries no ESP_INFO of a readdress (OLD = NEW), the rekey answer follows', () => {
    const l = lab('move-and-rekey');
    l.net.addNode('a2', idA);
    silence(l, 'a');
    const bPeer = l.b.engine.association(l.hitA)!.sa!.peerSpi;
    l.deliver(l.b, sealUpdate(l.a, l.hitB, [seqParam(1), { type: ParamType.LOCATOR_SET, locators: [espAddress(1)] }, espInfo(bPeer, 0x5000)]), 'sim:a2');
    const [check] = fromTo(l, 'b', 'a2');
    expect(getParam(check!.pkt, ParamType.ECHO_REQUEST_SIGNED)).toBeDefined();
    expect(getParam(check!.pkt, ParamType.ESP_INFO)).toBeUndefined();
    expect(getParam(check!.pkt, ParamType.ACK)!.updateIds).toEqual([1]);
  });
});

describe('a dead path comes back once', () => {
  it("reports 'alive' at the first authentic packet after 'dead', not at every one", () => {
    const l = lab('alive-once', { livenessMs: 30_000 });
    const record = l.net.hook!;
    l.net.hook = () => undefined;
    l.net.run(l.net.now + 200_000);
    expect(SimNetwork.eventsOf(l.a, 'path').map((e) => e.state)).toEqual(['dead']);
    l.net.hook = record;
    l.a.engine.received(l.hitB, l.b.locator, 100, l.net.now);
    l.a.engine.received(l.hitB, l.b.locator, 100, l.net.now + 1);
    l.net.flush();
    expect(SimNetwork.eventsOf(l.a, 'path').map((e) => e.state)).toEqual(['dead', 'alive']);
  });
});
