/**
 * TCP carrier resume through a real Linux NAT (issue 10, item 6): an initiator behind a
 * MASQUERADE router reaches a public responder over the TCP carrier, a stream flows both ways,
 * then the NAT kills the TCP connection (it answers every TCP segment it forwards with a RST for a
 * moment, as a router that lost or evicted its state does). The initiator, the side that dialed
 * and the only one that can dial through the NAT, dials again once the router lets it and resumes
 * the association with UPDATE; the stream carries on with no byte lost or duplicated, both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../host/processes.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns, type NatRouter } from '../helpers/netns.js';
import { NAT_PEER, streamText, type Ready } from './exchange.js';

let lab: NetLab | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything `p` has read from its stream so far. */
const received = (p: Peer): string =>
  p.lines
    .filter((l) => typeof l.streamData === 'string')
    .map((l) => l.streamData as string)
    .join('');

/** The NAT answers every TCP segment it forwards with a RST (on), or forwards them again (off). */
async function resetTcp(l: NetLab, nat: NatRouter, on: boolean): Promise<void> {
  await l.exec(nat.ns, 'iptables', on ? '-I' : '-D', 'FORWARD', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset');
}

describe.skipIf(skipWithoutNetns())('real NAT: TCP carrier killed by the NAT', () => {
  it('the initiator behind the NAT redials, resumes with UPDATE, and the stream keeps every byte both ways', async () => {
    lab = await NetLab.create();
    const rNs = await lab.publicHost('r', 10);
    const nat = await lab.nat('nat1', 1);
    const iNs = await lab.privateHost('i', nat, 2);
    const r = await lab.startPeer(rNs, { udpPort: 10500, tcpPort: 10500 }, NAT_PEER);
    const ready = (await r.waitFor('ready')).ready as Ready;
    const i = await lab.startPeer(iNs, { peer: { hit: ready.hit, address: `${PUBLIC_NET}.10`, port: 10500, carrier: 'tcp' } }, NAT_PEER);
    i.send({ op: 'connect' });
    const est = (await r.waitFor('established')).established as { carrier: string; address: string };
    expect(est).toMatchObject({ carrier: 'tcp', address: `${PUBLIC_NET}.1` });
    i.send({ op: 'openStream' });
    await streamText(i, r, 'u-start|');
    await r.waitFor('accepted');
    await streamText(r, i, 'd-start|');

    // Numbered chunks from both sides, every 50 ms, before, during and after the cut.
    let up = 'u-start|';
    let down = 'd-start|';
    const writeBoth = (n: number) => {
      const u = `u${n}|`;
      const d = `d${n}|`;
      i.send({ op: 'write', text: u });
      r.send({ op: 'write', text: d });
      up += u;
      down += d;
    };
    let n = 0;
    for (; n < 10; n++, await sleep(50)) writeBoth(n);
    await resetTcp(lab, nat, true);
    // Long enough that both ends write into the RSTs and the first redials are refused too.
    for (; n < 40; n++, await sleep(50)) writeBoth(n);
    await resetTcp(lab, nat, false);
    for (; n < 60; n++, await sleep(50)) writeBoth(n);
    const end = `u-end|`;
    const endDown = `d-end|`;
    i.send({ op: 'write', text: end });
    r.send({ op: 'write', text: endDown });
    up += end;
    down += endDown;

    await r.waitLine(() => received(r).includes(end), 30_000, 0, 'the end of the upstream');
    await i.waitLine(() => received(i).includes(endDown), 30_000, 0, 'the end of the downstream');
    await sleep(300);
    // Every byte exactly once and in order, both ways.
    expect(received(r)).toBe(up);
    expect(received(i)).toBe(down);
    // The connection really broke and the association moved to a new one (the responder checked
    // the resumed connection and moved there); nothing ended or failed on the way.
    expect(r.lines.some((l) => 'locator' in l), 'locator event at the responder').toBe(true);
    for (const p of [i, r]) expect(p.lines.filter((l) => 'closed' in l || 'failed' in l || 'error' in l)).toEqual([]);
  }, 60_000);
});
