/**
 * One bulk transfer between two processes over the TCP carrier, for profiling each side
 * (node --cpu-prof): npx tsx bench/bulk-two.ts [MiB]. The receiver is a child process.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HipHost } from '../src/host/host.js';

const mib = Number(process.argv[2] ?? 64);
if (process.argv[3] === 'server') {
  const b = await HipHost.create({ udp: false, tcp: { address: '127.0.0.1' }, ...(process.env.SB ? { stream: { sendBufferBytes: Number(process.env.SB), receiveBufferBytes: Number(process.env.RB ?? 1048576) } } : {}) });
  b.listenStream(9, (s) => {
    let got = 0;
    const c0 = process.cpuUsage();
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('end', () => {
      const c = process.cpuUsage(c0);
      process.send!({ got, cpu: (c.user + c.system) / 1000 });
      void b.shutdown(0).then(() => process.exit(0));
    });
  });
  process.send!({ hit: b.hit(), port: b.tcpAddress!.port });
} else {
  const child = fork(fileURLToPath(import.meta.url), [String(mib), 'server'], { execArgv: process.execArgv });
  const info = await new Promise<{ hit: string; port: number }>((r) => child.once('message', (m) => r(m as { hit: string; port: number })));
  const a = await HipHost.create({ udp: false, ...(process.env.SB ? { stream: { sendBufferBytes: Number(process.env.SB), receiveBufferBytes: Number(process.env.RB ?? 1048576) } } : {}) });
  a.peers.add(info.hit, { carrier: 'tcp', address: '127.0.0.1', port: info.port });
  const s = a.openStream(info.hit, 9);
  s.on("error", () => undefined);
  await new Promise((r) => s.once("connect", r));
  const chunk = Buffer.alloc(64 * 1024, 1);
  const total = mib * 2 ** 20;
  const done = new Promise<{ got: number; cpu: number }>((r) => child.once('message', (m) => r(m as { got: number; cpu: number })));
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
  // CPU ms per MB on each side: steadier than wall time on a shared machine.
  console.log(`tcp two processes: ${(got / secs / 1e6).toFixed(1)} MB/s; CPU ms/MB sender ${(mine / (got / 1e6)).toFixed(2)}, receiver ${(cpu / (got / 1e6)).toFixed(2)}`);
  if (process.env.STATS) console.log(a.associationStats(info.hit));
  await a.shutdown(0);
}
