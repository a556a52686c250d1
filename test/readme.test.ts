/**
 * Every TypeScript or JavaScript example in README.md that imports from 'hipl' runs as pasted: each is
 * written to a temporary module (with 'hipl' pointing at this checkout's source), run with tsx
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
const blocks = [...readme.matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'hipl'/.test(code));
const dir = mkdtempSync(join(tmpdir(), 'hipl-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });
  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('import'))?.trim().slice(0, 60) ?? `block ${i}`;
    it(`runs: ${title}`, () => {
      const work = mkdtempSync(join(dir, `ex${i}-`));
      const file = join(work, 'example.mts');
      writeFileSync(file, code.replaceAll("from 'hipl'", `from '${join(root, 'src/index.ts')}'`));
      const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
      const r = spawnSync(process.execPath, ['--import', loader, file], { cwd: work, timeout: 60_000, encoding: 'utf8' });
      expect(r.stderr.replace(/\(node:\d+\) \[HIPL_[A-Z_]+\] Warning.*\n(\(Use .*\n)?/g, ''), r.stdout).not.toMatch(/Error/);
      expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
      // What an example promises to print (every string literal it echoes back), it prints.
      for (const promised of code.matchAll(/\.(?:end|write)\('([^']+)'\)/g)) expect(r.stdout).toContain(promised[1]);
    });
  });
});
