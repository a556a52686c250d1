/**
 * Issue 8 item 1: a key and counter pair is never installed twice. The responder's DH key is
 * fixed for an R1 generation, so an I2 accepted again would derive the same ESP keys and
 * restart their sequence numbers (with AES-GCM: key/nonce reuse).
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();

/** node:crypto with a counter of DH computations. */
function countingProvider(): { provider: CryptoProvider; dh: () => number } {
  let n = 0;
  const provider: CryptoProvider = {
    ...nodeCrypto,
    dhCompute: (own, peer) => {
      n++;
      return nodeCrypto.dhCompute(own, peer);
    },
  };
  return { provider, dh: () => n };
}

function setup(seed: string, optsB = {}) {
  const net = new SimNetwork(seed);
  const counting = countingProvider();
  const a = net.addNode('a', idA);
  const b = net.addNode('b', idB, optsB, { provider: counting.provider });
  const seen = new Map<number, Uint8Array>();
  net.hook = (t) => {
    if (!seen.has(t.packetType)) seen.set(t.packetType, t.packet.slice());
    return t.packet;
  };
  a.engine.connect(idB.hit(), [b.locator], net.now);
  net.run();
  return { net, a, b, seen, dh: counting.dh };
}

const drops = (n: SimNode, reason: string) => SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;
const established = (n: SimNode) => SimNetwork.eventsOf(n, 'established');

describe('a replayed I2 never installs the same keys twice', () => {
  it('byte-exact after the association closed and was forgotten: dropped as a replay, no second install', () => {
    const { net, a, b, seen } = setup('i2-after-close');
    expect(established(b)).toHaveLength(1);
    a.engine.close(idB.hit(), net.now);
    net.run();
    expect(b.engine.association(idA.hit())).toBeUndefined(); // CLOSED lingered, then forgotten
    net.now += 30_000; // still inside the R1 generation (rotation 120 s)
    net.inject(b, seen.get(PacketType.I2)!, a);
    expect(drops(b, 'replay')).toBe(1);
    expect(b.engine.association(idA.hit())).toBeUndefined();
    expect(established(b)).toHaveLength(1);
  });

  it('with only the checksum changed, into the live association: an R2 is resent, the SA stays', () => {
    const { net, a, b, seen } = setup('i2-checksum');
    const before = b.engine.association(idA.hit())!;
    const i2 = seen.get(PacketType.I2)!.slice();
    i2[4] = 0x12;
    i2[5] = 0x34;
    const r2Before = b.events.length;
    net.inject(b, i2, a);
    expect(drops(b, 'duplicate')).toBe(1);
    expect(established(b)).toHaveLength(1);
    expect(b.engine.association(idA.hit())!.sa).toEqual(before.sa);
    expect(b.events.slice(r2Before).some((e) => e.type === 'bex' && e.step === 'r2-sent' && e.retransmission)).toBe(true);
  });

  it('the same solution re-MACed by nobody (any other byte changed) is refused before any DH work', () => {
    const { net, a, b, seen, dh } = setup('i2-reordered');
    const p = parsePacket(seen.get(PacketType.I2)!.slice());
    // Append an unsigned echo response: bytes differ, MAC and signature still verify.
    p.params.push({ type: ParamType.ECHO_RESPONSE_UNSIGNED, opaque: new Uint8Array([1, 2, 3]) });
    const dhBefore = dh();
    net.inject(b, emitPacket(p), a);
    expect(drops(b, 'replay')).toBe(1);
    expect(dh()).toBe(dhBefore);
    expect(established(b)).toHaveLength(1);
  });

  it('a solution with a broken MAC buys at most three DH computations', () => {
    const { net, a, b, seen, dh } = setup('i2-dh-budget');
    a.engine.close(idB.hit(), net.now);
    net.run();
    const p = parsePacket(seen.get(PacketType.I2)!.slice());
    // A fresh solution: the attacker reuses #I and #J but a new DH value breaks the MAC.
    const dhv = getParam(p, ParamType.DIFFIE_HELLMAN)!;
    const kp = nodeCrypto.dhGenerate(dhv.values[0]!.group);
    dhv.values[0]!.publicValue = kp.publicValue;
    const forged = emitPacket(p);
    const dhBefore = dh();
    for (let i = 0; i < 50; i++) net.inject(b, forged, a);
    // The original solution was accepted already: every copy is refused without DH.
    expect(dh() - dhBefore).toBe(0);
    expect(drops(b, 'replay')).toBe(50);
  });

  it('an unaccepted solution presented again and again stops costing DH after three tries', () => {
    const net = new SimNetwork('i2-unaccepted');
    const counting = countingProvider();
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB, {}, { provider: counting.provider });
    let i2: Uint8Array | undefined;
    net.hook = (t) => {
      if (t.packetType !== PacketType.I2) return t.packet;
      i2 ??= t.packet.slice();
      return undefined; // the genuine I2 never arrives
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 100);
    expect(i2).toBeDefined();
    const p = parsePacket(i2!);
    const m = getParam(p, ParamType.HIP_MAC)!;
    m.mac = m.mac.map((x) => x ^ 0xff);
    const forged = emitPacket(p);
    for (let i = 0; i < 20; i++) net.inject(b, forged, a);
    expect(counting.dh()).toBe(3);
    expect(drops(b, 'bad-mac')).toBe(3);
    expect(drops(b, 'replay')).toBe(17);
  });

  it('a peer that starts over (fresh DH, fresh #J) gets a new association with new keys', () => {
    const { net, a, b } = setup('i2-restart');
    const first = b.engine.association(idA.hit())!.sa!;
    a.engine.close(idB.hit(), net.now);
    net.run();
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run();
    const second = b.engine.association(idA.hit())!.sa!;
    expect(established(b)).toHaveLength(2);
    expect(Buffer.from(second.outbound.enc).equals(Buffer.from(first.outbound.enc))).toBe(false);
  });
});

describe('an R2 is only accepted in I2-SENT', () => {
  it('a replayed R2 at an established initiator is dropped and installs nothing', () => {
    const { net, a, b, seen } = setup('r2-replay');
    const sa = a.engine.association(idB.hit())!.sa;
    net.inject(a, seen.get(PacketType.R2)!, b);
    expect(drops(a, 'duplicate')).toBe(1);
    expect(established(a)).toHaveLength(1);
    expect(a.engine.association(idB.hit())!.sa).toEqual(sa);
  });

  it('a replayed R2 while closing is dropped', () => {
    const { net, a, b, seen } = setup('r2-closing');
    net.hook = (t) => (t.packetType === PacketType.CLOSE_ACK ? undefined : t.packet);
    a.engine.close(idB.hit(), net.now);
    net.run(net.now + 10);
    expect(a.engine.association(idB.hit())!.state).toBe('CLOSING');
    net.inject(a, seen.get(PacketType.R2)!, b);
    expect(drops(a, 'wrong-state')).toBe(1);
    expect(established(a)).toHaveLength(1);
  });
});
