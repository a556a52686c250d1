/**
 * The README's three-terminal relay walkthrough ("Reaching hosts behind NATs"), run for real:
 * `hipl relay` on a public host, `hipl listen --relay` behind one NAT, `hipl connect` behind
 * another NAT by the listener's HIT and the relay's address. A line goes each way, and the
 * relay's counters at Ctrl-C show what it relayed.
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

describe.skipIf(skipWithoutNetns())('hipl relay / listen --relay / connect, both ends behind NATs', () => {
  it('the three-terminal walkthrough: a line each way through the relay', async () => {
    lab = await NetLab.create();
    dir = mkdtempSync(join(tmpdir(), 'hipl-relay-cli-'));
    const relayNs = await lab.publicHost('relay', 5);
    const nat1 = await lab.nat('nat1', 1);
    const nat2 = await lab.nat('nat2', 2);
    const rNs = await lab.privateHost('r', nat1, 2);
    const iNs = await lab.privateHost('i', nat2, 2);

    const key = join(dir, 'responder.pem');
    const id = HostIdentity.generate();
    id.saveSync(key);
    writeFileSync(join(dir, 'whitelist'), `# hosts allowed to register\n${id.hitString()}\n`);

    const relayProc = lab.spawnScript(relayNs, cli, ['relay', '--whitelist', join(dir, 'whitelist')]);
    const relay = watch(relayProc);
    const relayHit = (await relay.wait(/rendezvous server and HIP relay (\S+) on udp/))[1]!;

    const listener = lab.spawnScript(rNs, cli, ['listen', '--port', '10500', '--key', key, '--relay', `${relayHit}@${PUBLIC_NET}.5:10500`]);
    const r = watch(listener);
    await r.wait(/registered with HIP relay .* seen as 198\.51\.100\.1:10500/);
    await r.wait(/listening on udp/);
    // The server logs the registration after it sent its R2: the responder can be first.
    await relay.wait(/registered .* for relay,data-relay/);

    const connector = lab.spawnScript(iNs, cli, ['connect', `${id.hitString()}@${PUBLIC_NET}.5:10500`, '--wait', '3000']);
    const i = watch(connector);
    connector.stdin!.write('hello from behind NAT 2\n');
    await r.wait(/hello from behind NAT 2/);
    listener.stdin!.write('hello from behind NAT 1\n');
    await i.wait(/hello from behind NAT 1/);
    connector.stdin!.end();
    relayProc.kill('SIGINT');
    const [, control, esp] = await relay.wait(/stopping: .* relayed (\d+) control packet\(s\), (\d+) ESP packet/);
    // The BEX and both lines went through the relay, not around it.
    expect(Number(control)).toBeGreaterThanOrEqual(3);
    expect(Number(esp)).toBeGreaterThanOrEqual(2);
  });
});
