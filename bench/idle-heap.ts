/**
 * Where a server's memory per idle association goes: a server (this process) and N clients (a
 * child process), each client a new host with its own HIT that opens one stream and leaves it
 * idle, as the `idle-mem` figure of run.ts does. Prints the server's JS heap and external
 * growth per association and, with `--snapshot <dir>`, writes heap snapshots before and after
 * (compare them in Chrome DevTools, or with `--top`, a table of the constructors that grew).
 *
 *   node --expose-gc --import tsx bench/idle-heap.ts [hipl-udp|hipl-tcp|tls] [n] [--warm n] [--smaps] [--snapshot dir] [--top]
 */
import { fork } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { heldBytes, residentByMapping } from './memory.js';
import { streamClient, streamServer, type Impl, type ServerInfo } from './impls.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args[0] === 'client') {
  const [, impl, info, n] = args as [string, Impl, string, string];
  const held: unknown[] = [];
  for (let i = 0; i < Number(n); i++) {
    const c = await streamClient(impl, JSON.parse(info) as ServerInfo, -1);
    const s = await c.open();
    s.on('error', () => undefined);
    held.push(c, s);
  }
  process.send!('done');
  // Stay up (the associations stay open) until the server is done measuring.
  process.on('message', () => process.exit(0));
} else {
  const impl = (args[0] ?? 'hipl-udp') as Impl;
  const n = Number(args[1] ?? 100);
  const dir = flag('--snapshot');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npx tsx --expose-gc ...)');
  const held: Duplex[] = [];
  const server = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.pause();
    held.push(s);
  });
  const settle = async (): Promise<NodeJS.MemoryUsage> => {
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 4; i++) gc();
    return process.memoryUsage();
  };
  // First clients warm up code and caches (compiled functions, the R1 templates, heap growth).
  const run = async (count: number): Promise<void> => {
    const child = fork(fileURLToPath(import.meta.url), ['client', impl, JSON.stringify(server.info), String(count)], { execArgv: ['--import', 'tsx'] });
    await new Promise((r) => child.once('message', r));
    children.push(child);
  };
  const children: ReturnType<typeof fork>[] = [];
  await run(Number(flag('--warm') ?? 50));
  const m0 = await settle();
  const [held0, maps0] = [heldBytes(), residentByMapping()];
  const before = dir ? writeHeapSnapshot(join(dir, `${impl}-before.heapsnapshot`)) : undefined;
  await run(n);
  const m1 = await settle();
  const after = dir ? writeHeapSnapshot(join(dir, `${impl}-after.heapsnapshot`)) : undefined;
  const kib = (x: number): string => (x / n / 1024).toFixed(1);
  console.log(`${impl}: per idle association: heap ${kib(m1.heapUsed - m0.heapUsed)} KiB, external+arrayBuffers ${kib(m1.external - m0.external)} KiB, heap total ${kib(m1.heapTotal - m0.heapTotal)} KiB, rss ${kib(m1.rss - m0.rss)} KiB (${held.length} streams held)`);
  const held1 = heldBytes();
  console.log(`  memory held (bench/memory.ts): ${kib(held1 - held0)} KiB per association`);
  if (args.includes('--smaps')) {
    const maps1 = residentByMapping();
    for (const k of new Set([...maps0.keys(), ...maps1.keys()])) {
      const d = (maps1.get(k) ?? 0) - (maps0.get(k) ?? 0);
      if (Math.abs(d) >= n * 512) console.log(`  resident ${k.padEnd(24)} ${kib(d).padStart(7)} KiB per association`);
    }
  }
  if (before && after && args.includes('--top')) top(before, after, n);
  for (const c of children) c.send('bye');
  await server.close();
  process.exit(0);
}

/** Self size and count per constructor name (or node type), after minus before, per association. */
function top(beforePath: string, afterPath: string, n: number): void {
  const tally = (path: string): Map<string, { size: number; count: number }> => {
    const snap = JSON.parse(readFileSync(path, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
    const f = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
    const out = new Map<string, { size: number; count: number }>();
    for (let i = 0; i < snap.nodes.length; i += f.length) {
      const type = types[snap.nodes[i + iType]!]!;
      const name = type === 'object' || type === 'native' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : type;
      const e = out.get(name) ?? { size: 0, count: 0 };
      e.size += snap.nodes[i + iSize]!;
      e.count++;
      out.set(name, e);
    }
    return out;
  };
  const a = tally(beforePath);
  const b = tally(afterPath);
  const rows = [...b].map(([k, v]) => ({ k, size: (v.size - (a.get(k)?.size ?? 0)) / n, count: (v.count - (a.get(k)?.count ?? 0)) / n }));
  rows.sort((x, y) => y.size - x.size);
  for (const r of rows.slice(0, 45)) console.log(`${r.size.toFixed(0).padStart(8)} B ${r.count.toFixed(1).padStart(7)} x  ${r.k}`);
}

