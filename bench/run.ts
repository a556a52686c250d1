/**
 * `npm run bench [-- --quick] [-- --rounds N] [-- --only bulk,ping64] [-- --node-flags "..."]`:
 * hipl against plain TCP/UDP and node:tls in the same run. Each round starts, for every
 * contestant in turn (the order rotates per round), a server process and a client process and
 * runs every figure between them; the table shows medians over the rounds and hipl / anchor
 * ratios (median of the per-round ratios). A full run writes bench/results/latest.json and
 * latest.svg, `--quick` quick.json and .svg; a run with `--only` or `--node-flags` (V8 or Node
 * options given to every contestant's processes alike, e.g. `--no-incremental-marking-task`) writes
 * partial.json and .svg, so that latest.* always hold a full run with default settings.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svgChart } from './chart.js';
import { STREAM_IMPLS, type Impl } from './impls.js';
import type { Infos } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
// Quick runs 3 rounds to stay under two minutes on a loaded 2-core machine; a full run has 5.
const rounds = Number(arg('--rounds') ?? (quick ? 3 : 5));
const only = arg('--only')?.split(',');
/** Node/V8 options for every worker process, every contestant alike (see the README's Performance section). */
const nodeFlags = (arg('--node-flags') ?? '').split(/\s+/).filter((f) => f !== '');
const outName = only || nodeFlags.length > 0 ? 'partial' : quick ? 'quick' : 'latest';

/** Durations and sizes: quick keeps the whole run under two minutes on a loaded 2-core box. */
const P = quick
  ? { hsMs: 300, hsWarmMs: 500, ttfbN: 5, bulkBytes: 8 << 20, pingMs: 300, idleN: 50, slowMs: 500, dgMs: 300 }
  : { hsMs: 1500, hsWarmMs: 4000, ttfbN: 60, bulkBytes: 64 << 20, pingMs: 1000, idleN: 200, slowMs: 3000, dgMs: 1000 };

/** One figure of the table. */
interface Figure {
  id: string;
  label: string;
  unit: string;
  /** Higher is better (rates) or lower is better (latency, memory). */
  higherIsBetter: boolean;
  kind: 'stream' | 'dgram';
  /** hipl's values in this row are those of another figure (an anchor measured apart from what it anchors). */
  hiplFrom?: string;
}

const FIGURES: Figure[] = [
  // The first handshakes of a new server and client process: V8 still compiles hipl's handshake
  // path (node:tls's is C++), so this is what a short-lived process gets, not a server's rate.
  { id: 'hs-cold', label: `handshakes/s, sequential, first ${P.hsMs / 1000} s of new processes`, unit: '/s', higherIsBetter: true, kind: 'stream' },
  { id: 'hs-seq', label: 'handshakes/s, sequential, new client each time (warm processes)', unit: '/s', higherIsBetter: true, kind: 'stream' },
  { id: 'hs-16', label: 'handshakes/s, 16 concurrent', unit: '/s', higherIsBetter: true, kind: 'stream' },
  { id: 'ttfb', label: 'latency to first byte (connect, write at once, echo), ms', unit: 'ms', higherIsBetter: false, kind: 'stream' },
  { id: 'bulk', label: 'bulk MB/s, one stream, 64 KiB writes', unit: 'MB/s', higherIsBetter: true, kind: 'stream' },
  // The goal "bulk over the UDP carrier >= 0.4x plain UDP's byte rate": plain UDP blasts
  // datagrams as large as the stream's segments to a loopback peer, and what the receiver got
  // per second is its rate; hipl's column is its stream bulk over the UDP carrier (row above).
  { id: 'bulk-udp', label: 'bulk MB/s over UDP: plain UDP 32 KiB datagrams (bytes delivered) vs the hipl UDP-carrier stream', unit: 'MB/s', higherIsBetter: true, kind: 'dgram', hiplFrom: 'bulk' },
  { id: 'ping64', label: '64 B stream ping-pong, round trips/s', unit: '/s', higherIsBetter: true, kind: 'stream' },
  { id: 'idle-mem', label: 'server memory held per idle connection (V8 heap in use + buffers + native), KiB', unit: 'KiB', higherIsBetter: false, kind: 'stream' },
  { id: 'idle-rss', label: 'server RSS growth per idle connection (includes V8 page pools), KiB', unit: 'KiB', higherIsBetter: false, kind: 'stream' },
  { id: 'slow-mem', label: 'slow reader: server JS heap + buffers growth, MiB', unit: 'MiB', higherIsBetter: false, kind: 'stream' },
  { id: 'slow-acc', label: 'slow reader: bytes the writer got rid of, MiB', unit: 'MiB', higherIsBetter: false, kind: 'stream' },
  { id: 'dg-ping64', label: '64 B datagram ping-pong, round trips/s', unit: '/s', higherIsBetter: true, kind: 'dgram' },
  { id: 'dg-1400', label: '1400 B datagrams delivered/s', unit: '/s', higherIsBetter: true, kind: 'dgram' },
];

type Results = Record<string, Record<string, number[]>>; // figure -> impl -> per-round values

interface Proc {
  child: ChildProcess;
  ask(msg: object): Promise<Record<string, unknown>>;
}

function start(role: 'server' | 'client', impl: Impl, dgram: boolean): Promise<Proc & { ready: Record<string, unknown> }> {
  const child = fork(join(here, 'worker.ts'), [role, impl, dgram ? 'dgram' : 'stream'], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiter: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m: Record<string, unknown>) => {
    const w = waiter;
    waiter = undefined;
    w?.resolve(m);
  });
  // One exit listener for the worker's life (one per question piled up past MaxListeners).
  child.once('exit', (code) => waiter?.reject(new Error(`${role} ${impl} exited (${code})`)));
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      waiter = { resolve, reject };
    });
  const ask = async (msg: object): Promise<Record<string, unknown>> => {
    const p = next();
    child.send(msg);
    const r = await p;
    if (typeof r.error === 'string') throw new Error(`${role} ${impl}: ${r.error}`);
    return r;
  };
  return next().then((ready) => ({ child, ask, ready }));
}

function record(results: Results, fig: string, impl: string, v: number): void {
  ((results[fig] ??= {})[impl] ??= []).push(v);
}

/** Untimed run before each per-packet figure (ping-pongs, datagrams): about what V8 needs to optimise hipl's path. */
const WARMUP_MS = 1000;

const want = (id: string): boolean => !only || only.some((o) => id.startsWith(o));

/**
 * The stream figures of one contestant. The memory per idle association is measured in a process
 * pair of its own: after other figures, the server is still releasing what they left (the
 * associations of clients that went without CLOSE, over TCP after the resume wait), which showed
 * as shrinking memory; and the handshake figures need processes that have made none yet.
 */
async function streamRound(impl: Impl, results: Results): Promise<void> {
  const wanted = (idle: boolean): boolean => FIGURES.some((f) => f.kind === 'stream' && f.id.startsWith('idle') === idle && want(f.id));
  if (wanted(true)) await streamFigures(impl, results, true);
  if (wanted(false)) await streamFigures(impl, results, false);
}

async function streamFigures(impl: Impl, results: Results, idleOnly: boolean): Promise<void> {
  const server = await start('server', impl, false);
  const client = await start('client', impl, false);
  const infos = server.ready.infos as Infos;
  const run = async (msg: { run: string; [k: string]: unknown }): Promise<number> => {
    if (process.env.BENCH_DEBUG) process.stderr.write(`${impl} ${msg.run}\n`);
    return (await client.ask({ ...msg, infos })).result as number;
  };
  /**
   * JS heap plus Buffers (what a slow reader makes grow), or the memory held (V8 heap in use,
   * buffers, and native memory such as TLS state; memory.ts says why not plain RSS), or RSS.
   */
  const serverMem = async (what: 'js' | 'held' | 'rss' = 'js'): Promise<number> => {
    const m = (await server.ask({ q: 'mem' })).mem as { heap: number; external: number; rss: number; held: number };
    return what === 'rss' ? m.rss : what === 'held' ? m.held : m.heap + m.external;
  };
  try {
    if (idleOnly) {
      // A first batch, kept open and not measured, so the figure is what one more connection
      // costs in a warm server (compiled code, caches and heap pages are paid once per process).
      await run({ run: 'idle', n: P.idleN });
      const [before, rssBefore] = [await serverMem('held'), await serverMem('rss')];
      await run({ run: 'idle', n: P.idleN });
      await new Promise((r) => setTimeout(r, 200));
      record(results, 'idle-mem', impl, ((await serverMem('held')) - before) / P.idleN / 1024);
      record(results, 'idle-rss', impl, ((await serverMem('rss')) - rssBefore) / P.idleN / 1024);
      await run({ run: 'release' });
      await server.ask({ q: 'release' });
      return;
    }
    const hs = want('hs-cold') || want('hs-seq') || want('hs-16') || want('ttfb');
    // Fresh processes: the first handshakes are the cold figure; then untimed ones until V8 has
    // optimised the path (hipl's rate climbs for about 5 s, about 2500 handshakes; node:tls's
    // stays flat), so the other handshake figures are a warm server's and client's.
    if (hs) record(results, 'hs-cold', impl, await run({ run: 'hs-seq', ms: P.hsMs }));
    if (hs) await run({ run: 'hs-seq', ms: P.hsWarmMs });
    if (want('hs-seq')) record(results, 'hs-seq', impl, await run({ run: 'hs-seq', ms: P.hsMs }));
    if (want('hs-16')) record(results, 'hs-16', impl, await run({ run: 'hs-16', ms: P.hsMs }));
    if (want('ttfb')) record(results, 'ttfb', impl, await run({ run: 'ttfb', n: P.ttfbN }));
    if (want('bulk')) {
      // An untimed transfer first, as for every figure: 64 MiB at hipl's rate is half a second,
      // most of it V8 compiling the data path in a process that has only made handshakes.
      await run({ run: 'bulk', bytes: P.bulkBytes });
      record(results, 'bulk', impl, await run({ run: 'bulk', bytes: P.bulkBytes }));
    }
    if (want('ping64')) {
      // An untimed run first (see dgramRound): the figure is the steady state, not the JIT's warm-up.
      await run({ run: 'ping64', ms: WARMUP_MS });
      record(results, 'ping64', impl, await run({ run: 'ping64', ms: P.pingMs }));
    }
    if (want('slow')) {
      const before = await serverMem();
      const accepted = await run({ run: 'slow', ms: P.slowMs });
      record(results, 'slow-mem', impl, (await serverMem() - before) / 2 ** 20);
      record(results, 'slow-acc', impl, accepted / 2 ** 20);
      await run({ run: 'release' });
    }
  } finally {
    client.child.kill();
    server.child.kill();
  }
}

async function dgramRound(impl: Impl, results: Results): Promise<void> {
  const server = await start('server', impl, true);
  const client = await start('client', impl, true);
  const infos = server.ready.infos as Infos;
  try {
    // Each figure runs untimed for WARMUP_MS first: a fresh process interprets hipl's
    // per-packet path until the JIT has compiled it, and a 300 ms window (--quick) measured
    // mostly that warm-up (a quarter of hipl's steady rate), while plain UDP's path is native.
    if (want('dg-ping64')) {
      await client.ask({ run: 'dg-ping64', ms: WARMUP_MS, infos });
      record(results, 'dg-ping64', impl, (await client.ask({ run: 'dg-ping64', ms: P.dgMs, infos })).result as number);
    }
    if (want('bulk-udp') && impl === 'udp') {
      const before = (await server.ask({ q: 'count' })).bytes as number;
      const secs = (await client.ask({ run: 'bulk-udp', ms: P.dgMs, infos })).result as number;
      record(results, 'bulk-udp', impl, (((await server.ask({ q: 'count' })).bytes as number) - before) / secs / 1e6);
    }
    if (want('dg-1400')) {
      await client.ask({ run: 'dg-1400', ms: WARMUP_MS, infos });
      const before = (await server.ask({ q: 'count' })).count as number;
      const secs = (await client.ask({ run: 'dg-1400', ms: P.dgMs, infos })).result as number;
      const count = ((await server.ask({ q: 'count' })).count as number) - before;
      record(results, 'dg-1400', impl, count / secs);
    }
  } finally {
    client.child.kill();
    server.child.kill();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Median of the per-round ratios hipl / anchor (rounds interleave, so a ratio cancels drift);
 * hipl's values come from `f.hiplFrom` when the row says so.
 */
function ratio(results: Results, f: Figure, impl: string, anchor: string): number | undefined {
  // A borrowed row compares the UDP carrier only (the TCP carrier is anchored by plain TCP).
  if (f.hiplFrom && impl !== 'hipl-udp') return undefined;
  const a = results[f.hiplFrom ?? f.id]?.[impl];
  const b = results[f.id]?.[anchor];
  if (!a || !b) return undefined;
  const rs = a.slice(0, b.length).map((x, i) => x / b[i]!).filter((x) => Number.isFinite(x));
  return rs.length ? median(rs) : undefined;
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

async function main(): Promise<void> {
  const results: Results = {};
  const t0 = Date.now();
  const dgImpls: Impl[] = ['udp', 'hipl-udp'];
  for (let r = 0; r < rounds; r++) {
    const order = [...STREAM_IMPLS.slice(r % STREAM_IMPLS.length), ...STREAM_IMPLS.slice(0, r % STREAM_IMPLS.length)];
    if (FIGURES.some((f) => f.kind === 'stream' && want(f.id))) for (const impl of order) await streamRound(impl, results);
    if (FIGURES.some((f) => f.kind === 'dgram' && want(f.id))) for (const impl of r % 2 ? [...dgImpls].reverse() : dgImpls) await dgramRound(impl, results);
    process.stderr.write(`round ${r + 1}/${rounds} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const rows: string[] = [];
  rows.push('| figure | plain TCP/UDP | node:tls | hipl UDP carrier | hipl TCP carrier | hipl / tls (UDP ; TCP) | hipl / plain (UDP ; TCP) |');
  rows.push('|---|---:|---:|---:|---:|---:|---:|');
  const table: Record<string, unknown> = {};
  for (const f of FIGURES) {
    const own = results[f.id];
    if (!own) continue;
    const per = f.hiplFrom ? { ...own, 'hipl-udp': results[f.hiplFrom]?.['hipl-udp'] ?? [] } : own;
    const med = (impl: string): number | undefined => (per[impl]?.length ? median(per[impl]!) : undefined);
    const plain = f.kind === 'dgram' ? 'udp' : 'tcp';
    const rTls = [ratio(results, f, 'hipl-udp', 'tls'), ratio(results, f, 'hipl-tcp', 'tls')];
    const rPlain = [ratio(results, f, 'hipl-udp', plain), ratio(results, f, 'hipl-tcp', plain)];
    const pair = (xs: (number | undefined)[]): string => xs.filter((x) => x !== undefined).map(fmt).join(' ; ');
    rows.push(`| ${f.label} | ${fmt(med(plain))} | ${fmt(med('tls'))} | ${fmt(med('hipl-udp'))} | ${fmt(med('hipl-tcp'))} | ${pair(rTls)} | ${pair(rPlain)} |`);
    table[f.id] = { label: f.label, unit: f.unit, higherIsBetter: f.higherIsBetter, medians: Object.fromEntries(Object.keys(per).map((k) => [k, med(k)])), perRound: per, ratioToTls: rTls, ratioToPlain: rPlain };
  }
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  const flags = nodeFlags.length > 0 ? `, node flags ${nodeFlags.join(' ')}` : '';
  const json = { date: new Date().toISOString(), machine, quick, rounds, only: only ?? null, nodeFlags, params: P, figures: table };
  writeFileSync(join(out, `${outName}.json`), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(out, `${outName}.svg`), svgChart(json.figures as Parameters<typeof svgChart>[0], `hipl benchmark, ${json.date.slice(0, 16)}Z, ${rounds} rounds${quick ? ' (quick)' : ''}${flags}`));
  console.log(`\n${machine}\n${rounds} rounds${quick ? ' (quick)' : ''}${flags}, medians; ratios are medians of per-round ratios; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(rows.join('\n'));
  console.log(`\nwrote ${join(out, `${outName}.json`)} and .svg`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
