/**
 * Logging of the Node API: `createHost({ log })` gets a line per BEX step, association change
 * and dropped HIP packet; without it, `NODE_DEBUG=hipl` prints the same lines (util.debuglog),
 * and nothing is printed when it is not set.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type HiplHost } from '../../src/socket/host.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hosts: HiplHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(0)));
});

describe('createHost({ log })', () => {
  it('writes each BEX step, the established association and its close', async () => {
    const lines: string[] = [];
    const a = await createHost({ udp: { address: '127.0.0.1' }, log: (l) => lines.push(l) });
    const b = await createHost({ udp: { address: '127.0.0.1' } });
    hosts.push(a, b);
    a.peers.add(b.hit, { address: '127.0.0.1', port: b.address().udp!.port });
    await a.core.connect(b.hit);
    await a.disconnect(b.hit);
    for (const step of ['i1-sent (I1)', 'r1-received (R1)', 'i2-sent (I2)', 'r2-received (R2)']) expect(lines.some((l) => l.startsWith(`BEX ${step} peer ${b.hit}`))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^established with ${b.hit}: HIPv2, initiator, udp`)));
    expect(lines).toContainEqual(`association with ${b.hit} closed (local)`);
  });

  it('writes the I1 a host drops because it is for another HIT', async () => {
    const lines: string[] = [];
    const b = await createHost({ udp: { address: '127.0.0.1' }, log: (l) => lines.push(l) });
    const a = await createHost({ udp: { address: '127.0.0.1' }, engine: { retransmit: { initialMs: 50, maxMs: 50, i1Retries: 0 } } });
    hosts.push(a, b);
    const stranger = HostIdentity.generate().hitString();
    a.peers.add(stranger, { address: '127.0.0.1', port: b.address().udp!.port });
    a.on('error', () => undefined); // the BEX fails: nobody has that HIT
    await a.core.connect(stranger).catch(() => undefined);
    expect(lines).toContainEqual(`dropped I1 from ${a.hit}: wrong-receiver-hit`);
  });
});

describe('NODE_DEBUG=hipl', () => {
  const run = promisify(execFile);
  const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = join(root, 'test/socket/fixtures/two-hosts.ts');
  const go = (env: NodeJS.ProcessEnv) => run(process.execPath, ['--import', loader, child], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 });

  it('prints the host log to stderr', async () => {
    const { stderr } = await go({ NODE_DEBUG: 'hipl' });
    expect(stderr).toMatch(/HIPL \d+: BEX i1-sent \(I1\) peer /);
    expect(stderr).toMatch(/HIPL \d+: established with /);
  }, 90_000);

  it('prints nothing without it', async () => {
    const { stderr } = await go({ NODE_DEBUG: '' });
    expect(stderr).not.toContain('HIPL');
  }, 90_000);
});
