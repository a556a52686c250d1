// The initiator's R1 and R2 handling at its edges (RFC 7401 §6.8, §6.10): which BEX a stray R1
// is blamed on, R1s of another version, a duplicate R1 while the puzzle is being solved, the
// reasons a failed BEX reports, buffers reused by the driver, and how solving ends (lifetime,
// attempt budget, the last millisecond of the lifetime) when time passes between slices, and a
// named and an opportunistic BEX to one locator at once.
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import type { EngineOptions } from '../../src/core/config.js';
import type { LocalSide } from '../../src/core/context.js';
import type { HipEngine } from '../../src/core/engine.js';
import { sealPacket } from '../../src/core/sealing.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { seededRandom, SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const idM = HostIdentity.generate();
const rsaA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const rsaB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });

function drops(n: SimNode, reason: string) {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason);
}

function rewrite(bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  return emitPacket(p);
}

/** A's BEX to B with B's R1 handed over by hand: returns once A has taken the R1. */
function toR1(seed: string, optsB: EngineOptions, optsA: EngineOptions, deps = {}) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, optsA, { random: seededRandom(`a:${seed}`), ...deps });
  const b = net.addNode('b', idB, optsB);
  a.engine.connect(idB.hit(), [b.locator], 0);
  b.engine.handlePacket(a.engine.pollTransmit()!.packet, a.locator, 0);
  const r1 = b.engine.pollTransmit()!.packet;
  const buf = r1.slice();
  a.engine.handlePacket(buf, b.locator, 0);
  return { net, a, b, r1, buf };
}

/** Like toR1, but only a setup whose puzzle was not solved in the first slice (retrying seeds). */
function slicedR1(seed: string, optsB: EngineOptions, optsA: EngineOptions, deps = {}) {
  for (let i = 0; i < 10; i++) {
    const s = toR1(`${seed}-${i}`, optsB, optsA, deps);
    if (!s.a.engine.pollTransmit()) return s;
  }
  throw new Error('every start solved in one slice');
}

function failures(engine: HipEngine) {
  const out = [];
  for (let e; (e = engine.pollEvent()); ) if (e.type === 'failed') out.push(e);
  return out;
}

describe('whose BEX a stray R1 is blamed on', () => {
  it('only the BEX waiting in I1-SENT at that locator, even when it tried several locators', () => {
    const net = new SimNetwork('stray-r1');
    const a = net.addNode('a', idA);
    const m = net.addNode('m', idM);
    net.hook = (t) => {
      if (t.packetType !== PacketType.I1) return t.packet;
      const p = parsePacket(t.packet.slice());
      p.receiverHit = idM.hit(); // m answers I1s for any HIT, as a man in the middle would
      return emitPacket(p);
    };
    // The BEX to B tries m's locator and one where nobody is; the BEX to C goes nowhere.
    a.engine.connect(idB.hit(), [m.locator, { key: 'sim:nowhere' }], net.now);
    a.engine.connect(idM.hit().map((x, i) => (i === 15 ? x ^ 1 : x)), [{ key: 'sim:nowhere-else' }], net.now);
    net.run();
    const failed = SimNetwork.eventsOf(a, 'failed');
    expect(failed.map((f) => f.reason).sort()).toEqual(['hit-mismatch', 'timeout']);
    expect(failed.find((f) => f.reason === 'hit-mismatch')!.peerHit).toEqual(idB.hit());
  });

  it('not a BEX already past I1-SENT at that locator: its timeout stays a timeout', () => {
    // A's BEX with B is in I2-SENT (B's answers are lost) when an R1 for A from M arrives from B's locator.
    const side = new SimNetwork('m-r1');
    const a2 = side.addNode('a2', idA);
    const m = side.addNode('m', idM);
    side.hook = () => undefined;
    a2.engine.connect(idM.hit(), [m.locator], 0);
    m.engine.handlePacket(a2.engine.pollTransmit()!.packet, a2.locator, 0);
    const r1FromM = m.engine.pollTransmit()!.packet;

    const net = new SimNetwork('i2-sent-stray');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t, from) => (from === b && t.packetType !== PacketType.R1 ? undefined : t.packet);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 10);
    expect(a.engine.association(idB.hit())?.state).toBe('I2-SENT');
    net.inject(a, r1FromM, b);
    expect(drops(a, 'no-association')).toHaveLength(1);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed').map((f) => f.reason)).toEqual(['timeout']);
  });
});

describe('R1s the initiator drops', () => {
  it('an R1 of another HIP version than the BEX is unsupported-version', () => {
    const s = toR1('r1-version', {}, {});
    const net = new SimNetwork('r1-version-2');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = () => undefined;
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.flush();
    const v1 = rewrite(s.r1, (p) => {
      p.version = 1;
      p.params = p.params.filter((x) => x.type !== ParamType.R1_COUNTER);
      const puzzle = getParam(p, ParamType.PUZZLE)!;
      puzzle.i = puzzle.i.subarray(0, 8);
    });
    net.inject(a, v1, b);
    expect(drops(a, 'unsupported-version')).toHaveLength(1);
    expect(a.engine.association(idB.hit())?.state).toBe('I1-SENT');
  });

  it('the same R1 again while its puzzle is being solved is a duplicate, and solving goes on', () => {
    const s = slicedR1('r1-dup-solving', { puzzle: { difficulty: 12 } }, { puzzle: { sliceAttempts: 32 } });
    s.a.engine.handlePacket(s.r1.slice(), s.b.locator, 0);
    const dup = [];
    for (let e; (e = s.a.engine.pollEvent()); ) if (e.type === 'dropped' && e.reason === 'duplicate') dup.push(e);
    expect(dup).toHaveLength(1);
    let t;
    for (let i = 0; i < 100_000 && !(t = s.a.engine.pollTransmit()); i++) s.a.engine.handleTimeout(0);
    expect(t?.packetType).toBe(PacketType.I2);
  });
});

describe('what a failed BEX reports', () => {
  function damagedSignature(p: HipPacket, type: number) {
    const s = getParam(p, type as typeof ParamType.HIP_SIGNATURE)!;
    s.signature = s.signature.map((x, i) => (i === 7 ? x ^ 1 : x));
  }
  function run(seed: string, change: (t: number, bytes: Uint8Array) => Uint8Array) {
    const net = new SimNetwork(seed);
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t) => change(t.packetType, t.packet);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    return SimNetwork.eventsOf(a, 'failed');
  }

  it('every R1 with a bad signature: bad-signature, the R1 signature does not verify', () => {
    const f = run('r1-sig', (t, b) => (t === PacketType.R1 ? rewrite(b, (p) => damagedSignature(p, ParamType.HIP_SIGNATURE_2)) : b));
    expect(f.map((x) => x.reason)).toEqual(['bad-signature']);
    expect(f[0]!.detail).toMatch(/^the R1 signature does not verify; no valid answer to I1/);
  });

  it('every R2 with a bad signature: bad-signature, the R2 signature does not verify', () => {
    const f = run('r2-sig', (t, b) => (t === PacketType.R2 ? rewrite(b, (p) => damagedSignature(p, ParamType.HIP_SIGNATURE)) : b));
    expect(f.map((x) => x.reason)).toEqual(['bad-signature']);
    expect(f[0]!.detail).toMatch(/^the R2 signature does not verify; no valid answer to I2/);
  });

  it('every R1 with a HOST_ID of another identity: hit-mismatch, naming the HIT', () => {
    const other = idM.hostIdentity();
    const f = run('r1-hostid', (t, b) =>
      t === PacketType.R1 ? rewrite(b, (p) => void Object.assign(getParam(p, ParamType.HOST_ID)!, { algorithm: other.algorithm, hostIdentity: other.hostIdentity })) : b,
    );
    expect(f.map((x) => x.reason)).toEqual(['hit-mismatch']);
    expect(f[0]!.detail).toMatch(new RegExp(`^the R1's HOST_ID does not hash to ${idB.hitString()}; no valid answer to I1`));
  });
});

describe('buffers the driver reuses', () => {
  it('opportunistic: the R1 buffer zeroed after handlePacket leaves the learned peer HIT intact', () => {
    const net = new SimNetwork('opp-reuse');
    const a = net.addNode('a', idA, { opportunistic: true });
    const b = net.addNode('b', idB);
    a.engine.connect(null, [b.locator], net.now);
    b.engine.handlePacket(a.engine.pollTransmit()!.packet, a.locator, net.now);
    const buf = b.engine.pollTransmit()!.packet.slice();
    a.engine.handlePacket(buf, b.locator, net.now);
    buf.fill(0);
    net.run();
    expect(a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
    expect([...a.engine.association(idB.hit())!.peerHit]).toEqual([...idB.hit()]);
    expect([...SimNetwork.eventsOf(a, 'established')[0]!.peerHit]).toEqual([...idB.hit()]);
  });

  it('a puzzle solved over several slices uses the R1 as received, whatever the buffer holds since', () => {
    const s = slicedR1('r1-reuse-sliced', { puzzle: { difficulty: 12 } }, { puzzle: { sliceAttempts: 32 } });
    s.buf.fill(0);
    let t;
    for (let i = 0; i < 100_000 && !(t = s.a.engine.pollTransmit()); i++) s.a.engine.handleTimeout(0);
    s.b.engine.handlePacket(t!.packet, s.a.locator, 1);
    expect(s.b.engine.association(idA.hit())?.state).toBe('R2-SENT');
  });
});

describe('a named and an opportunistic BEX to the same locator at once', () => {
  it('the R1 answering the named BEX completes it and leaves the opportunistic one waiting, to end on its own', () => {
    const net = new SimNetwork('opp-and-named');
    const a = net.addNode('a', idA, { opportunistic: true });
    const b = net.addNode('b', idB);
    a.engine.connect(idB.hit(), [b.locator], net.now);
    a.engine.connect(null, [b.locator], net.now);
    expect(a.engine.associationCount).toBe(2);
    // B answers both I1s with the same R1; it is looked up by B's HIT, so the named BEX takes it.
    net.run(net.now + 10);
    expect(a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
    expect(a.engine.associationCount).toBe(2);
    // The opportunistic BEX was not silently forgotten: it reports an outcome to whoever started it.
    net.run();
    const failed = SimNetwork.eventsOf(a, 'failed');
    expect(failed.map((f) => [f.reason, [...f.peerHit].every((x) => x === 0)])).toEqual([['timeout', true]]);
  });
});

describe('an opportunistic BEX that fails', () => {
  it('leaves the association table, so another one to the same locator starts afresh', () => {
    const net = new SimNetwork('opp-fail-again');
    const a = net.addNode('a', idA, { opportunistic: true });
    const nowhere = { key: 'sim:nowhere' };
    a.engine.connect(null, [nowhere], net.now);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed').map((f) => f.reason)).toEqual(['timeout']);
    expect(a.engine.associationCount).toBe(0);
    // Were the failed one still filed under the locator, this connect would find it and do nothing.
    a.engine.connect(null, [nowhere], net.now);
    expect(a.engine.pollTransmit()?.packetType).toBe(PacketType.I1);
    net.run();
    expect(SimNetwork.eventsOf(a, 'failed').map((f) => f.reason)).toEqual(['timeout', 'timeout']);
    expect(a.engine.associationCount).toBe(0);
  });
});

describe('how solving ends', () => {
  it('time passing between slices is fine within the puzzle lifetime (32 s)', () => {
    const s = slicedR1('slices-time', { puzzle: { difficulty: 12 } }, { puzzle: { sliceAttempts: 32 } });
    let now = 0;
    let t;
    for (let i = 0; i < 100_000 && !(t = s.a.engine.pollTransmit()); i++) s.a.engine.handleTimeout((now += 2));
    expect(t?.packetType).toBe(PacketType.I2);
    expect(failures(s.a.engine)).toEqual([]);
  });

  it('the puzzle lifetime ends after its last millisecond, not at it', () => {
    // Lifetime 32 grants 2^(32-32) s = 1000 ms from the R1 taken at 0: a slice at 1000 still
    // works on the puzzle, one at 1001 gives up.
    const s = slicedR1('lifetime-edge', { puzzle: { difficulty: 18, lifetime: 32 } }, { puzzle: { sliceAttempts: 16 } });
    s.a.engine.handleTimeout(1000);
    expect(failures(s.a.engine)).toEqual([]);
    expect(s.a.engine.association(idB.hit())?.state).toBe('I1-SENT');
    s.a.engine.handleTimeout(1001);
    expect(failures(s.a.engine).map((x) => x.reason)).toEqual(['puzzle-unsolved']);
  });

  it('past the lifetime: puzzle-unsolved, saying after how many attempts', () => {
    const s = slicedR1('lifetime-detail', { puzzle: { difficulty: 18, lifetime: 32 } }, { puzzle: { sliceAttempts: 16 } });
    s.a.engine.handleTimeout(1500); // lifetime 32: one second
    const f = failures(s.a.engine);
    expect(f.map((x) => x.reason)).toEqual(['puzzle-unsolved']);
    expect(f[0]!.detail).toMatch(/^puzzle lifetime passed after \d+ attempts$/);
  });

  it('a puzzle no #J solves gives up after 2^(K+6) attempts, whatever the slice size', () => {
    // A broken hash (every puzzle digest all ones) stands for a puzzle that has no solution.
    const broken: CryptoProvider = {
      ...nodeCrypto,
      hash: (h, d) => (d.length === 96 || d.length === 128 ? new Uint8Array(h === 'sha384' ? 48 : 32).fill(0xff) : nodeCrypto.hash(h, d)),
    };
    const s = toR1('no-solution', { puzzle: { difficulty: 1 } }, { puzzle: { sliceAttempts: 100 } }, { provider: broken });
    for (let i = 0; i < 10 && s.a.engine.association(idB.hit()); i++) s.a.engine.handleTimeout(0);
    const f = failures(s.a.engine);
    expect(f.map((x) => [x.reason, x.detail])).toEqual([['puzzle-unsolved', 'no solution in 128 attempts']]);
  });
});

describe('HIPv1 R1 with two DH values (RFC 5201 allows two)', () => {
  it('the initiator takes the value of its preferred group, whatever comes first', () => {
    const net = new SimNetwork('v1-two-dh');
    const a = net.addNode('a', rsaA, { version: 1, dhGroupsV1: [3] });
    const b = net.addNode('b', rsaB, { dhGroupsV1: [3] });
    const i2s: HipPacket[] = [];
    net.hook = (t) => {
      if (t.packetType === PacketType.I2) i2s.push(parsePacket(t.packet.slice()));
      if (t.packetType !== PacketType.R1) return t.packet;
      const p = parsePacket(t.packet.slice());
      const dh = getParam(p, ParamType.DIFFIE_HELLMAN)!;
      dh.values = [{ group: 4, publicValue: new Uint8Array(384).fill(2) }, dh.values[0]!];
      p.params = p.params.filter((x) => x.type !== ParamType.HIP_SIGNATURE_2);
      const me = (b.engine as unknown as { local(v: 1 | 2): LocalSide }).local(1);
      return sealPacket(nodeCrypto, p, undefined, { type: ParamType.HIP_SIGNATURE_2, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm });
    };
    a.engine.connect(rsaB.hit(1), [b.locator], net.now);
    net.run();
    expect(i2s.length).toBeGreaterThan(0);
    expect(getParam(i2s[0]!, ParamType.DIFFIE_HELLMAN)!.values.map((v) => v.group)).toEqual([3]);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });
});
