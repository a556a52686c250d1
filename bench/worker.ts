/**
 * One side of a benchmark run, in its own process, driven by run.ts over the IPC channel.
 *
 *   worker.ts server <impl>   starts the servers (echo, sink, paused; or datagram echo/count),
 *                             sends { ready, infos }, answers { q: 'mem' | 'count' }
 *   worker.ts client <impl>   answers { run: scenario, infos, ...params } with { result }
 */
import type { Duplex } from 'node:stream';
import { resolvedStreamConfig } from '../src/host/stream-protocol.js';
import { heldBytes } from './memory.js';
import { dgramEnd, streamClient, streamServer, type DgramEnd, type Impl, type ServerInfo, type StreamClient } from './impls.js';

/** Server info per role. */
export type Infos = Record<string, ServerInfo>;

const [role, impl] = process.argv.slice(2) as ['server' | 'client', Impl];
/** Datagram servers instead of stream servers (run.ts passes `dgram` as the third argument). */
const isDgram = process.argv[4] === 'dgram';

function send(msg: unknown): void {
  process.send!(msg);
}

function mem(): { heap: number; external: number; rss: number; held: number } {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss, held: heldBytes() };
}

async function server(): Promise<void> {
  if (isDgram) {
    const echo = await dgramEnd(impl);
    echo.onMessage((d) => echo.send(d));
    const count = await dgramEnd(impl);
    let n = 0;
    count.onMessage(() => n++);
    const sink = impl === 'udp' ? await dgramEnd(impl, { carrierBuffers: true }) : undefined;
    let bytes = 0;
    sink?.onMessage((d) => (bytes += d.length));
    process.on('message', (m: { q: string }) => {
      if (m.q === 'count') send({ count: n, bytes });
      if (m.q === 'mem') send({ mem: mem() });
    });
    send({ ready: true, infos: { echo: echo.info, count: count.info, ...(sink ? { sink: sink.info } : {}) } });
    return;
  }
  const held: Duplex[] = [];
  const echo = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const sink = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('end', () => s.end('k'));
  });
  const paused = await streamServer(impl, (s) => {
    s.on('error', () => undefined);
    s.pause();
    held.push(s);
  });
  process.on('message', (m: { q: string }) => {
    if (m.q === 'mem') send({ mem: mem() });
    if (m.q === 'release') {
      for (const s of held.splice(0)) s.destroy();
      send({ released: true });
    }
  });
  send({ ready: true, infos: { echo: echo.info, sink: sink.info, paused: paused.info } });
}

// ---- client scenarios ---------------------------------------------------------------

async function handshakes(info: ServerInfo, ms: number, parallel: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  const loop = async (_: unknown, slot: number): Promise<void> => {
    while (performance.now() < end) {
      const c = await streamClient(impl, info, slot);
      const s = await c.open();
      s.on('error', () => undefined);
      s.destroy();
      await c.close();
      n++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: parallel }, loop));
  return n / ((performance.now() - start) / 1000);
}

function firstData(s: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('data', () => resolve());
    s.once('error', reject);
  });
}

async function ttfb(info: ServerInfo, samples: number): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const c = await streamClient(impl, info);
    // Connect and write at once, as Node code does: the byte leaves as soon as the protocol lets it.
    const s = c.start();
    const got = firstData(s);
    s.write('x');
    await got;
    out.push(performance.now() - t0);
    s.destroy();
    await c.close();
  }
  return median(out);
}

async function bulk(info: ServerInfo, bytes: number): Promise<number> {
  const c = await streamClient(impl, info);
  const s = await c.open();
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const done = firstData(s);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let off = 0;
    const pump = (): void => {
      while (off < bytes) {
        off += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
      resolve();
    };
    pump();
  });
  await done;
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  await c.close();
  return bytes / secs / 1e6;
}

async function pingPong(info: ServerInfo, ms: number): Promise<number> {
  const c = await streamClient(impl, info);
  const s = await c.open();
  const msg = Buffer.alloc(64, 1);
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await new Promise<void>((resolve) => {
    let have = 0;
    s.on('data', (d: Buffer) => {
      have += d.length;
      if (have < 64) return;
      have -= 64;
      n++;
      if (performance.now() >= end) return resolve();
      s.write(msg);
    });
    s.write(msg);
  });
  const rate = n / ((performance.now() - start) / 1000);
  s.destroy();
  await c.close();
  return rate;
}

let idle: StreamClient[] = [];

async function openIdle(info: ServerInfo, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = await streamClient(impl, info, -1);
    const s = await c.open();
    s.on('error', () => undefined);
    idle.push(c);
  }
}

async function slowReader(info: ServerInfo, ms: number): Promise<number> {
  const c = await streamClient(impl, info);
  const s = await c.open();
  s.on('error', () => undefined);
  const chunk = Buffer.alloc(64 * 1024, 0x33);
  let accepted = 0;
  const end = performance.now() + ms;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const pump = (): void => {
      while (performance.now() < end) {
        accepted += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      clearTimeout(timer);
      resolve();
    };
    pump();
  });
  idle.push({ open: () => Promise.resolve(s), start: () => s, close: () => (s.destroy(), c.close()) });
  return accepted;
}

let dg: DgramEnd | undefined;
/** The plain UDP bulk sender (kernel buffers as the carrier's). */
let bulkEnd: DgramEnd | undefined;

async function dgramPing(info: ServerInfo, ms: number): Promise<number> {
  dg ??= await dgramEnd(impl);
  await dg.ready(info);
  const msg = new Uint8Array(64);
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const ping = (): void => {
      dg!.send(msg, info);
      clearTimeout(timer);
      timer = setTimeout(ping, 100); // a lost datagram: ask again
    };
    dg!.onMessage(() => {
      n++;
      if (performance.now() >= end) {
        clearTimeout(timer);
        return resolve();
      }
      ping();
    });
    ping();
  });
  dg.onMessage(() => undefined);
  return n / ((performance.now() - start) / 1000);
}

/**
 * Datagrams of `size` bytes sent as fast as the sender can, 64 per turn of the event loop, for
 * `ms`; returns the seconds it sent for (the server counts what arrived).
 */
async function dgramBlast(info: ServerInfo, ms: number, size = 1400, from?: DgramEnd): Promise<number> {
  const ep = from ?? (dg ??= await dgramEnd(impl));
  await ep.ready(info);
  const msg = new Uint8Array(size);
  const start = performance.now();
  const end = start + ms;
  await new Promise<void>((resolve) => {
    const burst = (): void => {
      for (let i = 0; i < 64; i++) ep.send(msg, info);
      if (performance.now() < end) setImmediate(burst);
      else resolve();
    };
    burst();
  });
  const secs = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 100)); // let the last ones land before run.ts counts
  return secs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface RunMsg {
  run: string;
  infos: Infos;
  ms?: number;
  n?: number;
  bytes?: number;
}

async function client(): Promise<void> {
  process.on('message', (m: RunMsg) => {
    void (async () => {
      try {
        let result: number;
        switch (m.run) {
          case 'hs-seq': result = await handshakes(m.infos.echo!, m.ms!, 1); break;
          case 'hs-16': result = await handshakes(m.infos.echo!, m.ms!, 16); break;
          case 'ttfb': result = await ttfb(m.infos.echo!, m.n!); break;
          case 'bulk': result = await bulk(m.infos.sink!, m.bytes!); break;
          case 'ping64': result = await pingPong(m.infos.echo!, m.ms!); break;
          case 'idle': await openIdle(m.infos.paused!, m.n!); result = m.n!; break;
          case 'slow': result = await slowReader(m.infos.paused!, m.ms!); break;
          case 'release': for (const c of idle.splice(0)) await c.close(); result = 0; break;
          case 'dg-ping64': result = await dgramPing(m.infos.echo!, m.ms!); break;
          case 'dg-1400': result = await dgramBlast(m.infos.count!, m.ms!); break;
          // Plain UDP bulk: datagrams as large as a stream's segments to a loopback peer.
          case 'bulk-udp': result = await dgramBlast(m.infos.sink!, m.ms!, resolvedStreamConfig(undefined).loopbackMss, (bulkEnd ??= await dgramEnd(impl, { carrierBuffers: true }))); break;
          case 'mem': send({ mem: mem() }); return;
          default: throw new Error(`unknown scenario ${m.run}`);
        }
        send({ result });
      } catch (e) {
        send({ error: String(e instanceof Error ? e.stack : e) });
      }
    })();
  });
  send({ ready: true });
}

process.on('disconnect', () => process.exit(0));
if (role === 'server') void server();
else void client();
