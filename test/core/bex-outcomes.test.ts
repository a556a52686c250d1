/**
 * Issue 8 item 8 (core): what moves an association forward, and how a refused BEX is reported.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { seededRandom, SimNetwork } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const idM = HostIdentity.generate();

describe('R2-SENT needs data from the peer (RFC 7401 §4.4.2)', () => {
  it('our own outbound data does not move R2-SENT to ESTABLISHED; the peer\'s does', () => {
    const net = new SimNetwork('touch');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 100);
    expect(b.engine.association(idA.hit())!.state).toBe('R2-SENT');
    b.engine.touch(idA.hit(), net.now, 'local');
    expect(b.engine.association(idA.hit())!.state).toBe('R2-SENT');
    b.engine.touch(idA.hit(), net.now, 'peer');
    expect(b.engine.association(idA.hit())!.state).toBe('ESTABLISHED');
  });
});

describe('a BEX answered by the wrong identity fails naming why', () => {
  it('R1s whose HOST_ID does not hash to the HIT: failed with hit-mismatch, not timeout', () => {
    const net = new SimNetwork('wrong-hostid');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t) => {
      if (t.packetType !== PacketType.R1) return t.packet;
      const p = parsePacket(t.packet.slice());
      const i = p.params.findIndex((x) => x.type === ParamType.HOST_ID);
      const m = idM.hostIdentity(2);
      p.params[i] = { type: ParamType.HOST_ID, algorithm: m.algorithm, hostIdentity: m.hostIdentity, diType: 0, di: new Uint8Array(0) };
      return emitPacket(p);
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const failed = SimNetwork.eventsOf(a, 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBe('hit-mismatch');
  });

  it('R1s with a broken signature: failed with bad-signature', () => {
    const net = new SimNetwork('bad-r1-sig');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t) => {
      if (t.packetType !== PacketType.R1) return t.packet;
      const p = parsePacket(t.packet.slice());
      const s = getParam(p, ParamType.HIP_SIGNATURE_2)!;
      s.signature = s.signature.map((x, i) => (i === 3 ? x ^ 1 : x));
      return emitPacket(p);
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed')[0]?.reason).toBe('bad-signature');
  });

  it('another identity answering at the locator: failed with hit-mismatch naming both HITs', () => {
    const net = new SimNetwork('other-identity');
    const a = net.addNode('a', idA);
    const m = net.addNode('m', idM);
    // m answers I1s for any HIT, as a man in the middle would (here: the I1 is readdressed to it).
    net.hook = (t) => {
      if (t.packetType !== PacketType.I1) return t.packet;
      const p = parsePacket(t.packet.slice());
      p.receiverHit = idM.hit();
      return emitPacket(p);
    };
    a.engine.connect(idB.hit(), [m.locator], net.now);
    net.run();
    const f = SimNetwork.eventsOf(a, 'failed')[0];
    expect(f?.reason).toBe('hit-mismatch');
    expect(f?.detail).toContain('answered our I1');
  });

  it('no answer at all still fails with timeout', () => {
    const net = new SimNetwork('silence');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t) => (t.packetType === PacketType.I1 ? undefined : t.packet);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed')[0]?.reason).toBe('timeout');
  });
});

describe('the initiator solves puzzles without blocking its driver', () => {
  function toR1(seed: string, optsB: object, optsA: object) {
    const net = new SimNetwork(seed);
    const a = net.addNode('a', idA, optsA, { random: seededRandom(`a:${seed}`) });
    const b = net.addNode('b', idB, optsB);
    a.engine.connect(idB.hit(), [b.locator], 0);
    b.engine.handlePacket(a.engine.pollTransmit()!.packet, a.locator, 0);
    const r1 = b.engine.pollTransmit()!;
    expect(r1.packetType).toBe(PacketType.R1);
    a.engine.handlePacket(r1.packet, b.locator, 0);
    return { a, b };
  }

  it('a hard puzzle is solved in slices, each a due timer, and the BEX then completes', () => {
    // The identities are fresh each run, so how many hashes a start #J needs varies: ~0.8 % of
    // starts solve K=12 within the first 32. Take the first seed whose start does not, so the
    // test always exercises the sliced path (ten misses in a row: ~1e-21).
    let setup;
    for (let i = 0; i < 10 && !setup; i++) {
      const s = toR1(`slices-${i}`, { puzzle: { difficulty: 12 } }, { puzzle: { sliceAttempts: 32 } });
      if (!s.a.engine.pollTransmit()) setup = s;
    }
    const { a, b } = setup!;
    expect(a.engine.association(idB.hit())!.state).toBe('I1-SENT');
    let slices = 1;
    let t;
    while (!(t = a.engine.pollTransmit())) {
      expect(a.engine.nextTimeout()).toBe(0); // due at once: the driver yields, then goes on
      a.engine.handleTimeout(0);
      slices++;
    }
    expect(slices).toBeGreaterThan(1);
    expect(t.packetType).toBe(PacketType.I2);
    b.engine.handlePacket(t.packet, a.locator, 1);
    expect(b.engine.association(idA.hit())!.state).toBe('R2-SENT');
  });

  it('past the puzzle lifetime the BEX fails with puzzle-unsolved', () => {
    const { a } = toR1('lifetime', { puzzle: { difficulty: 18, lifetime: 32 } }, { puzzle: { sliceAttempts: 16 } });
    expect(a.engine.pollTransmit()).toBeUndefined();
    a.engine.handleTimeout(1500); // lifetime 32: one second
    const events = [];
    for (let e; (e = a.engine.pollEvent()); ) events.push(e);
    const failed = events.find((e) => e.type === 'failed');
    expect(failed).toMatchObject({ type: 'failed', reason: 'puzzle-unsolved' });
    expect(a.engine.association(idB.hit())).toBeUndefined();
  });
});
