/**
 * What a user gets from `npm pack`: a copy of this checkout without build output (as a fresh
 * clone is) is packed, and the tarball is installed into a new project that uses it from ESM,
 * from CommonJS, from strict TypeScript (with no "types" in its tsconfig) and as the `hipl`
 * command. Offline: the package's dependencies are packed from this checkout's node_modules.
 *
 * Slow (the pack runs the whole build), so it has a generous timeout; it runs in every `npm test`.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; exports: Record<string, unknown> };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const PACK_TIMEOUT_MS = 600_000;

let work: string;
let app: string;
let packedFiles: string[] = [];

/** Run a command without blocking the test worker (a blocked worker misses vitest's RPC). */
async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  try {
    return (await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', timeout: PACK_TIMEOUT_MS, env, maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    const r = e as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} in ${cwd} failed (${String(r.code)})\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  }
}

/** The tarball `npm pack` writes for a package.json's name and version. */
const tarballName = (name: string, version: string) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
const installedVersion = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The runtime dependencies of `names`, transitively, as installed in this checkout. */
function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const p = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(p.dependencies ?? {})) visit(dep);
  };
  names.forEach(visit);
  return [...seen];
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hipl-pack-'));
  // A fresh clone: the files git would check out (tracked, or new and not ignored), no dist/.
  const clone = join(work, 'clone');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(root, f))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(root, f), join(clone, f));
  }
  expect(existsSync(join(clone, 'dist'))).toBe(false);
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir'); // what `npm ci` gives
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  await sh(npm, ['pack', '--pack-destination', tarballs], clone); // runs "prepack": the build
  const hiplTarball = join(tarballs, tarballName(pkg.name, pkg.version));
  packedFiles = (await sh('tar', ['-tzf', hiplTarball], work)).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  // The dependencies (and @types/node, as a TypeScript project has it), packed from this
  // checkout's node_modules, so the install needs no network.
  const deps = dependencyClosure([...Object.keys(pkg.dependencies), '@types/node']);
  for (const dep of deps) await sh(npm, ['pack', '--silent', join(root, 'node_modules', dep)], tarballs);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'hipl-user', version: '1.0.0', private: true }));
  const all = [hiplTarball, ...deps.map((d) => join(tarballs, tarballName(d, installedVersion(d))))];
  await sh(npm, ['install', '--offline', '--no-audit', '--no-fund', ...all], app);
}, PACK_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function node(file: string): string {
  const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr, r.stdout).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('npm pack of a fresh clone', () => {
  it('ships the built library, its declarations, the command, README and LICENSE, and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) expect(packedFiles).toContain(f);
    for (const sub of Object.keys(pkg.exports).filter((k) => k.startsWith('./') && k !== './package.json')) {
      expect(packedFiles).toContain(`dist/${sub.slice(2)}.js`);
      expect(packedFiles).toContain(`dist/${sub.slice(2)}.d.ts`);
    }
    expect(packedFiles.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(packedFiles.filter((f) => /\.c[jt]s(\.map)?$/.test(f))).toEqual([]); // one build: ESM
  });

  it('works from ESM: a base exchange and a stream between two hosts, one error class', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { createHost, HipError, loadOrCreateIdentity } from 'hipl';
import { parsePacket } from 'hipl/wire';
import { HipEngine } from 'hipl/engine';
try { parsePacket(new Uint8Array(3)); } catch (e) { if (!(e instanceof HipError)) throw new Error('hipl/wire error is not a HipError'); }
if (typeof HipEngine !== 'function') throw new Error('no HipEngine');
const alice = await createHost({ identity: await loadOrCreateIdentity('alice.pem'), udp: { address: '127.0.0.1' } });
const bob = await createHost({ udp: { address: '127.0.0.1' } });
await bob.createServer((s) => s.pipe(s)).listen(7);
alice.peers.add(bob.hit, { address: '127.0.0.1', port: bob.address().udp.port });
const s = alice.connect({ hit: bob.hit, port: 7 });
let got = '';
s.on('data', (d) => (got += d));
s.on('end', async () => { await alice.close(); await bob.close(); console.log(got); });
s.end('esm ok');
`,
    );
    expect(node('esm.mjs')).toBe('esm ok\n');
  }, 90_000);

  it('works from CommonJS: require() gives the same classes as import', () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const hipl = require('hipl');
const wire = require('hipl/wire');
import('hipl').then(async (esm) => {
  if (esm.HipError !== hipl.HipError) throw new Error('two HipError classes');
  try { wire.parsePacket(new Uint8Array(3)); } catch (e) { if (!(e instanceof esm.HipError) || e.code !== 'ERR_HIP_TRUNCATED') throw e; }
  const host = await hipl.createHost({ udp: { address: '127.0.0.1' } });
  const hit = host.hit;
  await host.close();
  console.log(hipl.isHit(hit) ? 'cjs ok' : 'bad hit');
});
`,
    );
    expect(node('cjs.cjs')).toBe('cjs ok\n');
  }, 90_000);

  it('type-checks under strict TypeScript with no "types" in tsconfig, from ESM and CommonJS', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], noEmit: true, skipLibCheck: false }, include: ['*.ts', '*.cts'] }),
    );
    writeFileSync(
      join(app, 'main.ts'),
      `import { createHost, HipError, type HiplBexEvent, type HiplStream } from 'hipl';
import { parsePacket } from 'hipl/wire';
const step: HiplBexEvent['step'] = 'r2-received';
// @ts-expect-error not a BEX step
const bad: HiplBexEvent['step'] = 'no-such-step';
export async function main(): Promise<string> {
  const host = await createHost();
  const s: HiplStream = host.connect({ hit: host.hit, port: 7 });
  s.destroy();
  try { parsePacket(new Uint8Array(0)); } catch (e) { if (e instanceof HipError) return e.code + step + String(bad); }
  return '';
}
`,
    );
    writeFileSync(join(app, 'legacy.cts'), `import hipl = require('hipl');\nexport const hit: (h: string) => boolean = hipl.isHit;\n`);
    // Not spawnSync: tsc can take a while on a busy machine, and a blocked worker misses vitest's RPC.
    const out = await sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], app);
    expect(out).toBe('');
  }, 300_000);

  it('installs the hipl command, which knows its version', () => {
    const bin = join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'hipl.cmd' : 'hipl');
    const r = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.status).toBe(0);
  }, 90_000);
});
