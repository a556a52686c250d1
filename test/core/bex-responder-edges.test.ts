// The responder's I2 handling where an association already exists or the I2 chose something
// it was not offered (RFC 7401 §4.4.3, §6.9): which side of a simultaneous open drops the
// crossing I2, how long a BEX is reported to have taken when it replaced an earlier one, and
// what a refused I2 is answered with (an unsigned NOTIFY naming the error, a drop naming why).
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipState } from '../../src/core/association.js';
import { getParam, NotifyType, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { sealPacket } from '../../src/core/sealing.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import { SimNetwork, type SimNode } from './sim.js';

const id1 = HostIdentity.generate();
const id2 = HostIdentity.generate();
const [lowId, highId] = Buffer.compare(Buffer.from(id1.hit()), Buffer.from(id2.hit())) < 0 ? [id1, id2] : [id2, id1];

function drops(n: SimNode, reason: string) {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason);
}

/** Two nodes; packets of the types in `hold` are recorded but not delivered. */
function net2(seed: string) {
  const net = new SimNetwork(seed);
  const low = net.addNode('low', lowId);
  const high = net.addNode('high', highId);
  const hold = new Set<number>();
  const held: { type: number; from: SimNode; packet: Uint8Array }[] = [];
  const sent: { type: number; from: string; to: string; packet: Uint8Array }[] = [];
  net.hook = (t, from, to) => {
    sent.push({ type: t.packetType, from: from.name, to: to.name, packet: t.packet.slice() });
    if (hold.has(t.packetType)) {
      held.push({ type: t.packetType, from, packet: t.packet.slice() });
      return undefined;
    }
    return t.packet;
  };
  return { net, low, high, hold, held, sent };
}

describe('simultaneous open, both sides in I2-SENT', () => {
  it('the host with the lower HIT drops the crossing I2; the higher one answers it as responder', () => {
    const s = net2('crossing-i2');
    s.hold.add(PacketType.I2);
    s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 10);
    s.high.engine.connect(lowId.hit(), [s.low.locator], s.net.now);
    s.net.run(s.net.now + 10);
    expect(s.low.engine.association(highId.hit())?.state).toBe(HipState.I2_SENT);
    expect(s.high.engine.association(lowId.hit())?.state).toBe(HipState.I2_SENT);
    const fromLow = s.held.find((h) => h.from === s.low)!.packet;
    const fromHigh = s.held.find((h) => h.from === s.high)!.packet;
    s.hold.clear();
    s.net.inject(s.low, fromHigh, s.high);
    s.net.inject(s.high, fromLow, s.low);
    expect(drops(s.low, 'simultaneous-open-lost')).toHaveLength(1);
    expect(drops(s.high, 'simultaneous-open-lost')).toHaveLength(0);
    expect(s.high.engine.association(lowId.hit())?.role).toBe('responder');
    s.net.run(s.net.now + 1000);
    expect(s.low.engine.association(highId.hit())?.state).toBe(HipState.ESTABLISHED);
    expect(SimNetwork.eventsOf(s.low, 'established')[0]!.role).toBe('initiator');
  });
});

describe('how long the BEX took (elapsedMs of established)', () => {
  it('counts from our own earlier attempt when the peer’s BEX replaces one still in progress', () => {
    const s = net2('elapsed-inprogress');
    // high starts a BEX whose I1s are all lost ...
    s.hold.add(PacketType.I1);
    s.high.engine.connect(lowId.hit(), [s.low.locator], s.net.now);
    s.net.flush();
    s.hold.clear();
    // ... 700 ms later low starts one; high (greater HIT) answers it as responder.
    s.net.now += 700;
    s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 100);
    const est = SimNetwork.eventsOf(s.high, 'established');
    expect(est).toHaveLength(1);
    expect(est[0]!.role).toBe('responder');
    expect(est[0]!.elapsedMs).toBeGreaterThanOrEqual(700);
  });

  it('counts from the new I2 when it replaces an association that was already established', () => {
    const s = net2('elapsed-replace');
    s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 1000);
    expect(SimNetwork.eventsOf(s.high, 'established')).toHaveLength(1);
    // low restarts (new port, state lost) long after and runs a new BEX under the same HIT.
    s.net.now += 100_000;
    s.net.nodes.delete(s.low.locator.key);
    const again = s.net.addNode('low-restarted', lowId);
    again.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 1000);
    const est = SimNetwork.eventsOf(s.high, 'established');
    expect(est).toHaveLength(2);
    expect(est[1]!.elapsedMs).toBeLessThan(1000);
  });

  it('counts from the new I2 when it replaces an association that is closing', () => {
    const s = net2('elapsed-closing');
    s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 1000);
    s.net.now += 100_000;
    s.hold.add(PacketType.CLOSE);
    s.high.engine.close(lowId.hit(), s.net.now);
    s.net.flush();
    expect(s.high.engine.association(lowId.hit())?.state).toBe(HipState.CLOSING);
    s.net.nodes.delete(s.low.locator.key);
    const again = s.net.addNode('low-restarted', lowId);
    again.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.run(s.net.now + 100);
    const est = SimNetwork.eventsOf(s.high, 'established');
    expect(est).toHaveLength(2);
    expect(est[1]!.elapsedMs).toBeLessThan(1000);
  });
});

/** An I2 re-emitted with a changed parameter (its MAC and signature no longer match). */
function changed(i2: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(i2.slice());
  change(p);
  return sealPacket(nodeCrypto, p, undefined, undefined);
}

describe('an I2 choosing what was not offered', () => {
  const cases: [string, (p: HipPacket) => void, string, number][] = [
    ['a DH group of no R1', (p) => void (getParam(p, ParamType.DIFFIE_HELLMAN)!.values[0]!.group = 8), 'DH group not offered', NotifyType.INVALID_DH_CHOSEN],
    ['a HIP cipher not offered', (p) => void (getParam(p, ParamType.HIP_CIPHER)!.ciphers = [1]), 'HIP cipher not offered', NotifyType.INVALID_HIP_CIPHER_CHOSEN],
    ['an ESP transform not offered', (p) => void (getParam(p, ParamType.ESP_TRANSFORM)!.suites = [12]), 'ESP transform not offered', NotifyType.INVALID_ESP_TRANSFORM_CHOSEN],
  ];
  for (const [name, change, detail, notifyType] of cases) {
    it(`${name}: dropped (${detail}) and answered with an unsigned NOTIFY`, () => {
      const s = net2(`i2-${detail}`);
      s.hold.add(PacketType.I2);
      s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
      s.net.run(s.net.now + 10);
      const i2 = s.held[0]!.packet;
      s.net.inject(s.high, changed(i2, change), s.low);
      const n = drops(s.high, 'negotiation');
      expect(n.map((d) => d.detail)).toEqual([detail]);
      const notifies = s.sent.filter((x) => x.type === PacketType.NOTIFY && x.from === 'high').map((x) => parsePacket(x.packet));
      expect(notifies).toHaveLength(1);
      expect(getParam(notifies[0]!, ParamType.NOTIFICATION)!.notifyType).toBe(notifyType);
      expect(getParam(notifies[0]!, ParamType.HIP_SIGNATURE)).toBeUndefined();
      expect(s.high.engine.association(lowId.hit())).toBeUndefined();
      // The real I2 still works afterwards: the refused one bought nothing and spoiled nothing.
      s.net.inject(s.high, i2, s.low);
      expect(s.high.engine.association(lowId.hit())?.state).toBe(HipState.R2_SENT);
    });
  }

  it('an I1 offering no group we have is dropped naming it, and answered NO_DH_PROPOSAL_CHOSEN', () => {
    const s = net2('i1-no-group');
    s.hold.add(PacketType.I1);
    s.low.engine.connect(highId.hit(), [s.high.locator], s.net.now);
    s.net.flush();
    const i1 = s.held[0]!.packet;
    s.net.inject(s.high, changed(i1, (p) => void (getParam(p, ParamType.DH_GROUP_LIST)!.groups = [99])), s.low);
    expect(drops(s.high, 'negotiation').map((d) => d.detail)).toEqual(['no common DH group']);
    const notify = s.sent.find((x) => x.type === PacketType.NOTIFY && x.from === 'high')!;
    expect(getParam(parsePacket(notify.packet), ParamType.NOTIFICATION)!.notifyType).toBe(NotifyType.NO_DH_PROPOSAL_CHOSEN);
    expect(s.sent.filter((x) => x.type === PacketType.R1)).toHaveLength(0);
  });
});
