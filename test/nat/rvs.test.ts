/**
 * A responder behind a real NAT, reachable through a rendezvous server (issue 12): it registers
 * with the server in the public namespace (RFC 8003), a public initiator that knows only the
 * responder's HIT and the server sends its I1 there, the server forwards it (RFC 8004), and the
 * responder answers directly through its NAT. Then datagrams and a stream both ways. A HIT not
 * on the whitelist is refused; a short registration is renewed (by UPDATE), one left to expire
 * is no longer served, one cancelled is removed at the server; a server that crashes and restarts
 * is registered with again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../host/processes.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns, type NatRouter } from '../helpers/netns.js';
import { bothWays, NAT_PEER, RVS, type Ready } from './exchange.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

const RVS_ADDRESS = `${PUBLIC_NET}.5`;

interface Setup {
  lab: NetLab;
  nat: NatRouter;
  s: Peer;
  sHit: string;
  r: Peer;
  rHit: string;
}

/** Server at .5, responder behind nat1 (WAN .1); the server's whitelist names the responder. */
async function setup(server: Record<string, unknown> = {}): Promise<Setup> {
  lab = await NetLab.create();
  const sNs = await lab.publicHost('rvs', 5);
  const nat = await lab.nat('nat1', 1);
  const rNs = await lab.privateHost('r', nat, 2);
  const r = await lab.startPeer(rNs, { udpPort: 10500 }, NAT_PEER);
  const rHit = ((await r.waitFor('ready')).ready as Ready).hit;
  const s = await lab.startPeer(sNs, { whitelist: [rHit], ...server }, RVS);
  const sHit = ((await s.waitFor('ready')).ready as { hit: string }).hit;
  return { lab, nat, s, sHit, r, rHit };
}

async function stats(s: Peer): Promise<Record<string, number>> {
  const from = s.lines.length;
  s.send({ op: 'stats' });
  return (await s.waitLine((l) => 'stats' in l, 5000, from)).stats as Record<string, number>;
}

describe.skipIf(skipWithoutNetns())('real NAT: responder behind MASQUERADE, reached through a rendezvous server', () => {
  it('registers, then a public initiator reaches it by HIT via the server; data and a stream both ways', async () => {
    const { lab, s, sHit, r, rHit } = await setup();
    r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 600 });
    const reg = (await r.waitFor('registered')).registered as { types: number[]; lifetime: number; reflexive: { address: string } };
    expect(reg.types).toEqual([1]);
    expect(reg.lifetime).toBeGreaterThan(500);
    // The server saw the registration come from the NAT's public address (REG_FROM).
    expect(reg.reflexive.address).toBe(`${PUBLIC_NET}.1`);
    expect((await s.waitFor('log')).log).toMatch(/^registered .* for rendezvous/);

    const i = await lab.startPeer(await lab.publicHost('i', 20), { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    const est = (await i.waitFor('established')).established as { address: string; port: number; elapsedMs: number };
    // The initiator learnt where the responder really is from its R1: the NAT, not the server.
    expect(est.address).toBe(`${PUBLIC_NET}.1`);
    await r.waitFor('established');
    await bothWays(i, r);
    expect(await stats(s)).toMatchObject({ forwarded: 1, clients: 1 });
  });

  it('a HIT that is not on the whitelist is refused (REG_FAILED, credentials required)', async () => {
    const { lab, s, sHit, nat } = await setup();
    const x = await lab.startPeer(await lab.privateHost('x', nat, 3), { udpPort: 10500 }, NAT_PEER);
    x.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 600 });
    const failed = (await x.waitFor('registerFailed')).registerFailed as { code: string; message: string };
    expect(failed.code).toBe('ERR_HIP_REGISTRATION_FAILED');
    expect(failed.message).toMatch(/whitelist/);
    expect((await s.waitLine((l) => typeof l.log === 'string' && l.log.startsWith('refused'))).log).toMatch(/not on the whitelist/);
    expect(await stats(s)).toMatchObject({ clients: 0, refused: 1 });
  });

  it('a short registration is renewed before it ends and keeps the responder reachable', async () => {
    const { lab, s, sHit, r, rHit } = await setup({ minLifetime: 1, maxLifetime: 4 });
    r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 2, renew: true });
    expect(((await r.waitFor('registered')).registered as { lifetime: number }).lifetime).toBe(2);
    // Renewed at 80 % of its 2 s: three registrations within a few seconds, each by UPDATE on the
    // one association (RFC 8003 §3.3), never a fresh BEX.
    const registrations = () => s.lines.filter((m) => typeof m.log === 'string' && m.log.startsWith('registered')).length;
    await s.waitLine(() => registrations() >= 3, 15_000);
    const withServer = r.lines.filter((l) => 'established' in l && (l.established as { peerHit: string }).peerHit === sHit);
    expect(withServer).toHaveLength(1);
    const granted = () => r.lines.filter((l) => 'registration' in l && (l.registration as { status: string }).status === 'granted').length;
    await r.waitLine(() => granted() >= 3, 15_000);
    const i = await lab.startPeer(await lab.publicHost('i', 20), { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    await i.waitFor('established');
    await r.waitLine((l) => 'established' in l && (l.established as { role: string }).role === 'responder');
  });

  it('a registration left to expire is no longer served', async () => {
    const { lab, s, sHit, r, rHit } = await setup({ minLifetime: 1, maxLifetime: 4 });
    r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 1, renew: false });
    await r.waitFor('registered');
    await new Promise((res) => setTimeout(res, 1500));
    const i = await lab.startPeer(await lab.publicHost('i', 20), { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    // The I1 reaches the server, which no longer forwards it.
    const deadline = Date.now() + 10_000;
    let st = await stats(s);
    while (st.notRegistered === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      st = await stats(s);
    }
    expect(st).toMatchObject({ forwarded: 0, clients: 0 });
    expect(st.notRegistered).toBeGreaterThan(0);
    expect(i.lines.some((l) => 'established' in l)).toBe(false);
  });

  it('a cancelled registration (unregisterFrom: lifetime 0 by UPDATE) is removed at the server, which serves it no more', async () => {
    const { lab, s, sHit, r, rHit } = await setup();
    r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 600 });
    await r.waitFor('registered');
    expect(await stats(s)).toMatchObject({ clients: 1 });
    r.send({ op: 'unregister', hit: sHit });
    expect((await r.waitFor('unregistered')).unregistered).toMatchObject({ status: 'cancelled', lifetime: 0 });
    expect((await s.waitLine((l) => typeof l.log === 'string' && l.log.startsWith('cancelled'))).log).toContain(rHit);
    expect(await stats(s)).toMatchObject({ clients: 0, cancelled: 1 });
    const i = await lab.startPeer(await lab.publicHost('i', 20), { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500 } }, NAT_PEER);
    i.send({ op: 'connect' });
    const deadline = Date.now() + 10_000;
    let st = await stats(s);
    while (st.notRegistered === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      st = await stats(s);
    }
    expect(st).toMatchObject({ forwarded: 0 });
    expect(st.notRegistered).toBeGreaterThan(0);
    expect(i.lines.some((l) => 'established' in l)).toBe(false);
  });

  it('the server crashes and restarts (same identity): the responder registers again and is reachable again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hipl-rvs-'));
    try {
      const keyFile = join(dir, 'rvs.pem');
      const { lab, s, sHit, r, rHit } = await setup({ minLifetime: 1, maxLifetime: 4, keyFile });
      r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 2, renew: true });
      await r.waitFor('registered');
      s.child.kill('SIGKILL');
      await s.exited;
      const s2 = await lab.startPeer(lab.nsName('rvs'), { whitelist: [rHit], minLifetime: 1, maxLifetime: 4, keyFile }, RVS);
      expect(((await s2.waitFor('ready')).ready as { hit: string }).hit).toBe(sHit);
      // The renewal UPDATE goes unanswered (the new process has no association), so the
      // responder runs a fresh BEX with the restarted server.
      await s2.waitLine((l) => typeof l.log === 'string' && l.log.startsWith('registered'), 30_000);
      const i = await lab.startPeer(await lab.publicHost('i', 20), { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500 } }, NAT_PEER);
      i.send({ op: 'connect' });
      await i.waitFor('established', 15_000);
      expect(await stats(s2)).toMatchObject({ forwarded: 1 });
      await bothWays(i, r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a crashed server with a second one known: the first I1 goes to both (shotgun) and the BEX gets through', async () => {
    const { lab, s, sHit, r, rHit } = await setup();
    const s2 = await lab.startPeer(await lab.publicHost('rvs2', 6), { whitelist: [rHit] }, RVS);
    const s2Hit = ((await s2.waitFor('ready')).ready as { hit: string }).hit;
    r.send({ op: 'register', hit: sHit, address: RVS_ADDRESS, port: 10500, lifetime: 600 });
    await r.waitFor('registered');
    const from = r.lines.length;
    r.send({ op: 'register', hit: s2Hit, address: `${PUBLIC_NET}.6`, port: 10500, lifetime: 600 });
    await r.waitLine((l) => 'registered' in l, 10_000, from);
    // The first server dies; the initiator knows it first, the second one after it.
    s.child.kill('SIGKILL');
    await s.exited;
    const i = await lab.startPeer(
      await lab.publicHost('i', 20),
      { peer: { hit: rHit, address: RVS_ADDRESS, port: 10500, also: [{ address: `${PUBLIC_NET}.6`, port: 10500 }] } },
      NAT_PEER,
    );
    i.send({ op: 'connect' });
    const est = (await i.waitFor('established', 10_000)).established as { address: string };
    expect(est.address).toBe(`${PUBLIC_NET}.1`);
    expect(await stats(s2)).toMatchObject({ forwarded: 1 });
    await bothWays(i, r);
  });
});
