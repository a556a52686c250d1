/**
 * Issue 11: peer keys are decoded, hashed and imported once per process, not once per engine: a
 * client that makes a new host per connection meets the same responder key each time.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { claimingHit, SimNetwork } from './sim.js';

describe('peer key cache', () => {
  it('a second engine reuses the key the first one imported for the same responder', () => {
    const base = getProvider('node');
    let imports = 0;
    const provider: CryptoProvider = {
      ...base,
      importVerifyingKey: (k) => {
        imports++;
        return base.importVerifyingKey(k);
      },
    };
    const idB = HostIdentity.generate();
    const net = new SimNetwork('peer-key-cache');
    const b = net.addNode('b', idB, {}, { provider });
    for (const name of ['a1', 'a2']) {
      const a = net.addNode(name, HostIdentity.generate(), {}, { provider });
      a.engine.connect(idB.hit(), [b.locator], net.now);
      net.run(net.now + 1000);
      expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1);
    }
    // The responder imports each initiator's key once; the initiators share one import of B's.
    expect(imports).toBe(3);
  });

  it("a cached key does not vouch for another HIT: an I2 with a known HOST_ID under someone else's HIT is hit-mismatch", () => {
    const provider = { ...getProvider('node') };
    const idA = HostIdentity.generate();
    const idB = HostIdentity.generate();
    const net = new SimNetwork('peer-key-cache-claim');
    const b = net.addNode('b', idB, {}, { provider });
    const a = net.addNode('a', idA, {}, { provider });
    a.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1000);
    expect(SimNetwork.eventsOf(a, 'established')).toHaveLength(1); // b now has A's key cached
    // A's keys presented under another HIT of the same suite.
    const other = (v: 1 | 2 = 2) => {
      const h = idA.hit(v).slice();
      h[15]! ^= 1;
      return h;
    };
    const claimant = net.addNode('claimant', claimingHit(idA, other), {}, { provider });
    claimant.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 500);
    expect(SimNetwork.eventsOf(b, 'dropped').filter((d) => d.reason === 'hit-mismatch').length).toBeGreaterThanOrEqual(1);
    expect(b.engine.association(other())).toBeUndefined();
  });
});
