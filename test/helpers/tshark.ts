/**
 * Running tshark from tests. Tests that need it use `it.skipIf(skipWithoutTshark())`: on a
 * developer machine without tshark they are skipped with a note; in CI (`CI=true`) they always
 * run, so a missing tshark fails loudly instead of silently passing.
 * @module
 */

import { execFile, spawnSync } from 'node:child_process';

let available: boolean | undefined;

/** True when a `tshark` binary can be run from PATH (checked once per process). */
export function tsharkAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('tshark', ['-v'], { stdio: 'ignore' });
    available = r.error === undefined && r.status === 0;
  }
  return available;
}

let noted = false;

/**
 * Whether tshark tests should be skipped: only when tshark is missing and this is not CI.
 * Prints why, once, so a skipped cross-check is not mistaken for a passing one.
 */
export function skipWithoutTshark(): boolean {
  if (tsharkAvailable() || process.env.CI === 'true') return false;
  if (!noted) {
    noted = true;
    console.warn('tshark not installed: apt-get install tshark (tshark cross-checks skipped)');
  }
  return true;
}

/**
 * Run tshark with `args` and resolve with its standard output. Rejects with an Error holding
 * stderr when tshark exits non-zero or cannot be started (e.g. `ENOENT` in CI without tshark).
 *
 * @example
 * ```ts
 * const json = JSON.parse(await runTshark(['-r', file, '-T', 'json']));
 * ```
 */
export function runTshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'tshark',
      args,
      { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          const why = missing ? 'tshark is not installed (apt-get install tshark); CI=true requires it' : err.message;
          reject(new Error(`tshark ${args.join(' ')}: ${why}\n${stderr}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
