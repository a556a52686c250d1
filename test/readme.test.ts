/**
 * Every TypeScript or JavaScript example in README.md that imports from 'hipl' (or a subpath such
 * as 'hipl/engine') runs as pasted: each is written to a temporary module (with the imports
 * pointing at this checkout's source), run with tsx
 * in a fresh process inside an empty directory, and must exit 0 within the timeout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'hipl(\/[a-z]+)?'/.test(code));
/** package.json "exports" subpath -> its source entry (as tsup.config.ts builds it). */
const SOURCE: Readonly<Record<string, string>> = {
  '.': 'src/index.ts',
  './wire': 'src/wire/index.ts',
  './crypto': 'src/crypto/index.ts',
  './esp': 'src/esp/index.ts',
  './engine': 'src/core/index.ts',
  './transport': 'src/transport/index.ts',
  './host': 'src/host/index.ts',
};
const exportsMap = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;
const dir = mkdtempSync(join(tmpdir(), 'hipl-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('maps every package.json export to a source entry', () => {
    expect(Object.keys(exportsMap).filter((k) => k !== './package.json').sort()).toEqual(Object.keys(SOURCE).sort());
  });
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });
  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('import'))?.trim().slice(0, 60) ?? `block ${i}`;
    it(`runs: ${title}`, () => {
      const work = mkdtempSync(join(dir, `ex${i}-`));
      const file = join(work, 'example.mts');
      const pasted = code.replace(/from 'hipl(\/[a-z]+)?'/g, (_, sub: string | undefined) => {
        const source = SOURCE[`.${sub ?? ''}`];
        if (!source) throw new Error(`README imports hipl${sub}, which package.json does not export`);
        return `from '${join(root, source)}'`;
      });
      writeFileSync(file, pasted);
      const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
      const r = spawnSync(process.execPath, ['--import', loader, file], { cwd: work, timeout: 60_000, encoding: 'utf8' });
      expect(r.stderr.replace(/\(node:\d+\) \[HIPL_[A-Z_]+\] Warning.*\n(\(Use .*\n)?/g, ''), r.stdout).not.toMatch(/Error/);
      expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
      // What an example promises to print (every string literal it echoes back), it prints.
      for (const promised of code.matchAll(/\.(?:end|write)\('([^']+)'\)/g)) expect(r.stdout).toContain(promised[1]);
    });
  });
});
