/**
 * The README's Wireshark recipe for TCP captures works: a `hipl listen --tcp` session is
 * recorded with --pcap and --keylog, the recipe (taken from the README as it is) runs in bash,
 * and tshark shows the base exchange and the decrypted data.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';
import { skipWithoutTshark } from '../helpers/tshark.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hipl-ws-tcp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- wireshark-tcp-recipe[^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README has no wireshark-tcp-recipe block');
  return m[1]!;
}

function io(stdinText?: string): { io: CliIo; err: () => string } {
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (stdinText !== undefined) stdin.end(stdinText);
  return { io: { stdin, stdout: new PassThrough(), stderr, env: {} }, err: () => err };
}

describe('README: Wireshark recipe for TCP captures', () => {
  it.skipIf(skipWithoutTshark())('shows the BEX and decrypts the data of a TCP session', async () => {
    const server = io();
    const listening = run(['listen', '--tcp', '--address', '127.0.0.1', '--pcap', join(dir, 'hip.pcap'), '--keylog', join(dir, 'hip.keys')], server.io);
    while (!/connect with: hipl connect (\S+)/.test(server.err())) await new Promise((r) => setTimeout(r, 10));
    const target = /connect with: hipl connect (\S+)/.exec(server.err())![1]!;
    const client = io('through tshark\n');
    expect(await run(['connect', target, '--tcp'], client.io)).toBe(0);
    expect(await listening).toBe(0);
    const { stdout } = await promisify(execFile)('bash', ['-c', recipe()], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
    for (const t of ['HIP I1', 'HIP R1', 'HIP I2', 'HIP R2']) expect(stdout).toContain(t);
    // The decrypted inner TCP segments of the data port: the client's first write rides on its
    // SYN (tshark names that segment by its data: an ECHO request to port 7), then the SYN+ACK.
    expect(stdout).toMatch(/ECHO \d+ Request/);
    expect(stdout).toMatch(/7 → \d+ \[SYN, ACK\]/);
  }, 120_000);
});
