/**
 * 64-byte datagram ping-pong between two processes (this one and a forked echo), for profiling
 * each side with node --cpu-prof: npx tsx bench/dgram-pair.ts [seconds] [udp|hipl]
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { HipHost } from '../src/host/host.js';

const mode = process.argv[3] ?? 'hipl';
if (process.argv[2] === 'echo') {
  if (mode === 'udp') {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(m, r.port, r.address));
    s.bind(0, '127.0.0.1', () => process.send!({ port: s.address().port }));
  } else {
    const b = await HipHost.create({ udp: { address: '127.0.0.1' } });
    b.bindDatagramPort(9, (d, i) => void b.sendDatagram(i.hit, 9, 9, d));
    process.send!({ port: b.udpAddress!.port, hit: b.hit() });
  }
  process.on('disconnect', () => process.exit(0));
} else {
  const seconds = Number(process.argv[2] ?? 3);
  const child = fork(new URL(import.meta.url).pathname, ['echo', mode], { execArgv: process.execArgv });
  const info = await new Promise<{ port: number; hit?: string }>((r) => child.once('message', (m) => r(m as { port: number; hit?: string })));
  const msg = new Uint8Array(64);
  let n = 0;
  let send: () => void;
  let onReply: (fn: () => void) => void;
  if (mode === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    send = () => s.send(msg, info.port, '127.0.0.1');
    onReply = (fn) => s.on('message', fn);
  } else {
    const a = await HipHost.create({ udp: { address: '127.0.0.1' } });
    a.peers.add(info.hit!, { address: '127.0.0.1', port: info.port });
    await a.connect(info.hit!);
    send = () => void a.sendDatagram(info.hit!, 9, 9, msg);
    onReply = (fn) => a.bindDatagramPort(9, fn);
  }
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await new Promise<void>((resolve) => {
    onReply(() => {
      n++;
      if (performance.now() < end) send();
      else resolve();
    });
    send();
  });
  console.log(`${mode} ping-pong: ${(n / ((performance.now() - t0) / 1000)).toFixed(0)} /s`);
  child.disconnect();
  process.exit(0);
}
