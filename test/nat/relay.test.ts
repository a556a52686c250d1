/**
 * Two hosts behind two different real NATs (MASQUERADE) and a HIP relay (RFC 9028) in the public
 * namespace (issue 12): the responder registers for the control and data relay, the initiator
 * knows only the responder's HIT and the relay; the base exchange and then all ESP go through
 * the relay (counted there). A HIT not on the whitelist is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../host/processes.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns, type NatRouter } from '../helpers/netns.js';
import { bothWays, NAT_PEER, RVS, type Ready } from './exchange.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

const RELAY_ADDRESS = `${PUBLIC_NET}.5`;

interface Setup {
  lab: NetLab;
  nat1: NatRouter;
  nat2: NatRouter;
  s: Peer;
  sHit: string;
  r: Peer;
  rHit: string;
}

/** Relay at .5; responder behind nat1 (WAN .1), registered for the relay; nat2 (WAN .2) for the initiator. */
async function setup(opts: { server?: Record<string, unknown>; natOpts?: string[] } = {}): Promise<Setup> {
  lab = await NetLab.create();
  const sNs = await lab.publicHost('relay', 5);
  const nat1 = await lab.nat('nat1', 1);
  const nat2 = await lab.nat('nat2', 2);
  const rNs = await lab.privateHost('r', nat1, 2);
  const r = await lab.startPeer(rNs, { udpPort: 10500 }, NAT_PEER);
  const rHit = ((await r.waitFor('ready')).ready as Ready).hit;
  const s = await lab.startPeer(sNs, { whitelist: [rHit], relay: true, ...opts.server }, RVS);
  const sHit = ((await s.waitFor('ready')).ready as { hit: string }).hit;
  return { lab, nat1, nat2, s, sHit, r, rHit };
}

async function stats(s: Peer): Promise<Record<string, number>> {
  const from = s.lines.length;
  s.send({ op: 'stats' });
  return (await s.waitLine((l) => 'stats' in l, 5000, from)).stats as Record<string, number>;
}

async function registerRelay(r: Peer, sHit: string): Promise<void> {
  r.send({ op: 'register', hit: sHit, address: RELAY_ADDRESS, port: 10500, lifetime: 600, type: 'relay' });
  const reg = (await r.waitFor('registered')).registered as { types: number[]; reflexive: { address: string } };
  expect(reg.types).toEqual([2, 3]);
  expect(reg.reflexive.address).toBe(`${PUBLIC_NET}.1`);
}

describe.skipIf(skipWithoutNetns())('real NATs: both hosts behind MASQUERADE, reached through a HIP relay', () => {
  it('the base exchange and all data go through the relay: datagrams and a stream both ways', async () => {
    const { lab, nat2, s, sHit, r, rHit } = await setup();
    await registerRelay(r, sHit);
    expect((await s.waitFor('log')).log).toMatch(/^registered .* for relay,data-relay/);

    const i = await lab.startPeer(await lab.privateHost('i', nat2, 2), { peer: { hit: rHit, address: RELAY_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    const est = (await i.waitFor('established')).established as { address: string };
    // Neither side can reach the other: the initiator keeps talking to the relay.
    expect(est.address).toBe(RELAY_ADDRESS);
    await r.waitFor('established');
    const before = await stats(s);
    expect(before).toMatchObject({ controlToClient: 2, controlFromClient: 2, controlRefused: 0, clients: 1 });
    await bothWays(i, r);
    const after = await stats(s);
    // Two datagrams and the stream's segments (and their ACKs), all relayed.
    expect(after.espPackets).toBeGreaterThanOrEqual(4);
    expect(after.espBytes).toBeGreaterThan(0);
    expect(after.espRateLimited).toBe(0);
  });

  it('a HIT that is not on the whitelist is refused and nothing is relayed to it', async () => {
    const { lab, nat1, nat2, s, sHit } = await setup();
    const x = await lab.startPeer(await lab.privateHost('x', nat1, 3), { udpPort: 10500 }, NAT_PEER);
    const xHit = ((await x.waitFor('ready')).ready as Ready).hit;
    x.send({ op: 'register', hit: sHit, address: RELAY_ADDRESS, port: 10500, lifetime: 600, type: 'relay' });
    const failed = (await x.waitFor('registerFailed')).registerFailed as { code: string; message: string };
    expect(failed.message).toMatch(/whitelist/);
    const i = await lab.startPeer(await lab.privateHost('i', nat2, 2), { peer: { hit: xHit, address: RELAY_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    const deadline = Date.now() + 10_000;
    let st = await stats(s);
    while (st.notRegistered === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      st = await stats(s);
    }
    expect(st).toMatchObject({ controlToClient: 0, forwarded: 0, espPackets: 0, clients: 0 });
    expect(st.notRegistered).toBeGreaterThan(0);
    expect(i.lines.some((l) => 'established' in l)).toBe(false);
  });
});
