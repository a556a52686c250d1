/**
 * Issue 8, bounded resources: the association table has a count limit (`maxAssociations`).
 * When it is full, an I2 from a new HIT is dropped before any DH or signature work, an
 * established association is never evicted for it, and a local connect() to a new peer gets a
 * typed error.
 */
import { describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { nodeCrypto } from '../../src/crypto/node-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { HipState } from '../../src/core/association.js';
import { resolveEngineConfig } from '../../src/core/config.js';
import { PacketType } from '../../src/wire/index.js';
import { SimNetwork } from './sim.js';

const idB = HostIdentity.generate();
const peers = [HostIdentity.generate(), HostIdentity.generate(), HostIdentity.generate()];

/** node:crypto, counting private-key and DH operations. */
function counting(): { provider: CryptoProvider; signs: () => number; dh: () => number } {
  let signs = 0;
  let dh = 0;
  return {
    provider: {
      ...nodeCrypto,
      sign: (k, s, d) => (signs++, nodeCrypto.sign(k, s, d)),
      dhCompute: (k, p) => (dh++, nodeCrypto.dhCompute(k, p)),
    },
    signs: () => signs,
    dh: () => dh,
  };
}

describe('association limit', () => {
  it('refuses an I2 from a new HIT when the table is full, silently and without DH or signature work', () => {
    const net = new SimNetwork('assoc-limit');
    const c = counting();
    const b = net.addNode('b', idB, { maxAssociations: 2 }, { provider: c.provider });
    const [a1, a2, a3] = peers.map((id, i) => net.addNode(`a${i}`, id));
    a1!.engine.connect(idB.hit(), [b.locator], net.now);
    a2!.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1000);
    expect(b.engine.associationCount).toBe(2);
    const signs = c.signs();
    const dh = c.dh();

    const toA3: number[] = [];
    net.hook = (t, _from, to) => (to === a3 && toA3.push(t.packetType), t.packet);
    a3!.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1000);
    net.hook = undefined;

    // Every I2 the newcomer sent was refused before the DH step; it got R1s (the precomputed,
    // already signed template) and nothing else: no R2, no NOTIFY.
    expect(b.engine.stats.dropped['association-limit']).toBeGreaterThan(0);
    expect(SimNetwork.eventsOf(b, 'dropped').find((d) => d.reason === 'association-limit')?.detail).toBe('2 associations');
    expect(c.dh()).toBe(dh);
    expect(c.signs()).toBe(signs);
    expect(toA3.length).toBeGreaterThan(0);
    expect(toA3.every((t) => t === PacketType.R1)).toBe(true);
    expect(b.engine.association(peers[2]!.hit())).toBeUndefined();
    expect(b.engine.associationCount).toBe(2);
    // The two established associations were not evicted for it.
    for (const p of peers.slice(0, 2)) expect([HipState.R2_SENT, HipState.ESTABLISHED]).toContain(b.engine.association(p.hit())?.state);

    // The newcomer's BEX fails (its I2 is never answered) ...
    net.run(net.now + 120_000);
    expect(SimNetwork.eventsOf(a3!, 'failed')).toHaveLength(1);
    expect(b.engine.stats.dropped['association-limit']).toBeGreaterThanOrEqual(2);

    // ... and succeeds once a place is free again: a1 closes and its CLOSED state lingers out.
    a1!.engine.close(idB.hit(), net.now);
    net.run(net.now + 10_000);
    expect(b.engine.association(peers[0]!.hit())).toBeUndefined();
    a3!.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1000);
    expect(SimNetwork.eventsOf(a3!, 'established')).toHaveLength(1);
    expect([HipState.R2_SENT, HipState.ESTABLISHED]).toContain(b.engine.association(peers[2]!.hit())?.state);
    expect(b.engine.associationCount).toBe(2);
  });

  it('an I2 from a peer that already has an association is not refused by a full table', () => {
    const net = new SimNetwork('assoc-limit-existing');
    const b = net.addNode('b', idB, { maxAssociations: 1 });
    const a1 = net.addNode('a1', peers[0]!);
    a1.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 1000);
    // a1 loses its state (a restart, on a new port) and runs a new BEX under the same HIT: its
    // I2 replaces the old association instead of needing a second place.
    net.nodes.delete(a1.locator.key);
    const again = net.addNode('a1-restarted', peers[0]!);
    again.engine.connect(idB.hit(), [b.locator], net.now);
    net.run(net.now + 120_000);
    expect(b.engine.stats.dropped['association-limit']).toBeUndefined();
    expect(SimNetwork.eventsOf(again, 'established')).toHaveLength(1);
    expect(b.engine.associationCount).toBe(1);
  });

  it('a local connect() to a new peer throws a typed error when the table is full', () => {
    const net = new SimNetwork('assoc-limit-connect');
    const b = net.addNode('b', idB, { maxAssociations: 1 });
    const a1 = net.addNode('a1', peers[0]!);
    const a2 = net.addNode('a2', peers[1]!);
    b.engine.connect(peers[0]!.hit(), [a1.locator], net.now);
    expect(() => b.engine.connect(peers[1]!.hit(), [a2.locator], net.now)).toThrow(
      expect.objectContaining({ code: 'ERR_HIP_ASSOCIATION_LIMIT' }),
    );
    // Asking again for the peer it already has is no new entry.
    expect(() => b.engine.connect(peers[0]!.hit(), [a1.locator], net.now)).not.toThrow();
    net.run(net.now + 1000);
    expect(b.engine.association(peers[0]!.hit())?.state).toBe(HipState.ESTABLISHED);
    expect(b.engine.associationCount).toBe(1);
  });

  it('maxAssociations is checked at creation', () => {
    expect(resolveEngineConfig().maxAssociations).toBe(16_384);
    for (const v of [0, -1, 1.5, Number.NaN, Infinity, '10']) {
      expect(() => resolveEngineConfig({ maxAssociations: v as number })).toThrow(
        expect.objectContaining({ code: 'ERR_HIP_BAD_OPTION', details: expect.objectContaining({ option: 'maxAssociations' }) }),
      );
    }
    expect(resolveEngineConfig({ maxAssociations: 1 }).maxAssociations).toBe(1);
  });
});
