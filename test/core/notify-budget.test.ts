/**
 * Issue 8 item 3: no private-key operation for a stranger beyond the precomputed R1s. Error
 * replies to unauthenticated packets are unsigned NOTIFYs under one global budget; a NOTIFY
 * is only believed when signed by a key we know.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { formatHit } from '../../src/crypto/hit.js';
import { emitPacket, getParam, NotifyType, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { seededRandom, SimNetwork } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();

function countingSigner(): { provider: CryptoProvider; signs: () => number } {
  let n = 0;
  return {
    provider: { ...nodeCrypto, sign: (k, s, d) => (n++, nodeCrypto.sign(k, s, d)) },
    signs: () => n,
  };
}

/** A HIPv2 packet from a random HIT (the HIT prefix is kept so it still looks like one). */
function strangerPacket(random: (n: number) => Uint8Array, type: number, params: Parameters<typeof emitPacket>[0]['params']): Uint8Array {
  const senderHit = idA.hit().slice();
  senderHit.set(random(12), 4);
  return emitPacket({ version: 2, type, controls: 0, checksum: 0, senderHit, receiverHit: idB.hit(), params });
}

describe('error replies to strangers', () => {
  it('a flood of I1s with no common DH group and of unknown critical parameters costs no signature', () => {
    const net = new SimNetwork('notify-flood');
    const counting = countingSigner();
    const b = net.addNode('b', idB, { notifyPerSecond: 5 }, { provider: counting.provider });
    const m = net.addNode('m', HostIdentity.generate());
    const replies: Uint8Array[] = [];
    net.hook = (t) => (t.to.key === m.locator.key && replies.push(t.packet), undefined);
    const random = seededRandom('strangers');
    for (let i = 0; i < 1000; i++) {
      net.now = i; // 1000 packets in one second
      const pkt =
        i % 2 === 0
          ? strangerPacket(random, PacketType.I1, [{ type: ParamType.DH_GROUP_LIST, groups: [99] }])
          : strangerPacket(random, PacketType.I1, [{ type: ParamType.DH_GROUP_LIST, groups: [7] }, { type: 1001, raw: true, contents: new Uint8Array(0) }]);
      net.inject(b, pkt, m);
    }
    expect(counting.signs()).toBe(0);
    expect(replies).toHaveLength(5);
    for (const r of replies) {
      const p = parsePacket(r);
      expect(p.type).toBe(PacketType.NOTIFY);
      expect(getParam(p, ParamType.HIP_SIGNATURE)).toBeUndefined();
    }
    expect(b.engine.stats.notifiesSuppressed).toBe(995);
    net.now = 1500; // a new second, a new budget
    net.inject(b, strangerPacket(random, PacketType.I1, [{ type: ParamType.DH_GROUP_LIST, groups: [99] }]), m);
    expect(replies).toHaveLength(6);
  });

  it('I1s from strangers are answered from the signed R1 template: one signature per generation', () => {
    const net = new SimNetwork('r1-flood');
    const counting = countingSigner();
    const b = net.addNode('b', idB, {}, { provider: counting.provider });
    const m = net.addNode('m', HostIdentity.generate());
    net.hook = () => undefined;
    const random = seededRandom('i1s');
    for (let i = 0; i < 300; i++) net.inject(b, strangerPacket(random, PacketType.I1, [{ type: ParamType.DH_GROUP_LIST, groups: [7] }]), m);
    expect(counting.signs()).toBe(1);
  });

  it('a policy refusal goes to a peer that proved its identity, signed, and is reported as authentic', () => {
    const net = new SimNetwork('policy-notify');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB, { policy: [] });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 100);
    const n = SimNetwork.eventsOf(a, 'notify');
    expect(n[0]?.notifyType).toBe(NotifyType.BLOCKED_BY_POLICY);
    expect(n[0]?.authentic).toBe(true);
  });
});

describe('NOTIFYs received', () => {
  function established() {
    const net = new SimNetwork('notify-rx');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    return { net, a, b };
  }
  const unsignedFromB = () =>
    emitPacket({
      version: 2, type: PacketType.NOTIFY, controls: 0, checksum: 0, senderHit: idB.hit(), receiverHit: idA.hit(),
      params: [{ type: ParamType.NOTIFICATION, reserved: 0, notifyType: NotifyType.AUTHENTICATION_FAILED, data: new Uint8Array(0) }],
    });

  it('an unsigned NOTIFY claiming to come from a peer whose key we know is dropped', () => {
    const { net, a, b } = established();
    net.inject(a, unsignedFromB(), b);
    expect(SimNetwork.eventsOf(a, 'notify')).toHaveLength(0);
    expect(SimNetwork.eventsOf(a, 'dropped').some((d) => d.reason === 'missing-parameter' && d.packetType === PacketType.NOTIFY)).toBe(true);
  });

  it('an unsigned NOTIFY from a peer we know nothing of is reported as not authentic', () => {
    const net = new SimNetwork('notify-anon');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.inject(a, unsignedFromB(), b);
    const n = SimNetwork.eventsOf(a, 'notify');
    expect(n).toHaveLength(1);
    expect(n[0]!.authentic).toBe(false);
    expect(formatHit(n[0]!.peerHit)).toBe(formatHit(idB.hit()));
  });
});
