/**
 * Handshakes between two processes, as the bench's hs-seq / hs-16 figures make them (a new
 * client host per handshake, open a stream, close), for profiling each side (node --cpu-prof):
 * npx tsx bench/hs-two.ts [udp|tcp|tls] [ms] [parallel]. The responder is a child process; both
 * print CPU ms per handshake, steadier than wall time on a shared machine. With PER_SECOND=1
 * the initiator also prints how many handshakes each second of the run made (a new process
 * speeds up as V8 optimises the handshake path).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { streamClient, streamServer, type Impl } from './impls.js';

const carrier = process.argv[2] === 'tcp' ? 'tcp' : 'udp';
const ms = Number(process.argv[3] ?? 3000);
const parallel = Number(process.argv[4] ?? 1);
const impl = (process.argv[2] === 'tls' ? 'tls' : `hipl-${carrier}`) as Impl;
if (process.argv[5] === 'server') {
  const srv = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const c0 = process.cpuUsage();
  process.on('message', () => {
    const c = process.cpuUsage(c0);
    process.send!({ cpu: (c.user + c.system) / 1000 });
    void srv.close().then(() => process.exit(0));
  });
  process.send!(srv.info);
} else {
  const child = fork(fileURLToPath(import.meta.url), [process.argv[2] ?? 'udp', String(ms), String(parallel), 'server'], { execArgv: process.execArgv });
  const info = await new Promise<Parameters<typeof streamClient>[1]>((r) => child.once('message', (m) => r(m as never)));
  let n = 0;
  let second = 0;
  let atSecondStart = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: parallel }, async (_, slot) => {
      while (performance.now() < end) {
        const c = await streamClient(impl, info, slot);
        const s = await c.open();
        s.on('error', () => undefined);
        s.destroy();
        await c.close();
        n++;
        const sec = Math.floor((performance.now() - t0) / 1000);
        if (process.env.PER_SECOND && sec > second) {
          console.log(`${second} s: ${n - atSecondStart} handshakes`);
          [second, atSecondStart] = [sec, n];
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  child.send('done');
  const { cpu } = await new Promise<{ cpu: number }>((r) => child.once('message', (m) => r(m as { cpu: number })));
  console.log(`${impl} x${parallel}: ${(n / secs).toFixed(1)} handshakes/s; CPU ms per handshake initiator ${((c.user + c.system) / 1000 / n).toFixed(2)} (system ${(c.system / 1000 / n).toFixed(2)}), responder ${(cpu / n).toFixed(2)}`);
  process.exit(0);
}
