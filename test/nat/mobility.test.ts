/**
 * NAT mode through real NATs (issue 10): what happens after the first exchange. An idle path
 * past the NAT's UDP timeout, NAT rebinding, the three initiator-mobility cases of the HIPL
 * manual (chapter 8: behind NAT to behind the same NAT; public to behind NAT; behind NAT to
 * public) and NAT to NAT, each with the responder speaking first where it matters. Each case
 * prints the measured time until data flows again in both directions (not asserted: timing
 * depends on the machine).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import type { Peer } from '../host/processes.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns, type NatRouter } from '../helpers/netns.js';
import { NAT_PEER, streamText, type Ready } from './exchange.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

/** NAT mode tuned for a test that must finish in seconds: keepalive, liveness, address watch. */
const NAT = { natMode: { keepaliveMs: 1000, livenessMs: 2000, watchAddressesMs: 300 } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Send numbered datagrams from `a` every 200 ms until `b` has one; resolves with the time from
 * `since` to its arrival (per `b`'s clock line), in ms.
 */
async function resumes(a: Peer, b: Peer, tag: string, since: number, timeoutMs = 30_000): Promise<number> {
  const from = b.lines.length;
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; Date.now() < deadline; n++) {
    a.send({ op: 'send', text: `${tag}-${n}` });
    await sleep(200);
    const got = b.lines.slice(from).find((l) => typeof l.datagram === 'string' && l.datagram.startsWith(`${tag}-`));
    if (got) return (got.t as number) - since;
  }
  throw new Error(`no ${tag} datagram within ${timeoutMs} ms; receiver lines: ${JSON.stringify(b.lines.slice(-10))}`);
}

interface World {
  lab: NetLab;
  nat: NatRouter;
  r: Peer;
  i: Peer;
}

/** Public responder at .10; the mobile initiator `m` starts wherever `place` puts it. */
async function world(place: (lab: NetLab, m: string, nat: NatRouter, nat2: NatRouter) => Promise<void>, natOpts: { udpTimeoutS?: number } = {}): Promise<World & { m: string; nat2: NatRouter }> {
  lab = await NetLab.create();
  const rNs = await lab.publicHost('r', 10);
  const nat = await lab.nat('nat1', 1, natOpts);
  const nat2 = await lab.nat('nat2', 2);
  const m = await lab.namespace('m');
  await place(lab, m, nat, nat2);
  const r = await lab.startPeer(rNs, { udpPort: 10500, host: NAT }, NAT_PEER);
  const ready = (await r.waitFor('ready')).ready as Ready;
  const i = await lab.startPeer(m, { udpPort: 10500, peer: { hit: ready.hit, address: `${PUBLIC_NET}.10`, port: 10500 }, host: NAT }, NAT_PEER);
  i.send({ op: 'connect' });
  await i.waitFor('established');
  await r.waitFor('established');
  i.send({ op: 'openStream' });
  await streamText(i, r, 'before');
  await r.waitFor('accepted');
  return { lab, nat, nat2, r, i, m };
}

/** Give interface `ifname` of `ns` the only address, with a default route via `gw`. */
async function attach(l: NetLab, ns: string, ifname: string, cidr: string, gw: string | undefined, detach: string[]): Promise<void> {
  for (const other of detach) await l.ip(ns, 'addr', 'flush', 'dev', other);
  await l.ip(ns, 'addr', 'add', cidr, 'dev', ifname);
  if (gw) await l.ip(ns, 'route', 'replace', 'default', 'via', gw, 'dev', ifname);
}

/**
 * After a change at `since`: data both ways again (both sides sending at once, or the responder
 * first until it gets through), the stream
 * still carries bytes, and the responder now sends to `expected` (the initiator's new public
 * address) after verifying it.
 */
async function recovers(w: World, since: number, label: string, expected: string, responderFirst = false): Promise<void> {
  // Responder first: nothing from the initiator's data may show the responder the way.
  const [down, up] = responderFirst
    ? [await resumes(w.r, w.i, 'down', since), await resumes(w.i, w.r, 'up', since)]
    : await Promise.all([resumes(w.r, w.i, 'down', since), resumes(w.i, w.r, 'up', since)]);
  await streamText(w.r, w.i, `stream-after-${label}`, 20_000);
  await streamText(w.i, w.r, `stream-up-after-${label}`, 20_000);
  const moved = w.r.lines.filter((l) => 'locator' in l).map((l) => l.locator as { address: string; port: number; previousPort: number });
  expect(moved.length, 'locator events at the responder').toBeGreaterThan(0);
  expect(moved[moved.length - 1]!.address).toBe(expected);
  console.info(`[nat] ${label}: data resumed responder→initiator after ${Math.round(down)} ms, initiator→responder after ${Math.round(up)} ms`);
}

/**
 * NAT mode (UPDATE, paths, keepalives) lands separately from this lab; until the host has it,
 * say so and skip, and the cases run by themselves once it is there.
 */
function skipWithoutNatMode(): boolean {
  if ('updateLocators' in HipHost.prototype) return false;
  console.warn('real-NAT mobility tests skipped: this build has no NAT mode yet (HipHost.updateLocators)');
  return true;
}

describe.skipIf(skipWithoutNetns() || skipWithoutNatMode())('real NAT: NAT mode keeps associations alive', () => {
  it('idle past the NAT UDP timeout, then the responder speaks first', async () => {
    const w = await world(async (l, m, nat) => void (await l.privateHost('m', nat, 2, { ns: m })), { udpTimeoutS: 3 });
    // Idle well past the NAT's 3 s UDP timeout: the keepalives must hold the mapping.
    await sleep(8000);
    const since = Date.now();
    // Nothing moved: the keepalives held the mapping, so the responder never needed a new locator.
    const down = await resumes(w.r, w.i, 'down', since);
    const up = await resumes(w.i, w.r, 'up', since);
    await streamText(w.r, w.i, 'stream-after-idle', 20_000);
    expect(w.r.lines.some((l) => 'locator' in l)).toBe(false);
    console.info(`[nat] idle 8 s past a 3 s UDP timeout: data resumed responder→initiator after ${Math.round(down)} ms, initiator→responder after ${Math.round(up)} ms`);
  });

  it('NAT rebinding (mappings flushed, new port range), then the responder speaks first', async () => {
    const w = await world(async (l, m, nat) => void (await l.privateHost('m', nat, 2, { ns: m })));
    const since = Date.now();
    await w.lab.rebind(w.nat, '40000-40999');
    await recovers(w, since, 'rebinding', `${PUBLIC_NET}.1`, true);
    const last = w.r.lines.filter((l) => 'locator' in l).pop()!.locator as { port: number };
    expect(last.port).toBeGreaterThanOrEqual(40000);
    expect(last.port).toBeLessThanOrEqual(40999);
  });

  it('mobility: behind a NAT to another address behind the same NAT', async () => {
    const w = await world(async (l, m, nat) => void (await l.privateHost('m', nat, 2, { ns: m })));
    const since = Date.now();
    await attach(w.lab, w.m, 'eth0', '10.1.0.3/24', '10.1.0.1', ['eth0']);
    await recovers(w, since, 'same NAT, new address', `${PUBLIC_NET}.1`);
  });

  it('mobility: public to behind a NAT', async () => {
    const w = await world(async (l, m, nat) => {
      await l.privateHost('m', nat, 2, { ns: m });
      await l.ip(m, 'addr', 'flush', 'dev', 'eth0');
      await l.plug(m, 'eth1', `${PUBLIC_NET}.30/24`, l.nsName('inet'), 'br0');
    });
    const since = Date.now();
    await attach(w.lab, w.m, 'eth0', '10.1.0.2/24', '10.1.0.1', ['eth1']);
    await recovers(w, since, 'public to behind NAT', `${PUBLIC_NET}.1`);
  });

  it('mobility: behind a NAT to public', async () => {
    const w = await world(async (l, m, nat) => {
      await l.privateHost('m', nat, 2, { ns: m });
      await l.plug(m, 'eth1', undefined, l.nsName('inet'), 'br0');
    });
    const since = Date.now();
    await attach(w.lab, w.m, 'eth1', `${PUBLIC_NET}.30/24`, undefined, ['eth0']);
    await recovers(w, since, 'behind NAT to public', `${PUBLIC_NET}.30`);
  });

  it('mobility: from behind one NAT to behind another', async () => {
    const w = await world(async (l, m, nat, nat2) => {
      await l.privateHost('m', nat, 2, { ns: m });
      await l.privateHost('m', nat2, 2, { ns: m, ifname: 'eth1' });
      await l.ip(m, 'addr', 'flush', 'dev', 'eth1');
      await l.ip(m, 'route', 'replace', 'default', 'via', '10.1.0.1', 'dev', 'eth0');
    });
    const since = Date.now();
    await attach(w.lab, w.m, 'eth1', '10.2.0.2/24', '10.2.0.1', ['eth0']);
    await recovers(w, since, 'NAT to NAT', `${PUBLIC_NET}.2`);
  });
});
