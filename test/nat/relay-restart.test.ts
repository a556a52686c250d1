/**
 * A HIP relay server (RFC 9028) that crashes and restarts, with the responder behind a real NAT
 * (MASQUERADE) registered for the relay service and an initiator behind a second NAT: the
 * responder's renewal UPDATE goes unanswered (the new process has no association), it registers
 * again in a fresh base exchange, and the initiator reaches it through the restarted relay,
 * datagrams and a stream both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetLab, PUBLIC_NET, skipWithoutNetns } from '../helpers/netns.js';
import { bothWays, NAT_PEER, RVS, type Ready } from './exchange.js';

let lab: NetLab | undefined;
let dir: string | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const RELAY_ADDRESS = `${PUBLIC_NET}.5`;
const ENGINE = { host: { engine: { retransmit: { initialMs: 200, i1Retries: 8, i2Retries: 8 }, holePunching: false } } };

describe.skipIf(skipWithoutNetns())('real NATs: the relay server restarts', () => {
  it('the responder registers again with the restarted relay and an initiator behind a second NAT reaches it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hipl-relay-'));
    const keyFile = join(dir, 'relay.pem');
    lab = await NetLab.create();
    const sNs = await lab.publicHost('relay', 5);
    const nat1 = await lab.nat('nat1', 1);
    const nat2 = await lab.nat('nat2', 2);
    const r = await lab.startPeer(await lab.privateHost('r', nat1, 2), { udpPort: 10500, ...ENGINE }, NAT_PEER);
    const rHit = ((await r.waitFor('ready')).ready as Ready).hit;
    const server = { whitelist: [rHit], relay: true, minLifetime: 1, maxLifetime: 4, keyFile };
    const s = await lab.startPeer(sNs, server, RVS);
    const sHit = ((await s.waitFor('ready')).ready as { hit: string }).hit;
    r.send({ op: 'register', hit: sHit, address: RELAY_ADDRESS, port: 10500, lifetime: 2, type: 'relay' });
    expect(((await r.waitFor('registered')).registered as { types: number[] }).types).toEqual([2, 3]);

    s.child.kill('SIGKILL');
    await s.exited;
    const s2 = await lab.startPeer(sNs, server, RVS);
    expect(((await s2.waitFor('ready')).ready as { hit: string }).hit).toBe(sHit);
    await s2.waitLine((l) => typeof l.log === 'string' && /^registered .* for relay,data-relay/.test(l.log), 30_000);

    const i = await lab.startPeer(await lab.privateHost('i', nat2, 2), { peer: { hit: rHit, address: RELAY_ADDRESS, port: 10500 }, ...ENGINE }, NAT_PEER);
    i.send({ op: 'connect' });
    expect(((await i.waitFor('established', 20_000)).established as { address: string }).address).toBe(RELAY_ADDRESS);
    await r.waitLine((l) => 'established' in l && (l.established as { peerHit: string }).peerHit !== sHit);
    await bothWays(i, r);
  });
});
