/**
 * Every example runs as a child process, as a user would run it: check_libhipl passes both
 * cases (HIPv2 and HIPv1 UDP), bex-stepwise shows the four BEX packets and the CLOSE, and the
 * echo client gets its echoes from the echo server in another process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const live = new Set<ChildProcess>();

afterEach(() => {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function example(file: string, args: string[] = []): Run {
  // tsx as a loader, not its CLI: one process, so a kill reaches the example itself.
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'examples', file), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exit };
}

describe('examples', () => {
  // Both check_libhipl runs bind 22345 and 22300 (as the C test does): never in parallel.
  it('check_libhipl.ts passes both cases and exits 0 (npm run example)', async () => {
    const run = example('check_libhipl.ts');
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toContain('PASS test_libhipl_lo_udp');
    expect(run.output()).toContain('PASS test_libhipl_lo_tcp');
    expect(run.output()).toContain('2/2 passed');
  }, 60_000);

  it('check_libhipl.ts --v1 passes both cases with libhipl HIPv1 (clear-text data)', async () => {
    const run = example('check_libhipl.ts', ['--libhipl-cleartext']);
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toContain('PASS test_libhipl_lo_udp');
    expect(run.output()).toContain('PASS test_libhipl_lo_tcp');
    expect(run.output()).toContain('2/2 passed (HIPv1)');
  }, 60_000);

  it('bex-stepwise.ts prints each packet and step, in order', async () => {
    const run = example('bex-stepwise.ts');
    expect(await run.exit, run.output()).toBe(0);
    const lines = run.output().split('\n');
    const wire = lines.filter((l) => / -> /.test(l)).map((l) => /->\s+\w+\s+(\S+)/.exec(l)?.[1]);
    expect(wire).toEqual(['I1', 'R1', 'I2', 'R2', 'ESP', 'CLOSE', 'CLOSE_ACK']);
    const steps = lines.map((l) => /(alice|bob): ([a-z0-9]+-[a-z]+) /.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`);
    expect(steps).toEqual([
      'alice i1-sent',
      'bob i1-received',
      'bob r1-sent',
      'alice r1-received',
      'alice i2-sent',
      'bob i2-received',
      'bob r2-sent',
      'alice r2-received',
    ]);
    expect(run.output()).toContain('bob received "Hello Sailor!"');
  }, 30_000);

  it('echo-client.ts gets its stream and datagram echoes from echo-server.ts in another process', async () => {
    const server = example('echo-server.ts');
    const hint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hint line: ${server.output()}`)), 20_000);
      server.child.stdout!.on('data', () => {
        const m = /try: npx tsx examples\/echo-client\.ts (\S+) (\S+)/.exec(server.output());
        if (m) {
          clearTimeout(timer);
          resolve(`${m[1]} ${m[2]}`);
        }
      });
    });
    const [hit, where] = hint.split(' ');
    const client = example('echo-client.ts', [hit!, where!, 'echo me']);
    expect(await client.exit, client.output()).toBe(0);
    expect(client.output()).toContain('stream echo:   "echo me"');
    expect(client.output()).toContain('datagram echo: "echo me"');
    server.child.kill('SIGINT');
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/stream from 2001:2/);
  }, 60_000);
});
