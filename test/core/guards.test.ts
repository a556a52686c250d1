/**
 * Guards of the responder that no other test pinned down (issue 8, "tests that guard the
 * guards"): each test here fails if its check is removed. The attacks need an initiator that
 * breaks the rules while still MACing and signing correctly, so they reach into the initiator's
 * keys or give it a signature check that accepts anything.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/bytes.js';
import { signatureSchemeFor } from '../../src/crypto/host-id.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { HipKeys } from '../../src/core/session-keys.js';
import { sealPacket } from '../../src/core/sealing.js';
import { getParam, PacketType, ParamType, parsePacket, emitPacket, type HipPacket } from '../../src/wire/index.js';
import { SimNetwork, type SimNode } from './sim.js';

const idA = HostIdentity.generate();
const idB = HostIdentity.generate();
const idM = HostIdentity.generate();

const drops = (n: SimNode, reason: string) => SimNetwork.eventsOf(n, 'dropped').filter((d) => d.reason === reason).length;

/** The initiator's HIP keys for its association with `peer` (test-only peek inside the engine). */
function hipKeysOf(node: SimNode, peer: HostIdentity): HipKeys {
  const table = (node.engine as unknown as { associations: Map<string, { hipKeys?: HipKeys }> }).associations;
  return table.get(bytesToHex(peer.hit()))!.hipKeys!;
}

/** Change an R1 on its way; the initiator is given a signature check that accepts anything. */
function tamperedR1(seed: string, change: (p: HipPacket) => void) {
  const net = new SimNetwork(seed);
  const a = net.addNode('a', idA, {}, { provider: { ...nodeCrypto, verify: () => true } });
  const b = net.addNode('b', idB, { puzzle: { difficulty: 10 } });
  net.hook = (t) => {
    if (t.packetType !== PacketType.R1) return t.packet;
    const p = parsePacket(t.packet.slice());
    change(p);
    return emitPacket(p);
  };
  a.engine.connect(idB.hit(), [b.locator], net.now);
  net.run(net.now + 200);
  return { a, b };
}

describe('responder guards', () => {
  it('an I2 whose HOST_ID is not the one its sender HIT names is refused, even with a valid MAC and signature', () => {
    const net = new SimNetwork('guard-hit');
    const a = net.addNode('a', idA);
    const b = net.addNode('b', idB);
    net.hook = (t) => {
      if (t.packetType !== PacketType.I2) return t.packet;
      // Mallory knows the session keys (she is the initiator) and signs with her own key,
      // but claims A's HIT.
      const p = parsePacket(t.packet.slice());
      const m = idM.hostIdentity(2);
      const params = p.params
        .filter((x) => x.type !== ParamType.HIP_MAC && x.type !== ParamType.HIP_SIGNATURE)
        .map((x) => (x.type === ParamType.HOST_ID ? { ...x, algorithm: m.algorithm, hostIdentity: m.hostIdentity } : x));
      const keys = hipKeysOf(a, idB);
      return sealPacket(
        nodeCrypto,
        { ...p, params },
        { type: ParamType.HIP_MAC, hash: keys.macHash, key: keys.macOut },
        { type: ParamType.HIP_SIGNATURE, key: nodeCrypto.importSigningKey(idM.privateKey), scheme: signatureSchemeFor(idM.publicKey, 2), algorithm: m.algorithm },
      );
    };
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 200);
    expect(drops(b, 'hit-mismatch')).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
    expect(b.engine.association(idA.hit())).toBeUndefined();
  });

  it('a SOLUTION for a lower K than the one issued is refused (bad-puzzle)', () => {
    const { b } = tamperedR1('guard-k', (p) => {
      getParam(p, ParamType.PUZZLE)!.k = 0;
    });
    expect(drops(b, 'bad-puzzle')).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
  });

  it('an I2 echoing an R1_COUNTER we did not issue is refused (stale-puzzle)', () => {
    const { b } = tamperedR1('guard-counter', (p) => {
      getParam(p, ParamType.R1_COUNTER)!.counter += 5n;
    });
    expect(drops(b, 'stale-puzzle')).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(0);
  });

  it('the same tampering without the R1 change establishes (the harness itself is sound)', () => {
    const { a, b } = tamperedR1('guard-control', () => undefined);
    expect(SimNetwork.eventsOf(b, 'established')).toHaveLength(1);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
  });
});
