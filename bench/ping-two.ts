/**
 * 64-byte stream ping-pong between two processes for any contestant, with each side's CPU time
 * per round trip: npx tsx bench/ping-two.ts [hipl-udp|hipl-tcp|tls|tcp] [ms]. The echo server is
 * a child process; under `node --import tsx --cpu-prof` both sides write a profile.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { streamClient, streamServer, type Impl, type ServerInfo } from './impls.js';

const impl = (process.argv[2] ?? 'hipl-udp') as Impl;
const ms = Number(process.argv[3] ?? 3000);
if (process.argv[4] === 'server') {
  let c0 = process.cpuUsage();
  const server = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => s.write(d));
  });
  process.on('message', (m: { q: string }) => {
    if (m.q === 'start') c0 = process.cpuUsage();
    else {
      const c = process.cpuUsage(c0);
      process.send!({ cpu: (c.user + c.system) / 1000 });
      void server.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
  process.send!({ info: server.info });
} else {
  const child = fork(fileURLToPath(import.meta.url), [impl, String(ms), 'server'], { execArgv: process.execArgv });
  const next = <T>(): Promise<T> => new Promise((r) => child.once('message', (m) => r(m as T)));
  const { info } = await next<{ info: ServerInfo }>();
  const client = await streamClient(impl, info);
  const s = await client.open();
  s.on('error', () => undefined);
  const msg = Buffer.alloc(64, 1);
  const run = (span: number): Promise<number> =>
    new Promise((resolve) => {
      let n = 0;
      let have = 0;
      const end = performance.now() + span;
      const onData = (d: Buffer): void => {
        have += d.length;
        if (have < 64) return;
        have -= 64;
        n++;
        if (performance.now() >= end) {
          s.off('data', onData);
          return resolve(n);
        }
        s.write(msg);
      };
      s.on('data', onData);
      s.write(msg);
    });
  await run(1000); // untimed: let the JIT optimise both sides
  child.send({ q: 'start' });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const n = await run(ms);
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  child.send({ q: 'stop' });
  const { cpu } = await next<{ cpu: number }>();
  console.log(`${impl}: ${(n / secs).toFixed(0)} round trips/s, ${((1e6 * secs) / n).toFixed(1)} µs each; CPU µs per round trip client ${((1000 * (c.user + c.system) / 1000) / n).toFixed(1)}, server ${((1000 * cpu) / n).toFixed(1)}`);
  s.destroy();
  await client.close();
  await new Promise((r) => child.once('exit', r));
  process.exit(0);
}
