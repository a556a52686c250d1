/**
 * Two hosts behind two different real NATs (MASQUERADE) and a HIP relay (RFC 9028) in the public
 * namespace (issue 12): the responder registers for the control and data relay, the initiator
 * knows only the responder's HIT and the relay; the base exchange goes through the relay.
 * Without hole punching all ESP is relayed (counted there); with it, the connectivity checks
 * succeed and data bypasses the relay (which may then crash without harm); with `--random-fully`
 * NATs the checks fail and data stays relayed and correct. A HIT not on the whitelist is refused.
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

/** The nat-peer's engine options, with hole punching on or off. */
function engine(holePunching: boolean): Record<string, unknown> {
  return { host: { engine: { retransmit: { initialMs: 200, i1Retries: 8, i2Retries: 8 }, holePunching } } };
}

/**
 * A home gateway's firewall: drop what arrives on the WAN for the router itself. Besides being
 * what gateways do, it matters for hole punching on Linux: an unsolicited packet that reaches the
 * router's own stack leaves a conntrack entry (src = the peer's NAT) behind, and the host's own
 * check to that peer then gets a different external port (the tuple is taken), so two plain
 * MASQUERADE routers only let a punch through when both checks cross within the one-way delay
 * (microseconds here). A packet dropped in INPUT leaves no entry.
 */
async function gatewayFirewall(nat: NatRouter): Promise<void> {
  await lab!.exec(nat.ns, 'iptables', '-A', 'INPUT', '-i', 'wan', '-j', 'DROP');
}

/** Replace a NAT's MASQUERADE with one that picks a random port for every new flow. */
async function randomFully(nat: NatRouter): Promise<void> {
  await lab!.exec(nat.ns, 'iptables', '-t', 'nat', '-F', 'POSTROUTING');
  await lab!.exec(nat.ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', '--random-fully');
}

/** Relay at .5; responder behind nat1 (WAN .1), registered for the relay; nat2 (WAN .2) for the initiator. */
async function setup(opts: { server?: Record<string, unknown>; punch?: boolean; randomFully?: boolean } = {}): Promise<Setup> {
  lab = await NetLab.create();
  const sNs = await lab.publicHost('relay', 5);
  const nat1 = await lab.nat('nat1', 1);
  const nat2 = await lab.nat('nat2', 2);
  await gatewayFirewall(nat1);
  await gatewayFirewall(nat2);
  if (opts.randomFully) {
    await randomFully(nat1);
    await randomFully(nat2);
  }
  const rNs = await lab.privateHost('r', nat1, 2);
  const r = await lab.startPeer(rNs, { udpPort: 10500, ...engine(opts.punch ?? false) }, NAT_PEER);
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

/** An initiator behind nat2 that knows the responder only by HIT and the relay, established through it. */
async function relayedInitiator(nat2: NatRouter, rHit: string, r: Peer): Promise<Peer> {
  const i = await lab!.startPeer(await lab!.privateHost('i', nat2, 2), { peer: { hit: rHit, address: RELAY_ADDRESS, port: 10500 }, ...engine(true) }, NAT_PEER);
  i.send({ op: 'connect' });
  const est = (await i.waitFor('established')).established as { address: string };
  // Neither side can reach the other yet: the initiator talks to the relay.
  expect(est.address).toBe(RELAY_ADDRESS);
  await r.waitFor('established');
  return i;
}

describe.skipIf(skipWithoutNetns())('real NATs: both hosts behind MASQUERADE, reached through a HIP relay', () => {
  it('the base exchange and all data go through the relay: datagrams and a stream both ways', async () => {
    const { nat2, s, sHit, r, rHit } = await setup();
    await registerRelay(r, sHit);
    expect((await s.waitFor('log')).log).toMatch(/^registered .* for relay,data-relay/);

    const i = await relayedInitiator(nat2, rHit, r);
    const before = await stats(s);
    expect(before).toMatchObject({ controlToClient: 2, controlFromClient: 2, controlRefused: 0, clients: 1 });
    await bothWays(i, r);
    const after = await stats(s);
    // Two datagrams and the stream's segments (and their ACKs), all relayed.
    expect(after.espPackets).toBeGreaterThanOrEqual(4);
    expect(after.espBytes).toBeGreaterThan(0);
    expect(after.espRateLimited).toBe(0);
  });

  it('hole punching: the connectivity checks succeed through both NATs and data then bypasses the relay', async () => {
    const { nat2, s, sHit, r, rHit } = await setup({ punch: true });
    await registerRelay(r, sHit);
    const i = await relayedInitiator(nat2, rHit, r);
    // Each side verified the other's NAT address directly (the echo came back) and moved there.
    const iMoved = (await i.waitFor('locator', 20_000)).locator as { address: string; previousAddress: string };
    expect(iMoved).toMatchObject({ address: `${PUBLIC_NET}.1`, previousAddress: RELAY_ADDRESS });
    const rMoved = (await r.waitFor('locator', 20_000)).locator as { address: string; previousAddress: string };
    expect(rMoved).toMatchObject({ address: `${PUBLIC_NET}.2`, previousAddress: RELAY_ADDRESS });
    const before = await stats(s);
    await bothWays(i, r);
    const after = await stats(s);
    expect(after.espPackets).toBe(before.espPackets);
  });

  it('once punched, the hosts no longer need the relay: it crashes and data still flows both ways', async () => {
    const { nat2, s, sHit, r, rHit } = await setup({ punch: true });
    await registerRelay(r, sHit);
    const i = await relayedInitiator(nat2, rHit, r);
    await i.waitFor('locator', 20_000);
    await r.waitFor('locator', 20_000);
    s.child.kill('SIGKILL');
    await s.exited;
    await bothWays(i, r);
  });

  it('with --random-fully NATs punching fails: data stays relayed, and correct', async () => {
    const { nat2, s, sHit, r, rHit } = await setup({ punch: true, randomFully: true });
    await registerRelay(r, sHit);
    const i = await relayedInitiator(nat2, rHit, r);
    await bothWays(i, r);
    // Let the connectivity checks run out (5 retransmissions from 200 ms), then talk again.
    await new Promise((res) => setTimeout(res, 8000));
    const before = await stats(s);
    await bothWays(i, r);
    const after = await stats(s);
    expect(after.espPackets).toBeGreaterThan(before.espPackets!);
    expect(i.lines.some((l) => 'locator' in l)).toBe(false);
    expect(r.lines.some((l) => 'locator' in l)).toBe(false);
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
