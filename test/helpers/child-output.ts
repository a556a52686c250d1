/**
 * Watching a CLI child process's output in tests.
 */
import type { ChildProcess } from 'node:child_process';

/** Collects a child's output; `wait(re)` resolves with the first match in stdout+stderr. */
export function watch(child: ChildProcess) {
  let text = '';
  const waiters: (() => void)[] = [];
  const on = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', on);
  child.stderr!.on('data', on);
  return {
    text: () => text,
    wait(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(text);
          if (!m) return;
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(t);
          resolve(m);
        };
        const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms in:\n${text}`)), ms);
        waiters.push(check);
        check();
      });
    },
  };
}
