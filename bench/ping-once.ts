/**
 * 64-byte ping-pong between two hosts in one process over one carrier, for profiling and quick
 * checks, with the CPU time of a round trip (both ends; steadier than the rate on a shared
 * machine): npx tsx bench/ping-once.ts [tcp|udp] [ms]
 */
import { HipHost } from '../src/host/host.js';

const carrier = (process.argv[2] ?? 'tcp') as 'udp' | 'tcp';
const ms = Number(process.argv[3] ?? 1000);
const a = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false });
const b = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false, tcp: { address: '127.0.0.1' } });
a.peers.add(b.hit(), carrier === 'udp' ? { address: '127.0.0.1', port: b.udpAddress!.port } : { carrier: 'tcp', address: '127.0.0.1', port: b.tcpAddress!.port });
b.listenStream(7, (s) => s.on('data', (d: Buffer) => s.write(d)));
const s = a.openStream(b.hit(), 7);
await new Promise((r) => s.once('connect', r));
const msg = Buffer.alloc(64, 1);
let n = 0;
const start = performance.now();
const cpu0 = process.cpuUsage();
await new Promise<void>((resolve) => {
  let have = 0;
  s.on('data', (d: Buffer) => {
    have += d.length;
    if (have < 64) return;
    have -= 64;
    n++;
    if (performance.now() >= start + ms) return resolve();
    s.write(msg);
  });
  s.write(msg);
});
const cpu = process.cpuUsage(cpu0);
console.log(`${carrier}: ${(n / ((performance.now() - start) / 1000)).toFixed(0)} round trips/s, ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU per round trip`);
if (process.env.STATS) console.log(n, a.associationStats(b.hit()));
s.destroy();
await Promise.all([a.shutdown(0), b.shutdown(0)]);
