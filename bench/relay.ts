/**
 * The HIP relay (RFC 9028) measured on loopback: base exchange time direct, through a
 * rendezvous server and through a relay (interleaved, fresh initiator each round), then relay
 * throughput (1200-byte datagrams through the relay, hole punching off so nothing bypasses it)
 * and the relay's CPU time per relayed ESP packet. The server runs in its own process so its
 * CPU time is its own.
 * Run: npx tsx bench/relay.ts [rounds] [megabytes]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HipHost } from '../src/host/host.js';
import { createRelay } from '../src/relay/index.js';

interface ServerStats {
  stats: Record<string, number>;
  cpu: { user: number; system: number };
}

if (process.argv[2] === '--server') {
  // The server process: a rendezvous server and relay for the HITs given, unlimited rates.
  const whitelist = JSON.parse(process.argv[3]!) as string[];
  const server = await createRelay({ address: '127.0.0.1', port: 0, whitelist, forwardPerSecond: 1e6, relay: { controlPerSecond: 1e6, espBytesPerSecond: 1e12 } });
  const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'stats') out({ stats: server.stats(), cpu: process.cpuUsage() });
    if (l === 'exit') void server.close().then(() => process.exit(0));
  });
  out({ hit: server.hit, port: server.address.port });
} else {
  const rounds = Number(process.argv[2] ?? 20);
  const megabytes = Number(process.argv[3] ?? 32);
  const engine = { holePunching: false };
  const viaRvs = await HipHost.create({ udp: { address: '127.0.0.1' } });
  const viaRelay = await HipHost.create({ udp: { address: '127.0.0.1' }, engine });
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--server', JSON.stringify([viaRvs.hit(), viaRelay.hit()])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((l: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = () => new Promise<string>((r) => waiting.push(r));
  const server = JSON.parse(await next()) as { hit: string; port: number };
  const stats = async (): Promise<ServerStats> => {
    const p = next();
    child.stdin!.write('stats\n');
    return JSON.parse(await p) as ServerStats;
  };
  await viaRvs.registerWith({ hit: server.hit, address: '127.0.0.1', port: server.port, lifetime: 3600 });
  await viaRelay.registerWith({ hit: server.hit, address: '127.0.0.1', port: server.port, lifetime: 3600, type: 'relay' });

  async function bex(kind: 'direct' | 'rvs' | 'relay'): Promise<number> {
    const initiator = await HipHost.create({ udp: { address: '127.0.0.1' } });
    const peer = kind === 'relay' ? viaRelay : viaRvs;
    initiator.peers.add(peer.hit(), { address: '127.0.0.1', port: kind === 'direct' ? peer.udpAddress!.port : server.port });
    const t0 = performance.now();
    await initiator.connect(peer.hit());
    const ms = performance.now() - t0;
    await initiator.shutdown(300);
    return ms;
  }
  const times: Record<'direct' | 'rvs' | 'relay', number[]> = { direct: [], rvs: [], relay: [] };
  for (const k of ['direct', 'rvs', 'relay'] as const) await bex(k); // warm up
  for (let i = 0; i < rounds; i++) for (const k of ['direct', 'rvs', 'relay'] as const) times[k].push(await bex(k));
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  for (const k of ['direct', 'rvs', 'relay'] as const) console.log(`BEX ${k.padEnd(6)} median ${q(times[k], 0.5).toFixed(1)} ms, p90 ${q(times[k], 0.9).toFixed(1)} ms (${rounds} rounds, loopback UDP, P-256)`);

  // Throughput through the relay: datagrams from an initiator to the relay client, paced in
  // bursts so the socket buffers are not simply overrun.
  const initiator = await HipHost.create({ udp: { address: '127.0.0.1' } });
  initiator.peers.add(viaRelay.hit(), { address: '127.0.0.1', port: server.port });
  await initiator.connect(viaRelay.hit());
  let received = 0;
  viaRelay.bindDatagramPort(9, (d) => void (received += d.length));
  const payload = new Uint8Array(1200);
  const total = Math.floor((megabytes * 1e6) / payload.length);
  const before = await stats();
  const t0 = performance.now();
  for (let n = 0; n < total; n++) {
    void initiator.sendDatagram(viaRelay.hit(), 9, 9, payload);
    if (n % 32 === 31) await new Promise((r) => setImmediate(r));
  }
  let last = -1;
  while (received !== last) {
    last = received;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - t0 - 200) / 1000;
  const after = await stats();
  const packets = after.stats.espPackets! - before.stats.espPackets!;
  const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  console.log(`relay throughput: ${(received / 1e6 / seconds).toFixed(1)} MB/s of payload delivered (${((100 * received) / (total * payload.length)).toFixed(1)} % of ${megabytes} MB sent), ${packets} ESP packets relayed`);
  console.log(`relay CPU: ${(cpuUs / packets).toFixed(1)} µs per relayed packet (user+system of the server process, ${(cpuUs / 1e6).toFixed(2)} s total)`);
  await initiator.shutdown(300);
  await viaRvs.shutdown(300);
  await viaRelay.shutdown(300);
  child.stdin!.write('exit\n');
}
