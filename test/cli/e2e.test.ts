/**
 * The `hipl` command end to end: `listen` and `connect` in two processes talk by HIT over UDP
 * and TCP, write pcap and key log files, and exit with the documented codes when things fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const cli = join(root, 'src/cli/main.ts');

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
  /** Resolves with the first match of `re` on stderr. */
  stderrMatch(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const live = new Set<ChildProcess>();
afterEach(() => {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
});

let dir: string;
let keyA: string;
let keyB: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hipl-e2e-'));
  keyA = join(dir, 'a.pem');
  keyB = join(dir, 'b.pem');
  HostIdentity.generate().saveSync(keyA);
  HostIdentity.generate().saveSync(keyB);
  return () => rmSync(dir, { recursive: true, force: true });
});

function hipl(args: string[], stdin?: string): Proc {
  // tsx as a loader, not its CLI: one process, so a kill reaches the command itself.
  const child = spawn(process.execPath, ['--import', tsx, cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
  live.add(child);
  let out = '';
  let err = '';
  const watchers: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...watchers]) w();
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    stderrMatch(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} on stderr within ${timeoutMs} ms: ${err}`)), timeoutMs);
        const check = () => {
          const m = re.exec(err);
          if (!m) return;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          resolve(m);
        };
        watchers.push(check);
        check();
      });
    },
  };
}

const LISTENING = /listening on (udp|tcp) ([0-9.]+):(\d+) as HIT ([0-9a-f:]+)/;

describe('hipl listen / connect', () => {
  it('UDP: connect sends standard input to the listener by HIT; both exit 0 after CLOSE', async () => {
    const server = hipl(['listen', '--udp', '--address', '127.0.0.1', '--key', keyB, '--verbose']);
    const [, , addr, port, hit] = await server.stderrMatch(LISTENING);
    expect(hit).toBe(HostIdentity.loadSync(keyB).hitString());
    const client = hipl(['connect', `${hit}@${addr}:${port}`, '--key', keyA, '--verbose'], 'hello over HIP\n');
    expect(await client.exit).toBe(0);
    expect(await server.exit).toBe(0);
    expect(server.out()).toBe('hello over HIP\n');
    const aHit = HostIdentity.loadSync(keyA).hitString();
    for (const step of ['i1-received (I1)', 'r1-sent (R1)', 'i2-received (I2)', 'r2-sent (R2)']) expect(server.err()).toContain(`BEX ${step} peer ${aHit}`);
    for (const step of ['i1-sent (I1)', 'r1-received (R1)', 'i2-sent (I2)', 'r2-received (R2)']) expect(client.err()).toContain(`BEX ${step} peer ${hit}`);
    expect(client.err()).toMatch(/established with .*: HIPv2, initiator, udp/);
  });

  it('TCP: data both ways; the listener exits 0 when the client ends its stream', async () => {
    const server = hipl(['listen', '--tcp', '--address', '127.0.0.1', '--key', keyB]);
    const [, carrier, addr, port, hit] = await server.stderrMatch(LISTENING);
    expect(carrier).toBe('tcp');
    // The server answers only once it has a peer: keep its input open until then.
    await new Promise((r) => setTimeout(r, 10));
    const client = hipl(['connect', `${hit}@${addr}:${port}`, '--tcp', '--key', keyA]);
    await server.stderrMatch(/connection from ([0-9a-f:]+)/);
    server.child.stdin!.write('from the server\n');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (client.out().includes('from the server')) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    client.child.stdin!.end('from the client\n');
    expect(await server.exit).toBe(0);
    expect(await client.exit).toBe(0);
    expect(server.out()).toBe('from the client\n');
    expect(client.out()).toBe('from the server\n');
    expect(server.err()).toContain(`connection from ${HostIdentity.loadSync(keyA).hitString()}`);
  });

  it('--peer HIT=ADDR gives the address; --pcap and --keylog write their files', async () => {
    const server = hipl(['listen', '--address', '127.0.0.1', '--key', keyB]);
    const [, , , port, hit] = await server.stderrMatch(LISTENING);
    const pcap = join(dir, 'c.pcap');
    const keylog = join(dir, 'c.keys');
    const client = hipl(['connect', hit!, '--port', port!, '--peer', `${hit}=127.0.0.1`, '--key', keyA, '--pcap', pcap, '--keylog', keylog], 'with files\n');
    expect(await client.exit).toBe(0);
    expect(await server.exit).toBe(0);
    expect(server.out()).toBe('with files\n');
    const cap = readFileSync(pcap);
    expect(cap.readUInt32LE(0)).toBe(0xa1b2c3d4); // classic pcap magic
    expect(cap.length).toBeGreaterThan(24 + 4 * 40);
    expect(statSync(keylog).mode & 0o777).toBe(0o600);
    expect(readFileSync(keylog, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });
});

describe('libhipl clear-text mode', () => {
  it('warns once that data travels unencrypted, and the connect line carries the flag', async () => {
    const rsa = join(dir, 'rsa.pem');
    HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }).saveSync(rsa);
    const server = hipl(['listen', '--libhipl-cleartext', '--address', '127.0.0.1', '--key', rsa]);
    await server.stderrMatch(/connect with: hipl connect \S+ --libhipl-cleartext/);
    server.child.kill('SIGINT');
    expect(await server.exit).toBe(130);
    expect(server.err().match(/unencrypted/gi)).toHaveLength(1);
    expect(server.err()).not.toContain('(node:');
  });
});

describe('hipl --version', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const p = hipl(['--version']);
    expect(await p.exit).toBe(0);
    expect(p.out()).toBe(`${pkg.version}\n`);
  });
});

describe('exit codes', () => {
  it('2 when the base exchange times out', async () => {
    const hit = HostIdentity.generate().hitString();
    // Nothing answers HIP on the discard port of loopback.
    const client = hipl(['connect', `${hit}@127.0.0.1:9`, '--timeout', '300'], '');
    expect(await client.exit).toBe(2);
    expect(client.err()).toContain('no base exchange');
  });

  it('4 when the TCP connection is refused', async () => {
    const hit = HostIdentity.generate().hitString();
    const client = hipl(['connect', `${hit}@127.0.0.1:1`, '--tcp', '--timeout', '5000'], '');
    expect(await client.exit).toBe(4);
  });

  it('4 when the listen port is taken', async () => {
    const first = hipl(['listen', '--address', '127.0.0.1']);
    const [, , , port] = await first.stderrMatch(LISTENING);
    const second = hipl(['listen', '--address', '127.0.0.1', '--port', port!]);
    expect(await second.exit).toBe(4);
    expect(second.err()).toMatch(/EADDRINUSE|in use/);
  });

  it('1 for a bad target, 3 for a key file that cannot be created or is readable by others', async () => {
    expect(await hipl(['connect', 'nope@127.0.0.1:1']).exit).toBe(1);
    expect(await hipl(['listen', '--key', join(dir, 'no-such-dir', 'k.pem')]).exit).toBe(3);
    const open = join(dir, 'open.pem');
    HostIdentity.generate().saveSync(open);
    chmodSync(open, 0o644);
    expect(await hipl(['listen', '--key', open]).exit).toBe(3);
  });

  it('5 when the TCP peer dies, with a message', async () => {
    const server = hipl(['listen', '--tcp', '--address', '127.0.0.1', '--key', keyB]);
    const [, , addr, port, hit] = await server.stderrMatch(LISTENING);
    const client = hipl(['connect', `${hit}@${addr}:${port}`, '--tcp', '--key', keyA]);
    await server.stderrMatch(/connection from/);
    server.child.kill('SIGKILL');
    // With the client's messages, so a wrong code says what the client saw.
    expect({ code: await client.exit, err: client.err() }).toMatchObject({ code: 5, err: expect.stringMatching(/lost|broke|reset/) });
  });

  it('130 on SIGINT', async () => {
    const server = hipl(['listen', '--address', '127.0.0.1']);
    await server.stderrMatch(LISTENING);
    server.child.kill('SIGINT');
    expect(await server.exit).toBe(130);
  });
});
