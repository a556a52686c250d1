/**
 * Datagrams between two hosts in one process, for profiling the per-packet path
 * (node --cpu-prof): npx tsx bench/dgram-once.ts [blast|ping] [seconds]
 * blast: 1400-byte datagrams as fast as the sender can go, counted at the receiver;
 * ping: 64-byte ping-pong, one in flight.
 */
import { HipHost } from '../src/host/host.js';

const mode = process.argv[2] ?? 'blast';
const seconds = Number(process.argv[3] ?? 5);
const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
await a.connect(b.hit());
const bHit = b.hit();
let got = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
const end = t0 + seconds * 1000;
if (mode === 'blast') {
  b.bindDatagramPort(9, () => void got++);
  const msg = new Uint8Array(1400);
  await new Promise<void>((resolve) => {
    const burst = (): void => {
      for (let i = 0; i < 64; i++) void a.sendDatagram(bHit, 9, 9, msg);
      if (performance.now() < end) setImmediate(burst);
      else resolve();
    };
    burst();
  });
  await new Promise((r) => setTimeout(r, 100));
} else {
  b.bindDatagramPort(9, (d, i) => void b.sendDatagram(i.hit, 9, 9, d));
  const msg = new Uint8Array(64);
  await new Promise<void>((resolve) => {
    a.bindDatagramPort(9, () => {
      got++;
      if (performance.now() < end) void a.sendDatagram(bHit, 9, 9, msg);
      else resolve();
    });
    void a.sendDatagram(bHit, 9, 9, msg);
  });
}
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
console.log(`${mode}: ${(got / secs).toFixed(0)} /s (${got} in ${secs.toFixed(2)} s); sealed ${a.associationStats(bHit)?.packetsOut}, opened ${b.associationStats(a.hit())?.packetsIn}; ${((cpu.user + cpu.system) / got).toFixed(1)} µs CPU per datagram delivered`);
await Promise.all([a.shutdown(0), b.shutdown(0)]);
