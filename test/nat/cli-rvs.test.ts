/**
 * The README's three-terminal walkthrough "Reaching hosts behind NATs", run for real: `hipl rvs`
 * on a public host, `hipl listen --rvs` behind a NAT, `hipl connect` from another public host
 * by the listener's HIT and the server's address. A line goes each way. And `hipl listen --rvs`
 * after the server is killed and restarted: the failed renewal is logged, then the new
 * registration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { watch } from '../helpers/child-output.js';
import { NetLab, PUBLIC_NET, skipWithoutNetns } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let lab: NetLab | undefined;
let dir: string | undefined;
afterEach(async () => {
  await lab?.destroy();
  lab = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.skipIf(skipWithoutNetns())('hipl rvs / listen --rvs / connect through a real NAT', () => {
  it('the three-terminal walkthrough: a line each way between a public initiator and a responder behind a NAT', async () => {
    lab = await NetLab.create();
    dir = mkdtempSync(join(tmpdir(), 'hipl-rvs-cli-'));
    const rvsNs = await lab.publicHost('rvs', 5);
    const nat = await lab.nat('nat1', 1);
    const rNs = await lab.privateHost('r', nat, 2);
    const iNs = await lab.publicHost('i', 20);

    // Terminal 1 needs the responder's HIT for its whitelist: make the responder's key first.
    const key = join(dir, 'responder.pem');
    const id = HostIdentity.generate();
    id.saveSync(key);
    writeFileSync(join(dir, 'whitelist'), `# hosts allowed to register\n${id.hitString()}\n`);

    const rvs = watch(lab.spawnScript(rvsNs, cli, ['rvs', '--whitelist', join(dir, 'whitelist')]));
    const rvsHit = (await rvs.wait(/rendezvous server (\S+) on udp/))[1]!;

    const listener = lab.spawnScript(rNs, cli, ['listen', '--port', '10500', '--key', key, '--rvs', `${rvsHit}@${PUBLIC_NET}.5:10500`]);
    const r = watch(listener);
    await r.wait(/registered with rendezvous server .* seen as 198\.51\.100\.1:10500/);
    await r.wait(/listening on udp/);
    // The server logs the registration after it sent its R2: the responder can be first.
    await rvs.wait(/registered .* for rendezvous/);

    const connector = lab.spawnScript(iNs, cli, ['connect', `${id.hitString()}@${PUBLIC_NET}.5:10500`, '--wait', '3000']);
    const i = watch(connector);
    connector.stdin!.write('hello from the public side\n');
    await r.wait(/hello from the public side/);
    listener.stdin!.write('hello from behind the NAT\n');
    await i.wait(/hello from behind the NAT/);
    connector.stdin!.end();
  });

  it('listen --rvs: a server killed and restarted (same key) is registered with again, and the listener says so', async () => {
    lab = await NetLab.create();
    dir = mkdtempSync(join(tmpdir(), 'hipl-rvs-cli-'));
    const rvsNs = await lab.publicHost('rvs', 5);
    const nat = await lab.nat('nat1', 1);
    const rNs = await lab.privateHost('r', nat, 2);
    const key = join(dir, 'responder.pem');
    const id = HostIdentity.generate();
    id.saveSync(key);
    writeFileSync(join(dir, 'whitelist'), `${id.hitString()}\n`);
    // The server's key stays the same across the restart, and so does its HIT.
    HostIdentity.generate().saveSync(join(dir, 'rvs.pem'));
    const rvsArgs = ['rvs', '--whitelist', join(dir, 'whitelist'), '--key', join(dir, 'rvs.pem'), '--min-lifetime', '1', '--max-lifetime', '2'];
    const first = lab.spawnScript(rvsNs, cli, rvsArgs);
    const rvsHit = (await watch(first).wait(/rendezvous server (\S+) on udp/))[1]!;
    const r = watch(lab.spawnScript(rNs, cli, ['listen', '--port', '10500', '--key', key, '--rvs', `${rvsHit}@${PUBLIC_NET}.5:10500`]));
    await r.wait(/registered with rendezvous server .* for 2 s/);
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    const second = watch(lab.spawnScript(rvsNs, cli, rvsArgs));
    expect((await second.wait(/rendezvous server (\S+) on udp/))[1]).toBe(rvsHit);
    await r.wait(/renewing the registration with \S+ failed \(registration UPDATE not acknowledged\); trying again/, 40_000);
    await r.wait(/registered with rendezvous server \S+ again for 2 s/, 30_000);
    await second.wait(/registered \S+ for rendezvous/);
  });
});
