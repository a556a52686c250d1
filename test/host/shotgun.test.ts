/**
 * Shotgun over real UDP sockets on loopback (HIPL manual ch. 11): an initiator that knows two
 * rendezvous servers for a HIT, the first one crashed, gets through the second even though its
 * first I1 there found the responder not yet registered: the retransmitted I1s go to every known
 * locator, not only to the first (dead) one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';
import { createRelay } from '../../src/relay/index.js';

const LO = '127.0.0.1';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe('shotgun on I1 retransmissions (real sockets)', () => {
  it('a crashed server first, a second one known: a retransmission round reaches the second, and the BEX gets through', async () => {
    const r = await HipHost.create({ udp: { address: LO, port: 0 }, tcp: false });
    const i = await HipHost.create({ udp: { address: LO, port: 0 }, tcp: false });
    cleanup.push(() => r.shutdown(0), () => i.shutdown(0));
    const s1 = await createRelay({ identity: HostIdentity.generate(), whitelist: [r.hit()], address: LO, port: 0 });
    const s2 = await createRelay({ identity: HostIdentity.generate(), whitelist: [r.hit()], address: LO, port: 0 });
    cleanup.push(() => s2.close());
    const s1Port = s1.address.port;
    // The first server crashes (nothing listens on its port any more).
    await s1.close();
    i.peers.add(r.hit(), { address: LO, port: s1Port });
    i.peers.add(r.hit(), { address: LO, port: s2.address.port });
    const connected = i.connect(r.hit());
    // The first round reaches the second server before the responder is registered there: the
    // server drops that I1 (not registered). Only a later round can get through.
    while (s2.stats().notRegistered === 0) await new Promise((res) => setTimeout(res, 10));
    expect(s2.stats().forwarded).toBe(0);
    await r.registerWith({ hit: s2.hit, address: LO, port: s2.address.port, lifetime: 600 });
    const info = await connected;
    expect(info.peerHit).toBe(r.hit());
    expect(s2.stats().forwarded).toBe(1);
    expect(r.isEstablished(i.hit())).toBe(true);
  });
});
