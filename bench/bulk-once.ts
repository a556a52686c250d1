/**
 * One bulk transfer between two hosts in one process, for profiling (node --cpu-prof):
 * npx tsx bench/bulk-once.ts [udp|tcp] [MiB]
 */
import { HipHost } from '../src/host/host.js';

const carrier = (process.argv[2] ?? 'tcp') as 'udp' | 'tcp';
const mib = Number(process.argv[3] ?? 64);
const a = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false });
const b = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false, tcp: { address: '127.0.0.1' } });
a.peers.add(b.hit(), carrier === 'udp' ? { address: '127.0.0.1', port: b.udpAddress!.port } : { carrier: 'tcp', address: '127.0.0.1', port: b.tcpAddress!.port });
let got = 0;
const done = new Promise<void>((resolve) => b.listenStream(9, (s) => {
  s.on('data', (d: Buffer) => (got += d.length));
  s.on('end', () => resolve());
}));
const s = a.openStream(b.hit(), 9);
await new Promise((r) => s.once('connect', r));
const chunk = Buffer.alloc(64 * 1024, 1);
const total = mib * 2 ** 20;
const t0 = performance.now();
let off = 0;
const pump = (): void => {
  while (off < total) {
    off += chunk.length;
    if (!s.write(chunk)) return void s.once('drain', pump);
  }
  s.end();
};
pump();
await done;
const secs = (performance.now() - t0) / 1000;
console.log(`${carrier}: ${(got / secs / 1e6).toFixed(1)} MB/s (${got} bytes in ${secs.toFixed(2)} s)`);
console.log('a', a.associationStats(b.hit()), 'b', b.associationStats(a.hit()));
await Promise.all([a.shutdown(0), b.shutdown(0)]);
