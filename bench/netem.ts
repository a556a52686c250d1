/**
 * Goodput over an emulated path: two network namespaces joined by a veth pair, each side's
 * egress shaped by `tc qdisc ... netem` (10 ms delay each way, so 20 ms RTT, and a loss rate on
 * both directions); on a kernel without sch_netem, by a tun device in each namespace joined by
 * `delay-link.py` (the same delay, in user space) which also drops packets at the given rate.
 * One bulk transfer at a time goes across it: a hipl stream over the UDP
 * carrier and a plain TCP flow on the same path, with CUBIC and with BBR, in rotating order
 * round by round. Prints the medians and the hipl/TCP ratio per loss rate, and writes
 * bench/results/netem.json. Needs root and iproute2 (plus python3 without netem); not part of npm test.
 *
 *   npx tsx bench/netem.ts [--loss 1,5] [--rounds 3] [--seconds 8] [--rtt 20]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const losses = arg('loss', '1,5').split(',').map(Number);
const rounds = Number(arg('rounds', '3'));
const seconds = Number(arg('seconds', '8'));
const rtt = Number(arg('rtt', '20'));
/** TCP with the kernel's CUBIC (Linux's usual default) and with BBR, and hipl (NewReno) over UDP. */
const IMPLS = ['tcp-cubic', 'tcp-bbr', 'hipl-udp'] as const;
type Contestant = (typeof IMPLS)[number];

const TSX = pathToFileURL(fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url))).href;
const PEER = fileURLToPath(new URL('./netem-peer.ts', import.meta.url));
// The same naming as test/helpers/netns.ts, whose sweep removes namespaces of dead processes.
const tag = `hipl-${process.pid}-${randomBytes(3).toString('hex')}`;
const NS = { a: `${tag}-a`, b: `${tag}-b` };
const ADDR = { a: '10.77.0.1', b: '10.77.0.2' };

function sh(...args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim()}`);
}

function cleanup(): void {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/** The kernel's netem qdisc, if this kernel has it (microVM kernels often do not). */
function haveNetem(): boolean {
  const probe = `${tag}-probe`;
  sh('ip', 'netns', 'add', probe);
  const r = spawnSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return r.status === 0;
}

const useNetem = haveNetem();
let link: ChildProcess | undefined;
process.on('exit', () => link?.kill('SIGKILL'));

/**
 * With netem: a veth pair, shaped on both ends. Without: a tun device in each namespace and
 * `delay-link.py` copying packets between them (see shape()).
 */
async function buildPath(): Promise<void> {
  for (const ns of Object.values(NS)) sh('ip', 'netns', 'add', ns);
  const dev = useNetem ? { a: 'va', b: 'vb' } : { a: 'ta', b: 'tb' };
  if (useNetem) sh('ip', 'link', 'add', 'va', 'netns', NS.a, 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS.b);
  for (const side of ['a', 'b'] as const) {
    const other = side === 'a' ? 'b' : 'a';
    if (!useNetem) {
      sh('ip', '-n', NS[side], 'tuntap', 'add', 'dev', dev[side], 'mode', 'tun');
      sh('ip', '-n', NS[side], 'link', 'set', dev[side], 'txqueuelen', '1000');
    }
    sh('ip', '-n', NS[side], 'addr', 'add', `${ADDR[side]}/32`, 'dev', dev[side]);
    sh('ip', '-n', NS[side], 'link', 'set', dev[side], 'up');
    sh('ip', '-n', NS[side], 'route', 'add', `${ADDR[other]}/32`, 'dev', dev[side]);
    sh('ip', '-n', NS[side], 'link', 'set', 'lo', 'up');
    // Socket buffers large enough for a 20 ms path, as on any host tuned for bulk transfer.
    sh('ip', 'netns', 'exec', NS[side], 'sysctl', '-qw', 'net.core.rmem_max=8388608', 'net.core.wmem_max=8388608');
  }
}

/** Set the loss rate (both directions) and the delay: netem on each veth end, or a new delay-link.py. */
async function shape(lossPct: number): Promise<void> {
  if (!useNetem) {
    link?.kill('SIGTERM');
    link = spawn('python3', [fileURLToPath(new URL('./delay-link.py', import.meta.url)), NS.a, NS.b, String(rtt / 2), String(lossPct)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => link!.stdout!.once('data', r));
    return;
  }
  for (const [side, dev] of [['a', 'va'], ['b', 'vb']] as const) {
    spawnSync('ip', ['netns', 'exec', NS[side], 'tc', 'qdisc', 'del', 'dev', dev, 'root'], { stdio: 'ignore' });
    sh('ip', 'netns', 'exec', NS[side], 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${rtt / 2}ms`, 'loss', `${lossPct}%`, 'limit', '10000');
  }
}

interface Line {
  port?: number;
  hit?: string;
  bytes?: number;
  ms?: number;
  sha256?: string;
  error?: string;
}

/** Start a peer in `ns`; resolve its stdout lines one by one. */
function peer(ns: string, args: string[]): { next(): Promise<Line>; done: Promise<number | null>; kill(): void } {
  const child = spawn('ip', ['netns', 'exec', ns, 'nice', process.execPath, '--import', TSX, PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  const waiters: ((l: Line) => void)[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; ) {
      const l = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  return {
    next: () => {
      const l = lines.shift();
      return l ? Promise.resolve(l) : new Promise((r) => waiters.push(r));
    },
    done: new Promise((r) => child.on('exit', r)),
    kill: () => child.kill('SIGKILL'),
  };
}

async function transfer(contestant: Contestant): Promise<number> {
  const impl = contestant === 'hipl-udp' ? 'hipl-udp' : 'tcp';
  // The sender's congestion control decides; set it in the sender's namespace.
  // (a per-route setting: a namespace may not change its sysctl default to an algorithm outside
  // the machine's allowed list).
  if (impl === 'tcp') sh('ip', '-n', NS.a, 'route', 'replace', `${ADDR.b}/32`, 'dev', useNetem ? 'va' : 'ta', 'congctl', contestant.slice(4));
  const server = peer(NS.b, ['server', impl, ADDR.b]);
  const info = await server.next();
  const client = peer(NS.a, ['client', impl, ADDR.b, String(info.port), info.hit ?? '-', String(seconds)]);
  const timeout = setTimeout(() => {
    client.kill();
    server.kill();
  }, (seconds + 120) * 1000);
  try {
    const [got, sent] = await Promise.all([server.next(), client.next()]);
    if (got.error || sent.error) throw new Error(`${impl}: ${got.error ?? sent.error}`);
    if (got.bytes !== sent.bytes || got.sha256 !== sent.sha256) throw new Error(`${impl}: received ${got.bytes} bytes (${got.sha256}), sent ${sent.bytes} (${sent.sha256})`);
    return got.bytes! / got.ms! / 1000; // MB/s
  } finally {
    clearTimeout(timeout);
    client.kill();
    server.kill();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

await buildPath();
console.log(useNetem ? 'path: veth + tc netem' : 'path: tun + delay-link.py (this kernel has no sch_netem)');
const results: { lossPct: number; rttMs: number; mbps: Record<string, number[]>; ratios: Record<string, number[]> }[] = [];
for (const lossPct of losses) {
  await shape(lossPct);
  const mbps: Record<string, number[]> = Object.fromEntries(IMPLS.map((i) => [i, []]));
  const ratios: Record<string, number[]> = { 'tcp-cubic': [], 'tcp-bbr': [] };
  for (let r = 0; r < rounds; r++) {
    // Rotate the order, so drift of a shared machine does not favour one contestant.
    const order = IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length]!);
    const round: Record<string, number> = {};
    for (const c of order) {
      round[c] = await transfer(c);
      mbps[c]!.push(round[c]!);
    }
    for (const k of Object.keys(ratios)) ratios[k]!.push(round['hipl-udp']! / round[k]!);
    console.log(`loss ${lossPct}% round ${r + 1}: ${IMPLS.map((c) => `${c} ${round[c]!.toFixed(2)}`).join(', ')} MB/s`);
  }
  results.push({ lossPct, rttMs: rtt, mbps, ratios });
}
console.log(`\nRTT ${rtt} ms, ${seconds} s per transfer, ${rounds} rounds, medians:`);
console.log('| loss | TCP CUBIC MB/s | TCP BBR MB/s | hipl UDP carrier MB/s | hipl / CUBIC | hipl / BBR |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const m = (c: string): string => median(r.mbps[c]!).toFixed(2);
  console.log(`| ${r.lossPct} % | ${m('tcp-cubic')} | ${m('tcp-bbr')} | ${m('hipl-udp')} | ${median(r.ratios['tcp-cubic']!).toFixed(2)} | ${median(r.ratios['tcp-bbr']!).toFixed(2)} |`);
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/netem.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), seconds, rounds, results }, null, 2));
// The delay link (a child with a pipe) would keep the process alive; the exit handlers remove it and the namespaces.
process.exit(0);
