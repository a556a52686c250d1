/**
 * Issue 11: peer keys are decoded, hashed and imported once per process, not once per engine: a
 * client that makes a new host per connection meets the same responder key each time.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { getProvider } from '../../src/crypto/get-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { SimNetwork } from './sim.js';

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
});
