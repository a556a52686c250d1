/**
 * Handshakes as the bench's hs-seq figure makes them (a new client host per handshake, open a
 * stream, close), with client and server in one process, after an untimed warm-up: CPU ms per
 * handshake of both sides together, with no JIT warm-up and no wait for another process in the
 * figure (steadier than bench/hs-two.ts on a loaded machine; profile with node --cpu-prof).
 * npx tsx bench/hs-one.ts [udp|tcp|tls] [handshakes]
 */
import { streamClient, streamServer, type Impl } from './impls.js';

const impl = (process.argv[2] === 'tls' ? 'tls' : `hipl-${process.argv[2] === 'tcp' ? 'tcp' : 'udp'}`) as Impl;
const n = Number(process.argv[3] ?? 1000);
const srv = await streamServer(impl, (s) => {
  s.on('error', () => undefined);
  s.pipe(s);
});
async function once(): Promise<void> {
  const c = await streamClient(impl, srv.info, 0);
  const s = await c.open();
  s.on('error', () => undefined);
  s.destroy();
  await c.close();
}
for (let i = 0; i < 300; i++) await once();
for (let round = 0; round < 3; round++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  const c = process.cpuUsage(c0);
  console.log(`${impl}: ${((c.user + c.system) / n / 1000).toFixed(3)} ms CPU per handshake, both sides (system ${(c.system / n / 1000).toFixed(3)}), ${((performance.now() - t0) / n).toFixed(3)} ms wall`);
}
await srv.close();
process.exit(0);
