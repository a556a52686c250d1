/**
 * Shotgun through a real NAT (issue 12, HIPL manual ch. 11): a responder behind MASQUERADE is
 * registered at two rendezvous servers in the public namespace; the first one crashes (SIGKILL);
 * a public initiator that knows the responder's HIT and both servers still gets through, because
 * its rounds of I1s go to every known locator of the peer, and data then flows both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NetLab, PUBLIC_NET, skipWithoutNetns } from '../helpers/netns.js';
import { bothWays, NAT_PEER, RVS, type Ready } from './exchange.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

describe.skipIf(skipWithoutNetns())('real NAT: shotgun over two rendezvous servers', () => {
  it('the first server crashed: the BEX gets through the second, and data flows both ways', async () => {
    lab = await NetLab.create();
    const nat = await lab.nat('nat1', 1);
    const r = await lab.startPeer(await lab.privateHost('r', nat, 2), { udpPort: 10500 }, NAT_PEER);
    const rHit = ((await r.waitFor('ready')).ready as Ready).hit;
    const servers = [];
    for (const [name, host] of [['rvs1', 5], ['rvs2', 6]] as const) {
      const s = await lab.startPeer(await lab.publicHost(name, host), { whitelist: [rHit] }, RVS);
      const sHit = ((await s.waitFor('ready')).ready as { hit: string }).hit;
      const from = r.lines.length;
      r.send({ op: 'register', hit: sHit, address: `${PUBLIC_NET}.${host}`, port: 10500, lifetime: 600 });
      await r.waitLine((l) => 'registered' in l, 20_000, from, '"registered"');
      servers.push(s);
    }
    const [first, second] = servers as [(typeof servers)[0], (typeof servers)[0]];
    first.child.kill('SIGKILL');
    await first.exited;

    const i = await lab.startPeer(
      await lab.publicHost('i', 20),
      { peer: { hit: rHit, address: `${PUBLIC_NET}.5`, port: 10500, also: [{ address: `${PUBLIC_NET}.6`, port: 10500 }] } },
      NAT_PEER,
    );
    i.send({ op: 'connect' });
    const est = (await i.waitFor('established', 30_000)).established as { address: string };
    // Where the responder really is, learnt from its R1: the NAT, not either server.
    expect(est.address).toBe(`${PUBLIC_NET}.1`);
    await r.waitLine((l) => 'established' in l && (l.established as { role: string }).role === 'responder');
    await bothWays(i, r);
    const from = second.lines.length;
    second.send({ op: 'stats' });
    const stats = (await second.waitLine((l) => 'stats' in l, 5000, from)).stats as Record<string, number>;
    expect(stats.forwarded).toBeGreaterThanOrEqual(1);
  });
});
