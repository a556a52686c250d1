/**
 * One bulk transfer (64 KiB writes) between two processes, for any contestant of the benchmark,
 * reporting the rate and each side's CPU time per MB (steadier than wall time on a shared
 * machine); for profiling each side run it under `node --import tsx --cpu-prof`:
 * npx tsx bench/bulk-two.ts [hipl-tcp|tls|tcp|hipl-udp] [MiB]. The receiver is a child process.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { streamClient, streamServer, type Impl, type ServerInfo } from './impls.js';

const impl = (process.argv[2] ?? 'hipl-tcp') as Impl;
const mib = Number(process.argv[3] ?? 64);
if (process.argv[4] === 'server') {
  const server = await streamServer(impl, (s) => {
    let got = 0;
    const c0 = process.cpuUsage();
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('end', () => {
      const c = process.cpuUsage(c0);
      process.send!({ got, cpu: (c.user + c.system) / 1000 });
      s.end();
      void server.close();
      setTimeout(() => process.exit(0), 100);
    });
  });
  process.send!({ info: server.info });
} else {
  const child = fork(fileURLToPath(import.meta.url), [impl, String(mib), 'server'], { execArgv: process.execArgv });
  const next = <T>(): Promise<T> => new Promise((r) => child.once('message', (m) => r(m as T)));
  const { info } = await next<{ info: ServerInfo }>();
  const client = await streamClient(impl, info);
  const s = await client.open();
  s.on('error', () => undefined);
  const chunk = Buffer.alloc(64 * 1024, 1);
  const total = mib * 2 ** 20;
  const done = next<{ got: number; cpu: number }>();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let off = 0;
  const pump = (): void => {
    while (off < total) {
      off += chunk.length;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
  const { got, cpu } = await done;
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const mine = (c.user + c.system) / 1000;
  const mb = got / 1e6;
  console.log(`${impl}: ${(mb / secs).toFixed(1)} MB/s; CPU ms/MB sender ${(mine / mb).toFixed(2)}, receiver ${(cpu / mb).toFixed(2)}`);
  s.destroy();
  await client.close();
  // Let the receiver exit first, so that under --cpu-prof both sides write their profile.
  await new Promise((r) => child.once('exit', r));
  process.exit(0);
}
