import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import { verifyPuzzle } from '../../src/crypto/puzzle.js';
import { formatHit } from '../../src/crypto/hit.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const idM = HostIdentity.generate(); // mallory

function setup(seed: string, optsA = {}, optsB = {}) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, optsA);
  const b = net.addNode('b', idB, optsB);
  return { net, a, b };
}

function capture(net: SimNetwork): Map<number, Uint8Array> {
  const seen = new Map<number, Uint8Array>();
  const prev = net.hook;
  net.hook = (t, f, to) => {
    if (!seen.has(t.packetType)) seen.set(t.packetType, t.packet.slice());
    return prev ? prev(t, f, to) : t.packet;
  };
  return seen;
}

function drops(n: SimNode, reason: string): number {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;
}

function mutate(bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  return emitPacket(p);
}

describe('replays and forgeries change nothing', () => {
  it('a replayed R1 after establishment is dropped', () => {
    const { net, a, b } = setup('replay-r1');
    const seen = capture(net);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const before = a.engine.association(idB.hit())!;
    net.inject(a, seen.get(PacketType.R1)!, b);
    expect(drops(a, 'wrong-state')).toBe(1);
    expect(a.engine.association(idB.hit())!.sa).toEqual(before.sa);
  });

  it('a replayed I2 after establishment is answered with the stored R2 and nothing changes', () => {
    const { net, a, b } = setup('replay-i2');
    const seen = capture(net);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const sa = b.engine.association(idA.hit())!.sa;
    net.inject(b, seen.get(PacketType.I2)!, a);
    expect(drops(b, 'duplicate')).toBe(1);
    expect(b.engine.association(idA.hit())!.sa).toEqual(sa);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
  });

  const i2Forgeries: [string, string, (p: HipPacket) => void][] = [
    ['wrong puzzle solution', 'bad-puzzle', (p) => {
      // Flip bits of #J until it no longer solves the puzzle (with a small K many #J do).
      const s = getParam(p, ParamType.SOLUTION)!;
      const check = (j: Uint8Array) => verifyPuzzle(getProvider(), { hash: 'sha384', i: s.i, hitI: p.senderHit, hitR: p.receiverHit, j, k: s.k });
      expect(check(s.j)).toBe(true);
      for (let n = 1; check(s.j); n++) s.j = s.j.map((x, idx) => (idx === s.j.length - 1 ? x ^ n : x));
    }],
    ['wrong #I', 'bad-puzzle', (p) => { const s = getParam(p, ParamType.SOLUTION)!; s.i = s.i.map((x) => x ^ 1); }],
    ['unknown opaque', 'stale-puzzle', (p) => { getParam(p, ParamType.SOLUTION)!.opaque ^= 0x5555; }],
    ['wrong HIP_MAC', 'bad-mac', (p) => { const m = getParam(p, ParamType.HIP_MAC)!; m.mac = m.mac.map((x) => x ^ 1); }],
    ['changed ESP_INFO (MAC no longer matches)', 'bad-mac', (p) => { const e = getParam(p, ParamType.ESP_INFO)!; e.newSpi = (e.newSpi ^ 1) >>> 0; }],
    ['wrong signature', 'bad-signature', (p) => { const s = getParam(p, ParamType.HIP_SIGNATURE)!; s.signature = s.signature.map((x, i) => (i === 5 ? x ^ 1 : x)); }],
  ];
  for (const [name, reason, change] of i2Forgeries) {
    it(`an I2 with a ${name} is dropped (${reason}) and creates nothing`, () => {
      const { net, a, b } = setup(`forge-${reason}-${name}`);
      let forged = false;
      net.hook = (t) => {
        if (t.packetType === PacketType.I2 && !forged) {
          forged = true;
          return mutate(t.packet, change);
        }
        return t.packet;
      };
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run(net.now + 500);
      expect(drops(b, reason)).toBe(1);
      expect(b.engine.association(idA.hit())).toBeUndefined();
      expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
      net.run(); // the genuine retransmitted I2 still works
      expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
    });
  }

  it('an R2 with a wrong HIP_MAC_2 is dropped; the retransmitted I2 recovers', () => {
    const { net, a, b } = setup('forge-r2');
    let forged = false;
    net.hook = (t) => {
      if (t.packetType === PacketType.R2 && !forged) {
        forged = true;
        return mutate(t.packet, (p) => { const m = getParam(p, ParamType.HIP_MAC_2)!; m.mac = m.mac.map((x) => x ^ 2); });
      }
      return t.packet;
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(drops(a, 'bad-mac')).toBe(1);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });

  it('an R1 signed by someone else than the HIT we asked for is refused', () => {
    const net = new SimNetwork('hit-mismatch');
    const a = net.addNode('a', idA);
    const m = net.addNode('m', idM);
    // a believes the HIT of b lives at m's locator; m answers with its own identity.
    a.engine.connect(idB.hit(), [m.locator], net.now);
    net.run();
    expect(drops(m, 'wrong-receiver-hit')).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(0);
    expect(SimNetwork.eventsOf(a, 'failed')[0]?.reason).toBe('timeout');
  });

  it('an R1 whose HOST_ID does not hash to its sender HIT is dropped (hit-mismatch)', () => {
    const { net, a, b } = setup('hostid-swap');
    const mHostId = parsePacket(new Uint8Array(0).length ? new Uint8Array() : buildR1Of(idM));
    net.hook = (t) => {
      if (t.packetType !== PacketType.R1) return t.packet;
      return mutate(t.packet, (p) => {
        const i = p.params.findIndex((x) => x.type === ParamType.HOST_ID);
        p.params[i] = getParam(mHostId, ParamType.HOST_ID)!;
      });
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 100);
    expect(drops(a, 'hit-mismatch')).toBe(1);
  });

  it('a DH downgrade (I1 list rewritten on the path) is detected by the initiator', () => {
    const { net, a, b } = setup('downgrade');
    net.hook = (t) => {
      if (t.packetType !== PacketType.I1) return t.packet;
      return mutate(t.packet, (p) => { getParam(p, ParamType.DH_GROUP_LIST)!.groups = [3]; });
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const failed = SimNetwork.eventsOf(a, 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBe('dh-downgrade');
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
  });

  it('a responder policy refuses peers off the allow-list with NOTIFY BLOCKED_BY_POLICY', () => {
    const { net, a, b } = setup('policy', {}, { policy: [formatHit(idM.hit())] });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 100);
    expect(drops(b, 'policy')).toBe(1);
    const notes = SimNetwork.eventsOf(a, 'notify');
    expect(notes.map((n) => n.notifyType)).toEqual([42]);
    expect(b.engine.association(idA.hit())).toBeUndefined();
  });

  it('a policy callback sees the peer HIT text and version', () => {
    const asked: string[] = [];
    const { net, a, b } = setup('policy-fn', {}, { policy: (p: { hit: string; version: number }) => (asked.push(`${p.hit}/${p.version}`), true) });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(asked).toEqual([`${formatHit(idA.hit())}/2`]);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });

  it('an unknown critical parameter draws NOTIFY UNSUPPORTED_CRITICAL_PARAMETER_TYPE naming it', () => {
    const { net, a, b } = setup('ucp');
    net.hook = (t) => {
      if (t.packetType !== PacketType.I1) return t.packet;
      return mutate(t.packet, (p) => { p.params.push({ type: 1001, raw: true, contents: new Uint8Array([1, 2]) }); });
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 50);
    expect(drops(b, 'unknown-critical-parameter')).toBe(1);
    const n = SimNetwork.eventsOf(a, 'notify')[0];
    expect(n?.notifyType).toBe(1);
    expect([...n!.data]).toEqual([1001 >> 8, 1001 & 0xff]);
  });

  it('NOTIFYs share one global budget, whatever sender HIT the packets claim', () => {
    const { net, a, b } = setup('ratelimit', {}, { notifyPerSecond: 2 });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    const i1 = (() => { const t = a.engine.pollTransmit()!; return t.packet; })();
    for (let k = 0; k < 10; k++) {
      const bad = mutate(i1, (p) => { p.senderHit = p.senderHit.map((x, i) => (i === 15 ? k : x)); p.params.push({ type: 1001, raw: true, contents: new Uint8Array(0) }); });
      b.engine.handlePacket(bad, a.locator, 5);
    }
    let notifies = 0;
    for (let t = b.engine.pollTransmit(); t; t = b.engine.pollTransmit()) if (t.packetType === PacketType.NOTIFY) notifies++;
    expect(notifies).toBe(2);
    expect(b.engine.stats.dropped['unknown-critical-parameter']).toBe(10);
  });

  it('arbitrary garbage never throws and is counted', () => {
    const { net, b } = setup('fuzz');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        b.engine.handlePacket(bytes, { key: 'sim:x' }, net.now);
      }),
      { numRuns: 300 },
    );
    const total = Object.values(b.engine.stats.dropped).reduce((x, y) => x + (y ?? 0), 0);
    expect(total).toBeGreaterThan(250);
  });

  it('mutated real packets never throw and never establish anything', () => {
    const { net, a, b } = setup('fuzz2');
    const seen = capture(net);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const victim = new SimNetwork('victim').addNode('v', idB);
    fc.assert(
      fc.property(fc.constantFrom(...seen.values()), fc.nat(), fc.integer({ min: 1, max: 255 }), (pkt, pos, xor) => {
        const copy = pkt.slice();
        copy[pos % copy.length]! ^= xor;
        victim.engine.handlePacket(copy, a.locator, 0);
      }),
      { numRuns: 300 },
    );
    for (let e = victim.engine.pollEvent(); e; e = victim.engine.pollEvent()) expect(e.type).not.toBe('established');
  });
});

describe('close', () => {
  for (const closer of ['initiator', 'responder'] as const) {
    it(`CLOSE from the ${closer} is acknowledged and both ends free the association`, () => {
      const { net, a, b } = setup(`close-${closer}`);
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run();
      const [from, to, peer] = closer === 'initiator' ? [a, b, idB] : [b, a, idA];
      from.engine.close(peer.hit(), net.now);
      net.run();
      expect(net.log.slice(-2).map((l) => l.packetType)).toEqual([PacketType.CLOSE, PacketType.CLOSE_ACK]);
      expect(SimNetwork.eventsOf(from, 'closed').map((e) => e.by)).toEqual(['local']);
      expect(SimNetwork.eventsOf(to, 'closed').map((e) => e.by)).toEqual(['peer']);
      expect(a.engine.associationCount).toBe(0);
      expect(b.engine.associationCount).toBe(0);
      expect(a.engine.nextTimeout()).toBeUndefined();
      expect(b.engine.nextTimeout()).toBeUndefined();
    });
  }

  it('a CLOSE_ACK with the wrong echo is ignored; a lost CLOSE_ACK is recovered by retransmission', () => {
    const { net, a, b } = setup('close-echo');
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    let acks = 0;
    net.hook = (t) => {
      if (t.packetType === PacketType.CLOSE_ACK && acks++ === 0) {
        return mutate(t.packet, (p) => { const e = getParam(p, ParamType.ECHO_RESPONSE_SIGNED)!; e.opaque = e.opaque.map((x) => x ^ 1); });
      }
      return t.packet;
    };
    a.engine.close(idB.hit(), net.now);
    net.run();
    expect(drops(a, 'bad-echo')).toBe(1);
    expect(SimNetwork.eventsOf(a, 'closed').map((e) => e.by)).toEqual(['local']);
    expect(a.engine.associationCount).toBe(0);
  });

  it('a forged CLOSE (bad MAC) does not close anything', () => {
    const { net, a, b } = setup('close-forged');
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    net.hook = (t) => (t.packetType === PacketType.CLOSE ? mutate(t.packet, (p) => { const m = getParam(p, ParamType.HIP_MAC)!; m.mac = m.mac.map((x) => x ^ 1); }) : t.packet);
    a.engine.close(idB.hit(), net.now);
    net.run(net.now + 60_000);
    expect(drops(b, 'bad-mac')).toBeGreaterThan(0);
    expect(b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
    expect(SimNetwork.eventsOf(a, 'closed').map((e) => e.by)).toEqual(['timeout']);
  });

  it('an idle association closes itself after the UAL', () => {
    const { net, a, b } = setup('idle', { idleTimeoutMs: 5000 }, { idleTimeoutMs: 60_000 });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(SimNetwork.eventsOf(a, 'closed').map((e) => e.by)).toEqual(['idle']);
    expect(a.engine.associationCount).toBe(0);
    expect(b.engine.associationCount).toBe(0);
  });
});

describe('opportunistic mode and puzzles', () => {
  it('connect(null) learns the responder HIT from a verified R1', () => {
    const { net, a, b } = setup('opp', { opportunistic: true });
    a.engine.connect(null, [b.locator], net.now);
    net.run();
    const e = SimNetwork.eventsOf(a, 'established')[0];
    expect(e && formatHit(e.peerHit)).toBe(formatHit(idB.hit()));
  });

  it('without the option, connect(null) is refused with a typed error', () => {
    const { net, a, b } = setup('no-opp');
    expect(() => a.engine.connect(null, [b.locator], net.now)).toThrow(expect.objectContaining({ code: 'ERR_HIP_OPPORTUNISTIC_DISABLED' }));
  });

  it('raising the puzzle difficulty at run time is honoured by the next R1', () => {
    const { net, a, b } = setup('puzzle-k');
    b.engine.setPuzzleDifficulty(12, net.now);
    let k = -1;
    net.hook = (t) => {
      if (t.packetType === PacketType.R1) k = getParam(parsePacket(t.packet), ParamType.PUZZLE)!.k;
      return t.packet;
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(k).toBe(12);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });

  it('R1s are signed once per generation and filled per initiator', () => {
    const { net, b } = setup('templates');
    const r1s: Uint8Array[] = [];
    net.hook = (t) => (t.packetType === PacketType.R1 && r1s.push(t.packet), t.packet);
    const c1 = net.addNode('c1', HostIdentity.generate());
    const c2 = net.addNode('c2', HostIdentity.generate());
    c1.engine.connect(idB.hit(), [b.locator], net.now);
    c2.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1.5);
    expect(r1s).toHaveLength(2);
    const s1 = getParam(parsePacket(r1s[0]!), ParamType.HIP_SIGNATURE_2)!.signature;
    const s2 = getParam(parsePacket(r1s[1]!), ParamType.HIP_SIGNATURE_2)!.signature;
    expect(Buffer.from(s1).equals(Buffer.from(s2))).toBe(true);
    const i1 = getParam(parsePacket(r1s[0]!), ParamType.PUZZLE)!.i;
    const i2 = getParam(parsePacket(r1s[1]!), ParamType.PUZZLE)!.i;
    expect(Buffer.from(i1).equals(Buffer.from(i2))).toBe(false);
    expect(b.engine.associationCount).toBe(0); // no state per I1
  });
});

function buildR1Of(id: HostIdentity): Uint8Array {
  const net = new SimNetwork('r1of');
  const x = net.addNode('x', HostIdentity.generate());
  const y = net.addNode('y', id);
  let r1: Uint8Array | undefined;
  net.hook = (t) => (t.packetType === PacketType.R1 && (r1 = t.packet), t.packet);
  x.engine.connect(id.hit(), [y.locator], 0);
  net.run(10);
  return r1!;
}
