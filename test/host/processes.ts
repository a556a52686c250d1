/** Spawning fixture peers as separate processes (via tsx) and reading their JSON lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/peer.ts', import.meta.url));
// tsx as a loader in the child itself (not its CLI, which forks a second process that a kill
// would leave running).
const tsxLoader = pathToFileURL(fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))).href;

export interface Peer {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** The first line (ever) that has `key`. */
  waitFor(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The first line at index `from` or later that satisfies `pred`. */
  waitLine(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number, what?: string): Promise<Record<string, unknown>>;
  /** Write one JSON command line to the child's stdin. */
  send(command: Record<string, unknown>): void;
  exited: Promise<number | null>;
}

/** Options of {@link startPeer}. */
export interface StartOptions {
  /** Fixture script; default `fixtures/peer.ts`. */
  fixture?: string;
  /** Command prefix the child runs under, e.g. `['ip', 'netns', 'exec', ns]` (it must exec, not fork). */
  wrap?: string[];
}

const live = new Set<ChildProcess>();

/** Start a fixture peer with a config; resolves when it prints its `ready` line. */
export async function startPeer(config: Record<string, unknown>, opts: StartOptions = {}): Promise<Peer> {
  const argv = [process.execPath, '--import', tsxLoader, opts.fixture ?? fixture, JSON.stringify(config)];
  const [cmd, ...args] = [...(opts.wrap ?? []), ...argv];
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(obj);
    for (const w of [...waiters]) {
      if (w.pred(obj)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(obj);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (live.delete(child), resolve(code))));
  const peer: Peer = {
    child,
    lines,
    exited,
    waitFor(key, timeoutMs = 20_000) {
      return peer.waitLine((l) => key in l, timeoutMs, 0, `"${key}"`);
    },
    waitLine(pred, timeoutMs = 20_000, from = 0, what = 'matching') {
      const seen = lines.slice(from).find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${what} line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}; lines: ${JSON.stringify(lines).slice(-4000)}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
    send(command) {
      child.stdin!.write(`${JSON.stringify(command)}\n`);
    },
  };
  await peer.waitFor('ready');
  return peer;
}

/** Kill every peer still running (afterEach). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}
