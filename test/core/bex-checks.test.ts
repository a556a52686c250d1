// The cheap checks of the BEX handlers (RFC 7401 §6.6-6.10), each with a test that fails when
// the check is removed (issue 8). Header and negotiation checks run before the MAC and the
// signature, so the drop reason names the check that fired: a forged packet that got past it
// would be counted as bad-mac or bad-signature instead.
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { formatHit } from '../../src/crypto/hit.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { R1Factory, SOLUTIONS_PER_GENERATION } from '../../src/core/responder.js';
import type { EngineOptions } from '../../src/core/config.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const [lowId, highId] = Buffer.compare(Buffer.from(idA.hit()), Buffer.from(idB.hit())) < 0 ? [idA, idB] : [idB, idA];

function drops(n: SimNode, reason: string): number {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;
}

function rewrite(bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  return emitPacket(p);
}

/** A network recording every packet by type; types in `hold` are not delivered. */
function pair(seed: string, optsA: EngineOptions = {}, optsB: EngineOptions = {}, depsA = {}) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, optsA, depsA);
  const b = net.addNode('b', idB, optsB);
  const sent = new Map<number, Uint8Array[]>();
  const hold = new Set<number>();
  net.hook = (t) => {
    sent.set(t.packetType, [...(sent.get(t.packetType) ?? []), t.packet.slice()]);
    return hold.has(t.packetType) ? undefined : t.packet;
  };
  const first = (type: number) => sent.get(type)?.[0];
  const count = (type: number) => sent.get(type)?.length ?? 0;
  return { net, a, b, hold, first, count };
}

describe('I1 checks', () => {
  it('an I1 with control bits, or from our own HIT, draws no R1', () => {
    const s = pair('i1-checks');
    s.hold.add(PacketType.I1);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.flush();
    const i1 = s.first(PacketType.I1)!;
    s.net.inject(s.b, rewrite(i1, (p) => void (p.controls = 1)), s.a);
    expect(drops(s.b, 'controls')).toBe(1);
    s.net.inject(s.b, rewrite(i1, (p) => void (p.senderHit = idB.hit())), s.a);
    expect(drops(s.b, 'wrong-receiver-hit')).toBe(1);
    expect(s.count(PacketType.R1)).toBe(0);
    s.net.inject(s.b, i1, s.a);
    expect(s.count(PacketType.R1)).toBe(1);
  });

  it('simultaneous open: only the host with the lower HIT drops the I1 it receives', () => {
    const s = pair('simultaneous');
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.b.engine.connect(idA.hit(), [s.a.locator], s.net.now);
    s.net.run();
    const low = lowId === idA ? s.a : s.b;
    const high = lowId === idA ? s.b : s.a;
    expect(drops(low, 'simultaneous-open-lost')).toBeGreaterThanOrEqual(1);
    expect(drops(high, 'simultaneous-open-lost')).toBe(0);
    expect(SimNetwork.eventsOf(low, 'established')[0]!.role).toBe('initiator');
    expect(SimNetwork.eventsOf(high, 'established')[0]!.role).toBe('responder');
  });

  it('first transmissions are reported as such in bex events', () => {
    const s = pair('bex-events');
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    const steps = (n: SimNode) => SimNetwork.eventsOf(n, 'bex').map((e) => `${e.step}:${e.retransmission}`);
    expect(steps(s.a)).toEqual(['i1-sent:false', 'r1-received:false', 'i2-sent:false', 'r2-received:false']);
    expect(steps(s.b)).toEqual(['i1-received:false', 'r1-sent:false', 'i2-received:false', 'r2-sent:false']);
  });

  it('an I1 is sent to at most three candidate locators (one round, paced: shotgun.ts)', () => {
    const net = new SimNetwork('candidates');
    const a = net.addNode('a', idA);
    const locs = [1, 2, 3, 4, 5].map((n) => ({ key: `nowhere:${n}` }));
    a.engine.connect(idB.hit(), locs, 0);
    const to: string[] = [];
    // The first retransmission round starts at 1000 ms: everything before is the first round.
    for (let now = 0; now < 1000; now = a.engine.nextTimeout()!) {
      a.engine.handleTimeout(now);
      for (let t = a.engine.pollTransmit(); t; t = a.engine.pollTransmit()) to.push(t.to.key);
    }
    expect(to).toEqual(['nowhere:1', 'nowhere:2', 'nowhere:3']);
  });
});

describe('R1 checks at the initiator', () => {
  /** A in I1-SENT, holding the R1 B sent. */
  function heldR1(seed: string, optsA: EngineOptions = {}) {
    const s = pair(seed, optsA);
    s.hold.add(PacketType.R1);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run(s.net.now + 10);
    return { ...s, r1: s.first(PacketType.R1)! };
  }
  const forgeries: [string, string, (p: HipPacket) => void][] = [
    ['another receiver HIT', 'wrong-receiver-hit', (p) => void (p.receiverHit = idB.hit())],
    ['a control bit other than anonymous', 'controls', (p) => void (p.controls = 2)],
    ['a damaged HIP_SIGNATURE_2', 'bad-signature', (p) => {
      const s = getParam(p, ParamType.HIP_SIGNATURE_2)!;
      s.signature = s.signature.map((x, i) => (i === 7 ? x ^ 1 : x));
    }],
  ];
  for (const [name, reason, change] of forgeries) {
    it(`an R1 with ${name} is dropped (${reason}); no I2 is sent`, () => {
      const s = heldR1(`r1-${name}`);
      s.net.inject(s.a, rewrite(s.r1, change), s.b);
      expect(drops(s.a, reason)).toBe(1);
      expect(s.count(PacketType.I2)).toBe(0);
      expect(s.a.engine.association(idB.hit())?.state).toBe('I1-SENT');
    });
  }

  it('with opportunistic mode on, a BEX to a known HIT still completes', () => {
    const s = pair('opp-on', { opportunistic: true });
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    expect(s.a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
  });

  it('in I2-SENT the same R1 again is a duplicate; an R1 of a newer generation restarts the exchange', () => {
    const s = pair('r1-newer', {}, { puzzle: { rotationMs: 1000 } });
    s.hold.add(PacketType.I2);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run(s.net.now + 10);
    expect(s.a.engine.association(idB.hit())?.state).toBe('I2-SENT');
    const i1 = s.first(PacketType.I1)!;
    const r1 = s.first(PacketType.R1)!;
    const i2Before = s.count(PacketType.I2);
    s.net.inject(s.a, r1, s.b);
    expect(drops(s.a, 'duplicate')).toBe(1);
    expect(s.count(PacketType.I2)).toBe(i2Before);
    // B rotates its puzzle secret; its answer to the same I1 carries a higher R1_COUNTER.
    s.net.now += 1500;
    s.b.engine.handlePacket(i1, s.a.locator, s.net.now);
    let newer: Uint8Array | undefined;
    for (let t = s.b.engine.pollTransmit(); t; t = s.b.engine.pollTransmit()) if (t.packetType === PacketType.R1) newer = t.packet;
    const counter = (b: Uint8Array) => getParam(parsePacket(b), ParamType.R1_COUNTER)!.counter;
    expect(counter(newer!)).toBeGreaterThan(counter(r1));
    s.net.inject(s.a, newer!, s.b);
    expect(s.count(PacketType.I2)).toBe(i2Before + 1);
    expect(drops(s.a, 'duplicate')).toBe(1);
  });

  it('the R1 buffer may be reused after handlePacket: the R2 still verifies', () => {
    const s = heldR1('r1-reuse');
    const buf = s.r1.slice();
    s.a.engine.handlePacket(buf, s.b.locator, s.net.now);
    buf.fill(0);
    s.net.run();
    expect(s.a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
  });

  it('NULL suites are never chosen from an R1 unless allowInsecure is set', () => {
    const s = pair('insecure-choice', { espSuites: [7, 13], hipCiphers: [1, 2] }, { allowInsecure: true, espSuites: [7, 13], hipCiphers: [1, 2] });
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    const i2 = parsePacket(s.first(PacketType.I2)!);
    expect(getParam(i2, ParamType.ESP_TRANSFORM)!.suites).toEqual([13]);
    expect(getParam(i2, ParamType.HIP_CIPHER)!.ciphers).toEqual([2]);
    expect(getParam(i2, ParamType.TRANSPORT_FORMAT_LIST)!.formats).toEqual([ParamType.ESP_TRANSFORM]);
    expect(getParam(i2, ParamType.R1_COUNTER)).toBeDefined();
  });

  it('an initiator without NAT mode does not select it even when the R1 offers it', () => {
    const s = pair('nat-one-side', {}, { natMode: true });
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    expect(getParam(parsePacket(s.first(PacketType.R1)!), ParamType.NAT_TRAVERSAL_MODE)).toBeDefined();
    expect(getParam(parsePacket(s.first(PacketType.I2)!), ParamType.NAT_TRAVERSAL_MODE)).toBeUndefined();
  });

  it('HOST_ID in ENCRYPTED with the NULL HIP cipher travels as plain TLVs', () => {
    const opts: EngineOptions = { allowInsecure: true, hipCiphers: [1], encryptHostId: true };
    const s = pair('null-encrypted', opts, opts);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    expect(s.b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
    const enc = getParam(parsePacket(s.first(PacketType.I2)!), ParamType.ENCRYPTED)!;
    expect(enc.data[0]! * 256 + enc.data[1]!).toBe(ParamType.HOST_ID);
  });
});

describe('I2 checks at the responder', () => {
  /** B has answered; A's I2 is held back. */
  function heldI2(seed: string, optsB: EngineOptions = {}) {
    const s = pair(seed, {}, optsB);
    s.hold.add(PacketType.I2);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run(s.net.now + 10);
    return { ...s, i2: s.first(PacketType.I2)! };
  }
  const forgeries: [string, string, (p: HipPacket) => void, EngineOptions?][] = [
    ['another receiver HIT', 'wrong-receiver-hit', (p) => void (p.receiverHit = idA.hit())],
    ['a control bit other than anonymous', 'controls', (p) => void (p.controls = 2)],
    ['another KEYMAT index', 'negotiation', (p) => void (getParam(p, ParamType.ESP_INFO)!.keymatIndex += 8)],
    ['two HIP ciphers', 'negotiation', (p) => void (getParam(p, ParamType.HIP_CIPHER)!.ciphers = [2, 4])],
    ['two ESP suites', 'negotiation', (p) => void (getParam(p, ParamType.ESP_TRANSFORM)!.suites = [13, 8])],
    ['the NULL HIP cipher we did not offer', 'negotiation', (p) => void (getParam(p, ParamType.HIP_CIPHER)!.ciphers = [1]), { hipCiphers: [2, 1] }],
    ['the NULL ESP suite we did not offer', 'negotiation', (p) => void (getParam(p, ParamType.ESP_TRANSFORM)!.suites = [7]), { espSuites: [13, 7] }],
  ];
  for (const [name, reason, change, optsB] of forgeries) {
    it(`an I2 with ${name} is dropped (${reason}) and creates nothing`, () => {
      const s = heldI2(`i2-${name}`, optsB);
      s.net.inject(s.b, rewrite(s.i2, change), s.a);
      expect(drops(s.b, reason)).toBe(1);
      expect(drops(s.b, 'bad-mac')).toBe(0);
      expect(s.b.engine.association(idA.hit())).toBeUndefined();
    });
  }

  it('a used solution is refused as replay, naming why', () => {
    const s = heldI2('i2-replay-detail');
    s.net.inject(s.b, s.i2, s.a);
    expect(s.b.engine.association(idA.hit())?.state).toBe('R2-SENT');
    s.b.engine.close(idA.hit(), s.net.now);
    s.net.run();
    s.net.inject(s.b, rewrite(s.i2, (p) => void (p.checksum ^= 0)), s.a);
    const replay = SimNetwork.eventsOf(s.b, 'dropped').filter((d) => d.reason === 'replay');
    expect(replay.map((d) => d.detail)).toEqual(['puzzle solution already used']);
  });

  it('the I2 buffer may be reused after handlePacket: the association keeps the HIT, a retransmission is recognised', () => {
    const s = heldI2('i2-reuse');
    const buf = s.i2.slice();
    s.b.engine.handlePacket(buf, s.a.locator, s.net.now);
    buf.fill(0);
    s.net.flush();
    expect([...s.b.engine.association(idA.hit())!.peerHit]).toEqual([...idA.hit()]);
    const r2s = s.count(PacketType.R2);
    s.net.inject(s.b, s.i2, s.a);
    expect(drops(s.b, 'duplicate')).toBe(1);
    expect(s.count(PacketType.R2)).toBe(r2s + 1); // our R2 again, as for a lost R2
  });

  it('an I2 repeated after the association started closing draws no R2', () => {
    const s = heldI2('i2-closing');
    s.net.inject(s.b, s.i2, s.a);
    s.hold.add(PacketType.CLOSE);
    s.b.engine.close(idA.hit(), s.net.now);
    s.net.flush();
    expect(s.b.engine.association(idA.hit())?.state).toBe('CLOSING');
    const r2s = s.count(PacketType.R2);
    s.net.inject(s.b, s.i2, s.a);
    expect(drops(s.b, 'duplicate')).toBe(1);
    expect(s.count(PacketType.R2)).toBe(r2s);
  });

  it('ENCRYPTED shorter than an IV and a block, or holding another parameter, is bad-host-id', () => {
    const shortCt: CryptoProvider = { ...nodeCrypto, aesCbcEncrypt: () => new Uint8Array(0) };
    const otherTlv: CryptoProvider = {
      ...nodeCrypto,
      aesCbcEncrypt: (key, iv, plain) => {
        const p = plain.slice();
        p[0] = 0x02; // HOST_ID (705) becomes 577 (HIP_TRANSFORM)
        p[1] = 0x41;
        return nodeCrypto.aesCbcEncrypt(key, iv, p);
      },
    };
    for (const [provider, detail] of [[shortCt, 'ENCRYPTED too short'], [otherTlv, 'not HOST_ID']] as const) {
      const s = pair(`enc-${detail}`, { encryptHostId: true }, {}, { provider });
      s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
      s.net.run(s.net.now + 500);
      const bad = SimNetwork.eventsOf(s.b, 'dropped').filter((d) => d.reason === 'bad-host-id');
      expect(bad.length).toBeGreaterThanOrEqual(1);
      expect(bad[0]!.detail).toContain(detail);
      expect(s.b.engine.association(idA.hit())).toBeUndefined();
    }
  });

  it('a policy list with an unparsable entry still admits the HITs it names, and only those', () => {
    const ok = pair('policy-list', {}, { policy: ['not a HIT', formatHit(idA.hit())] });
    ok.a.engine.connect(idB.hit(), [ok.b.locator], ok.net.now);
    ok.net.run();
    expect(ok.b.engine.association(idA.hit())?.state).toBe('ESTABLISHED');
    const no = pair('policy-list-no', {}, { policy: ['not a HIT'] });
    no.a.engine.connect(idB.hit(), [no.b.locator], no.net.now);
    no.net.run(no.net.now + 500);
    expect(drops(no.b, 'policy')).toBeGreaterThanOrEqual(1);
    expect(no.b.engine.association(idA.hit())).toBeUndefined();
  });
});

describe('R2 checks at the initiator', () => {
  function heldR2(seed: string) {
    const s = pair(seed);
    s.hold.add(PacketType.R2);
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run(s.net.now + 10);
    return { ...s, r2: s.first(PacketType.R2)! };
  }
  const forgeries: [string, string, (p: HipPacket) => void][] = [
    ['another receiver HIT', 'wrong-receiver-hit', (p) => void (p.receiverHit = idB.hit())],
    ['another HIP version', 'wrong-receiver-hit', (p) => void (p.version = 1)],
    ['control bits', 'controls', (p) => void (p.controls = 1)],
    ['a damaged HIP_SIGNATURE', 'bad-signature', (p) => {
      const s = getParam(p, ParamType.HIP_SIGNATURE)!;
      s.signature = s.signature.map((x, i) => (i === 7 ? x ^ 1 : x));
    }],
  ];
  for (const [name, reason, change] of forgeries) {
    it(`an R2 with ${name} is dropped (${reason}); A stays in I2-SENT`, () => {
      const s = heldR2(`r2-${name}`);
      s.net.inject(s.a, rewrite(s.r2, change), s.b);
      expect(drops(s.a, reason)).toBe(1);
      expect(s.a.engine.association(idB.hit())?.state).toBe('I2-SENT');
    });
  }
});

/** The least an R1 template needs: a PUZZLE to fill and a HOST_ID (the puzzle starts at byte 40). */
const minimalR1 = (): Uint8Array =>
  emitPacket({
    version: 2,
    type: PacketType.R1,
    controls: 0,
    checksum: 0,
    senderHit: idB.hit(),
    receiverHit: new Uint8Array(16),
    params: [
      { type: ParamType.PUZZLE, k: 1, lifetime: 37, opaque: 0, i: new Uint8Array(32) },
      { type: ParamType.HOST_ID, algorithm: 7, hostIdentity: new Uint8Array(10), diType: 0, di: new Uint8Array(0) },
    ],
  });

describe('R1Factory', () => {
  const deps = { provider: nodeCrypto, random: (n: number) => new Uint8Array(n).fill(7), rotationMs: 1000 };

  it('rotates when the period is over, or when the clock went back', () => {
    const f = new R1Factory(deps);
    const g1 = f.generation(5000, 1);
    expect(f.generation(5999, 1)).toBe(g1);
    const g2 = f.generation(6000, 1);
    expect(g2.counter).toBe(g1.counter + 1n);
    const g3 = f.generation(5500, 1);
    expect(g3.counter).toBe(g2.counter + 1n);
    expect(f.generationForOpaque(Number(g2.counter))).toBe(g2);
    expect(f.generationForOpaque(Number(g1.counter))).toBeUndefined();
  });

  it('creates a DH key and a template once per generation and key', () => {
    const f = new R1Factory(deps);
    const g = f.generation(0, 1);
    let created = 0;
    const kp = { group: 19 } as never;
    f.dhKey(g, 19, () => (created++, kp));
    expect(f.dhKey(g, 19, () => (created++, kp))).toBe(kp);
    expect(created).toBe(1);
    const bytes = minimalR1();
    let built = 0;
    const t2 = f.template(g, 2, 19, () => (built++, bytes));
    const t1 = f.template(g, 1, 19, () => (built++, bytes));
    expect(built).toBe(2);
    expect(f.template(g, 2, 19, () => (built++, bytes))).toBe(t2);
    expect(t1).not.toBe(t2);
    expect(t2.puzzleOffset).toBe(40);
  });

  it('a template that is a view into a larger buffer: the puzzle is found and filled where it is', () => {
    const f = new R1Factory(deps);
    const g = f.generation(0, 1);
    const r1 = minimalR1();
    const big = new Uint8Array(100 + r1.length);
    big.set(r1, 100);
    const t = f.template(g, 2, 19, () => big.subarray(100));
    expect(t.puzzleOffset).toBe(40);
    const i = new Uint8Array(32).fill(0xab);
    const filled = parsePacket(f.fill(t, g, idA.hit(), i));
    const puzzle = getParam(filled, ParamType.PUZZLE)!;
    expect([...puzzle.i]).toEqual([...i]);
    expect(puzzle.opaque).toBe(Number(g.counter & 0xffffn));
    expect([...filled.receiverHit]).toEqual([...idA.hit()]);
  });

  it('refuses to keep a template without PUZZLE or HOST_ID', () => {
    const f = new R1Factory(deps);
    const g = f.generation(0, 1);
    const noPuzzle = emitPacket({ version: 2, type: PacketType.R1, controls: 0, checksum: 0, senderHit: idB.hit(), receiverHit: new Uint8Array(16), params: [] });
    expect(() => f.template(g, 2, 19, () => noPuzzle)).toThrow('R1 template lacks PUZZLE or HOST_ID');
  });

  it('reports the solution table full at SOLUTIONS_PER_GENERATION entries', () => {
    const f = new R1Factory(deps);
    const g = f.generation(0, 1);
    for (let i = 0; i < SOLUTIONS_PER_GENERATION - 1; i++) expect(f.noteAttempt(g, `s${i}`)).toBe(false);
    expect(f.noteAttempt(g, 'last')).toBe(true);
  });
});

describe('both roles together', () => {
  it('the host with the greater HIT is HOST_g in both roles (keys agree across roles)', () => {
    const s = pair('roles');
    s.a.engine.connect(idB.hit(), [s.b.locator], s.net.now);
    s.net.run();
    const ea = SimNetwork.eventsOf(s.a, 'established')[0]!;
    const eb = SimNetwork.eventsOf(s.b, 'established')[0]!;
    expect(ea.sa.outbound).toEqual(eb.sa.inbound);
    expect(ea.sa.inbound).toEqual(eb.sa.outbound);
    expect(highId).toBeDefined();
  });
});
