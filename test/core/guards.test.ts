// Single-line security checks of the BEX that mutation testing showed no other test noticed
// when removed (issue 8, "Tests that guard the guards"). Each test names the guard it protects
// and asserts what an attacker would gain without it, not just that something was dropped.
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipPacket } from '../../src/wire/index.js';
import { claimingHit, SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const idM = HostIdentity.generate(); // mallory

/** node:crypto with a count of the Diffie-Hellman computations, the work a forged I2 must not buy. */
function countingProvider(): { provider: CryptoProvider; dh: () => number } {
  let n = 0;
  const provider: CryptoProvider = {
    ...nodeCrypto,
    dhCompute: (...args: Parameters<CryptoProvider['dhCompute']>) => {
      n++;
      return nodeCrypto.dhCompute(...args);
    },
  };
  return { provider, dh: () => n };
}

function drops(n: SimNode, reason: string): number {
  return SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;
}

function rewrite(bytes: Uint8Array, change: (p: HipPacket) => void): Uint8Array {
  const p = parsePacket(bytes.slice());
  change(p);
  return emitPacket(p);
}

/** A network where the first I2 from a to b is rewritten by `change`; b counts its DH work. */
function forgedI2(seed: string, change: (p: HipPacket) => void) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA);
  const counting = countingProvider();
  const b = net.addNode('b', idB, {}, { provider: counting.provider });
  let forged = false;
  net.hook = (t) => {
    if (t.packetType !== PacketType.I2 || forged) return t.packet;
    forged = true;
    return rewrite(t.packet, change);
  };
  return { net, a, b, dh: counting.dh };
}

describe('responder I2 guards', () => {
  it('an I2 whose SOLUTION K is below the K of the issued puzzle is dropped as bad-puzzle before any DH work', () => {
    // With K = 0 every #J "solves" the puzzle: without the K-vs-issued-K check an initiator
    // could skip the work the responder asked for.
    const { net, a, b, dh } = forgedI2('guard-k', (p) => {
      const s = getParam(p, ParamType.SOLUTION)!;
      expect(s.k).toBeGreaterThan(0);
      s.k = 0;
    });
    const before = dh();
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(drops(b, 'bad-puzzle')).toBe(1);
    expect(drops(b, 'bad-mac')).toBe(0);
    expect(dh()).toBe(before);
    expect(b.engine.association(idA.hit())).toBeUndefined();
  });

  it('an I2 echoing another R1_COUNTER than the puzzle generation is dropped as stale-puzzle before any DH work', () => {
    const { net, a, b, dh } = forgedI2('guard-counter', (p) => {
      const c = getParam(p, ParamType.R1_COUNTER)!;
      c.counter += 1n;
    });
    const before = dh();
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(drops(b, 'stale-puzzle')).toBe(1);
    expect(drops(b, 'bad-mac')).toBe(0);
    expect(dh()).toBe(before);
    expect(b.engine.association(idA.hit())).toBeUndefined();
    net.run(); // the genuine retransmitted I2 is still accepted
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
  });

  it("an I2 signed with mallory's HOST_ID under the victim's HIT is refused (hit-mismatch) and impersonates nobody", () => {
    // Mallory runs a complete, self-consistent BEX (her own DH, MAC and signature) but claims
    // A's HIT. Only the check that the HOST_ID hashes to the sender HIT stops her.
    const impostor = claimingHit(idM, (v: 1 | 2 = 2) => idA.hit(v));
    const net = new SimNetwork('guard-hit');
    const m = net.addNode('m', impostor);
    const b = net.addNode('b', idB);
    m.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(drops(b, 'hit-mismatch')).toBeGreaterThanOrEqual(1);
    expect(b.engine.association(idA.hit())).toBeUndefined();
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
    expect(SimNetwork.eventsOf(m, 'established')).toHaveLength(0);
  });
});

describe('initiator R2 guards', () => {
  it('an R2 replayed after establishment is a duplicate: no second establishment, the SA is untouched', () => {
    const net = new SimNetwork('guard-r2');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    let r2: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType === PacketType.R2 && !r2) r2 = t.packet.slice();
      return t.packet;
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    expect(a.engine.association(idB.hit())?.state).toBe('ESTABLISHED');
    const sa = structuredClone(a.engine.association(idB.hit())!.sa);
    net.inject(a, r2!, b);
    expect(drops(a, 'duplicate')).toBe(1);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
    expect(a.engine.association(idB.hit())!.sa).toEqual(sa);
  });

  it('an R2 in I1-SENT (no I2 sent yet) is dropped as wrong-state', () => {
    // Record a full exchange, then offer its R2 to a fresh initiator that has only sent I1.
    const net = new SimNetwork('guard-r2-state');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    let r2: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType === PacketType.R2 && !r2) r2 = t.packet.slice();
      return t.packet;
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const net2 = new SimNetwork('guard-r2-state-2');
    const a2 = net2.addNode('a', idA);
    const b2 = net2.addNode('b', idB);
    net2.hook = () => undefined; // nothing reaches b2: a2 stays in I1-SENT
    a2.engine.connect(idB.hit(), [b2.locator], net2.now);
    net2.flush();
    expect(a2.engine.association(idB.hit())?.state).toBe('I1-SENT');
    net2.inject(a2, r2!, b2);
    expect(drops(a2, 'wrong-state')).toBe(1);
    expect(a2.engine.association(idB.hit())?.state).toBe('I1-SENT');
  });
});
