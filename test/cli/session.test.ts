/**
 * `hipl listen` and `hipl connect` in process, for what a person sees: which key and address a
 * listener uses and the line to paste on the other side, names from a hosts file as targets,
 * a hint when the HIT does not fit the mode, dropped I1s with --verbose, and data on HIP port
 * 7 inside ESP (not the carrier's port).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';
import { DATA_PORT } from '../../src/cli/session.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type HiplHost } from '../../src/socket/host.js';

let dir: string;
const hosts: HiplHost[] = [];
const running: { stdin: PassThrough; interrupt: () => void; done: Promise<number> }[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hipl-cli-session-'));
});
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.interrupt();
    await r.done;
  }
  await Promise.all(hosts.splice(0).map((h) => h.close(0)));
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  stdin: PassThrough;
  err: () => string;
  out: () => string;
  done: Promise<number>;
  /** Resolves with the first match of `re` on stderr. */
  waitErr(re: RegExp): Promise<RegExpMatchArray>;
}

function hipl(args: string[]): Run {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) w();
  });
  let interrupt!: () => void;
  const interrupted = new Promise<void>((r) => (interrupt = r));
  const io: CliIo = { stdin, stdout, stderr, env: {}, interrupted };
  const done = run(args, io);
  const r = { stdin, interrupt, done };
  running.push(r);
  void done.then(() => running.splice(running.indexOf(r), 1));
  return {
    stdin,
    err: () => err,
    out: () => out,
    done,
    waitErr: (re) =>
      new Promise((resolve) => {
        const check = () => {
          const m = re.exec(err);
          if (!m) return;
          waiters.splice(waiters.indexOf(check), 1);
          resolve(m);
        };
        waiters.push(check);
        check();
      }),
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

const CONNECT_LINE = /connect with: hipl connect (\S+)/;

describe('hipl listen says what it listens on, with which key, and how to reach it', () => {
  it('creates a missing --key file (0600), names it, and prints a connect line that works when pasted', async () => {
    const key = join(dir, 'server.pem');
    const server = hipl(['listen', '--address', '127.0.0.1', '--key', key]);
    const [, target] = await server.waitErr(CONNECT_LINE);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const hit = (await HostIdentity.load(key)).hitString();
    expect(server.err()).toContain(`as HIT ${hit}, key ${key} (ecdsa-p256, created now)`);
    expect(target).toMatch(new RegExp(`^${hit}@127\\.0\\.0\\.1:\\d+$`));
    const client = hipl(['connect', target!]);
    client.stdin.end('pasted\n');
    expect(await client.done).toBe(ExitCode.OK);
    expect(await server.done).toBe(ExitCode.OK);
    expect(server.out()).toBe('pasted\n');
    // The second run loads the same key and says so.
    const again = hipl(['listen', '--address', '127.0.0.1', '--key', key, '--tcp']);
    await again.waitErr(CONNECT_LINE);
    expect(again.err()).toContain(`as HIT ${hit}, key ${key} (ecdsa-p256)\n`);
    expect(again.err()).toMatch(/connect with: hipl connect \S+ --tcp\n/);
  });

  it('without --key, says the key is for this run only; a wildcard address becomes loopback in the connect line', async () => {
    const server = hipl(['listen']);
    const [, target] = await server.waitErr(CONNECT_LINE);
    expect(server.err()).toContain('a new ecdsa-p256 key for this run only');
    expect(target).toMatch(/@127\.0\.0\.1:\d+$/);
    expect(server.err()).toContain("(from another machine: this host's address)");
  });
});

describe('hipl connect', () => {
  it('takes a name from --hosts as its target', async () => {
    const server = hipl(['listen', '--address', '127.0.0.1']);
    const [, target] = await server.waitErr(CONNECT_LINE);
    const [hit, where] = target!.split('@') as [string, string];
    const port = where.split(':')[1]!;
    const hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, `# HIPL hosts file\n${hit} bob\n127.0.0.1 bob\n`);
    const client = hipl(['connect', 'bob', '--port', port, '--hosts', hostsFile]);
    client.stdin.end('by name\n');
    expect(await client.done).toBe(ExitCode.OK);
    expect(await server.done).toBe(ExitCode.OK);
    expect(server.out()).toBe('by name\n');
    const unknown = hipl(['connect', 'carol', '--port', port, '--hosts', hostsFile]);
    expect(await unknown.done).toBe(ExitCode.USAGE);
    expect(unknown.err()).toContain('unknown name carol');
  });

  it('hints when a HIPv2 HIT meets --libhipl-cleartext, and a libhipl HIT meets HIPv2', async () => {
    const v2 = HostIdentity.generate().hitString();
    const r1 = hipl(['connect', `${v2}@127.0.0.1:9`, '--libhipl-cleartext', '--timeout', '300']);
    expect(await r1.done).toBe(ExitCode.USAGE);
    expect(r1.err()).toContain('is a HIPv2 HIT');
    expect(r1.err()).toContain('drop --libhipl-cleartext');
    const v1 = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }).hitString(1);
    const r2 = hipl(['connect', `${v1}@127.0.0.1:9`, '--timeout', '300']);
    expect(await r2.done).toBe(ExitCode.USAGE);
    expect(r2.err()).toContain('add --libhipl-cleartext');
  });
});

describe('--verbose', () => {
  it('logs an I1 the listener drops because it is for another HIT', async () => {
    const server = hipl(['listen', '--address', '127.0.0.1', '--verbose']);
    const [, target] = await server.waitErr(CONNECT_LINE);
    const where = target!.split('@')[1]!;
    const stranger = HostIdentity.generate().hitString();
    const client = hipl(['connect', `${stranger}@${where}`, '--timeout', '300']);
    expect(await client.done).toBe(ExitCode.BEX_FAILED);
    const [line] = await server.waitErr(/dropped I1 from \S+: wrong-receiver-hit/);
    expect(line).toBeDefined();
  });
});

describe('data inside ESP goes to HIP port 7, not the carrier port', () => {
  it('listen receives on port 7, connect sends to port 7', async () => {
    expect(DATA_PORT).toBe(7);
    // A library host sends to the listener's port 7 ...
    const server = hipl(['listen', '--address', '127.0.0.1']);
    const [, target] = await server.waitErr(CONNECT_LINE);
    const [hit, where] = target!.split('@') as [string, string];
    const carrierPort = Number(where.split(':')[1]);
    expect(carrierPort).not.toBe(DATA_PORT);
    const lib = await createHost({ udp: { address: '127.0.0.1' } });
    hosts.push(lib);
    lib.peers.add(hit, { address: '127.0.0.1', port: carrierPort });
    const sock = lib.createSocket('udp');
    await sock.send('to port 7\n', hit, DATA_PORT);
    await until(() => server.out() === 'to port 7\n');
    await lib.disconnect(hit);
    expect(await server.done).toBe(ExitCode.OK);
    // ... and connect sends to a library host's port 7.
    const sink = lib.createSocket('udp');
    let got = '';
    sink.on('message', (d) => (got += d.toString()));
    await sink.bind(DATA_PORT);
    const client = hipl(['connect', `${lib.hit}@127.0.0.1:${lib.address().udp!.port}`]);
    client.stdin.end('from connect\n');
    expect(await client.done).toBe(ExitCode.OK);
    expect(got).toBe('from connect\n');
  });
});
