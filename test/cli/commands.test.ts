/**
 * The `hipl` command in process: usage and exit codes, keygen and hit against the identity
 * module, and the parsing of targets and peer mappings.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';
import { parsePeer, parseTarget } from '../../src/cli/target.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { parsePrivateKeyPem } from '../../src/crypto/keyfile.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hipl-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function hipl(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin.end(opts.stdin ?? '');
  const io: CliIo = { stdin, stdout, stderr, env: opts.env ?? {} };
  const code = await run(args, io);
  return { code, out, err };
}

const HIT_RE = /^2001:2[0-9a-f]:[0-9a-f:]+$/;

describe('usage', () => {
  it('no command: help on stderr, exit 1; --help: help on stdout, exit 0', async () => {
    const none = await hipl([]);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.err).toContain('usage:');
    const help = await hipl(['--help']);
    expect(help.code).toBe(ExitCode.OK);
    expect(help.out).toContain('hipl connect HIT@ADDR:PORT');
    expect(help.out).toContain('exit codes: 0 done, 1 usage, 2 base exchange failed');
  });

  it('unknown commands and options exit 1 with a readable message', async () => {
    const bogus = await hipl(['bogus']);
    expect(bogus.code).toBe(ExitCode.USAGE);
    expect(bogus.err).toContain("unknown command 'bogus'");
    const opt = await hipl(['keygen', '--nope']);
    expect(opt.code).toBe(ExitCode.USAGE);
    expect(opt.err).toMatch(/Unknown option '--nope'/);
    expect((await hipl(['keygen', '--algo', 'dsa'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['keygen', '--bits', '2048'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['keygen', '--algo', 'rsa', '--bits', '100'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['connect'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['connect', 'nonsense@127.0.0.1:1'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['listen', 'extra'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['listen', '--udp', '--tcp'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['listen', '--port', '70000'])).code).toBe(ExitCode.USAGE);
  });

  it('the relay server and its client flag: documented, misuse exits 1', async () => {
    const help = await hipl(['--help']);
    expect(help.out).toContain('hipl relay --whitelist FILE|--open');
    expect(help.out).toContain('--relay HIT@ADDR:PORT');
    // A byte limit for a server that relays nothing, a server with no whitelist, a bad limit.
    expect((await hipl(['rvs', '--open', '--relay-bytes', '1000'])).err).toMatch(/--relay-bytes limits the relay/);
    expect((await hipl(['relay'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['relay', '--open', '--relay-bytes', 'lots'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['listen', '--tcp', '--relay', `${HostIdentity.generate().hitString()}@127.0.0.1:1`])).err).toMatch(/--relay: the server is reached over UDP/);
  });

  it('connect without an address for the HIT exits 1 and says how to give one', async () => {
    const r = await hipl(['connect', HostIdentity.generate().hitString(), '--port', '7']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.err).toContain('no address for');
  });
});

describe('keygen and hit', () => {
  it('keygen --out writes a 0600 key whose HIT it prints', async () => {
    const file = join(dir, 'host.pem');
    const r = await hipl(['keygen', '--out', file]);
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const id = await HostIdentity.load(file);
    expect(id.algorithm).toBe('ecdsa-p256');
    expect(r.out).toBe(`${id.hitString()}\n`);
    expect(r.out.trim()).toMatch(HIT_RE);
    expect(await hipl(['hit', file])).toMatchObject({ code: 0, out: r.out });
    expect(await hipl(['hit'], { env: { HIPL_KEY: file } })).toMatchObject({ code: 0, out: r.out });
  });

  it('keygen refuses to overwrite without --force (exit 3)', async () => {
    const file = join(dir, 'host.pem');
    await hipl(['keygen', '--out', file]);
    const again = await hipl(['keygen', '--out', file]);
    expect(again.code).toBe(ExitCode.IDENTITY);
    expect(again.err).toContain('use --force');
    const forced = await hipl(['keygen', '--out', file, '--force', '--algo', 'p384']);
    expect(forced.code).toBe(0);
    expect((await HostIdentity.load(file)).algorithm).toBe('ecdsa-p384');
  });

  it('keygen without --out writes the PEM to stdout; hit - reads it back, --libhipl-cleartext (old name --v1) for RSA', async () => {
    const r = await hipl(['keygen', '--algo', 'rsa', '--bits', '1024']);
    expect(r.code).toBe(0);
    const id = HostIdentity.fromPrivateKey(parsePrivateKeyPem(r.out));
    expect(id.algorithm).toBe('rsa');
    expect(r.err).toContain(id.hitString());
    expect(await hipl(['hit', '-'], { stdin: r.out })).toMatchObject({ code: 0, out: `${id.hitString()}\n` });
    const v1 = await hipl(['hit', '-', '--libhipl-cleartext'], { stdin: r.out });
    expect(await hipl(['hit', '-', '--v1'], { stdin: r.out })).toMatchObject({ code: 0, out: v1.out });
    expect(v1).toMatchObject({ code: 0, out: `${id.hitString(1)}\n` });
    expect(v1.out).toMatch(/^2001:1[0-9a-f]:/);
    const ed = await hipl(['keygen', '--algo', 'ed25519']);
    expect(HostIdentity.fromPrivateKey(parsePrivateKeyPem(ed.out)).algorithm).toBe('ed25519');
  });

  it('hit: no key is a usage error, a missing or bad key file exits 3, --v1 needs RSA', async () => {
    expect((await hipl(['hit'])).code).toBe(ExitCode.USAGE);
    expect((await hipl(['hit', join(dir, 'missing.pem')])).code).toBe(ExitCode.IDENTITY);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key', { mode: 0o600 });
    expect((await hipl(['hit', junk])).code).toBe(ExitCode.IDENTITY);
    const p256 = join(dir, 'p.pem');
    await hipl(['keygen', '--out', p256]);
    const v1 = await hipl(['hit', p256, '--libhipl-cleartext']);
    expect(v1.code).toBe(ExitCode.IDENTITY);
    expect(v1.err).toContain('RSA');
  });
});

describe('targets', () => {
  const hit = HostIdentity.generate().hitString();

  it('HIT, HIT@ADDR, HIT@ADDR:PORT, HIT@[V6]:PORT, HIT@V6', () => {
    expect(parseTarget(hit)).toEqual({ hit });
    expect(parseTarget(`${hit}@127.0.0.1`)).toEqual({ hit, address: '127.0.0.1' });
    expect(parseTarget(`${hit}@127.0.0.1:10500`)).toEqual({ hit, address: '127.0.0.1', port: 10500 });
    expect(parseTarget(`${hit}@[::1]:7`)).toEqual({ hit, address: '::1', port: 7 });
    expect(parseTarget(`${hit}@::1`)).toEqual({ hit, address: '::1' });
    expect(parseTarget(`${hit.toUpperCase()}@[::1]`)).toEqual({ hit, address: '::1' });
  });

  it('refuses what is not a HIT, an address or a port, with exit code 1', () => {
    for (const bad of ['2001:db8::1@127.0.0.1:1', `${hit}@host.example:1`, `${hit}@127.0.0.1:0`, `${hit}@127.0.0.1:x`, `${hit}@[::1]:99999`]) {
      expect(() => parseTarget(bad), bad).toThrow(expect.objectContaining({ exitCode: 1 }));
    }
  });

  it('--peer HIT=ADDR', () => {
    expect(parsePeer(`${hit}=127.0.0.1`)).toEqual({ hit, address: '127.0.0.1' });
    expect(parsePeer(`${hit}=[::1]`)).toEqual({ hit, address: '::1' });
    expect(() => parsePeer(hit)).toThrow(expect.objectContaining({ exitCode: 1 }));
    expect(() => parsePeer(`${hit}=nowhere`)).toThrow(expect.objectContaining({ exitCode: 1 }));
  });
});

describe('files the user names (issue 8 item 8)', () => {
  it('keygen --out into a missing directory says so, with exit code 3', async () => {
    const r = await hipl(['keygen', '--out', join(dir, 'missing-dir', 'k.pem')]);
    expect(r.code).toBe(ExitCode.IDENTITY);
    expect(r.err).toContain('does not exist');
    expect(r.err).not.toContain('no key file');
  });

  it('an unwritable --pcap or --keylog is a usage error naming the file, not a network one', async () => {
    for (const opt of ['--pcap', '--keylog']) {
      const path = join(dir, 'missing-dir', 'x.out');
      const r = await hipl(['listen', '--udp', '--address', '127.0.0.1', '--port', '0', opt, path]);
      expect(r.code, opt).toBe(ExitCode.USAGE);
      expect(r.err, opt).toContain(path);
    }
  });

  it('hit refuses an RSA key below 1024 bits', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const file = join(dir, 'weak.pem');
    writeFileSync(file, pem, { mode: 0o600 });
    const r = await hipl(['hit', file]);
    expect(r.code).toBe(ExitCode.IDENTITY);
    expect(r.err).toMatch(/512 bits.*1024/);
    expect(r.out).toBe('');
  });
});
