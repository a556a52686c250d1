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
  waitFor(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Start a fixture peer with a config; resolves when it prints its `ready` line. */
export async function startPeer(config: Record<string, unknown>): Promise<Peer> {
  const child = spawn(process.execPath, ['--import', tsxLoader, fixture, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { key: string; resolve: (l: Record<string, unknown>) => void }[] = [];
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
      if (w.key in obj) {
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
      const seen = lines.find((l) => key in l);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "${key}" line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}; lines: ${JSON.stringify(lines)}`)), timeoutMs);
        waiters.push({ key, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
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
