/**
 * One end of a `bench/netem.ts` transfer, run inside a network namespace:
 *   server <tcp|hipl-udp> <bind address>           prints {"port","hit"} once listening, then
 *                                                  {"bytes","ms","sha256"} when the stream ends
 *   client <tcp|hipl-udp> <address> <port> <hit|-> <seconds>
 *                                                  writes for <seconds>, ends, prints {"bytes","sha256"}
 * The server times from the first byte to the end of the stream, so connection set-up is not
 * counted for either contestant.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { HipHost } from '../src/host/host.js';

const STREAM_PORT = 7;
const [role, impl, address, portText, hit, secondsText] = process.argv.slice(2);
const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/** A deterministic 1 MiB pattern, written in 64 KiB slices; the hashes on both ends catch any damage. */
const pattern = Buffer.alloc(1 << 20);
for (let i = 0, x = 1; i < pattern.length; i++) {
  x = (x * 1103515245 + 12345) >>> 0;
  pattern[i] = x >>> 24;
}

function receive(s: Duplex): void {
  const h = createHash('sha256');
  let bytes = 0;
  let t0 = 0;
  s.on('data', (d: Buffer) => {
    if (bytes === 0) t0 = performance.now();
    bytes += d.length;
    h.update(d);
  });
  s.on('end', () => {
    out({ bytes, ms: performance.now() - t0, sha256: h.digest('hex') });
    s.end();
  });
  s.on('error', (e) => out({ error: String(e) }));
}

function send(s: Duplex, seconds: number): Promise<void> {
  const h = createHash('sha256');
  let bytes = 0;
  let off = 0;
  const stopAt = performance.now() + seconds * 1000;
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.on('data', () => undefined);
    s.on('end', () => {
      out({ bytes, sha256: h.digest('hex') });
      resolve();
    });
    const pump = (): void => {
      while (performance.now() < stopAt) {
        const chunk = pattern.subarray(off, off + 65536);
        off = (off + 65536) % pattern.length;
        bytes += chunk.length;
        h.update(chunk);
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
}

if (role === 'server') {
  if (impl === 'tcp') {
    const srv = net.createServer(receive);
    await new Promise<void>((r) => srv.listen(0, address, r));
    out({ port: (srv.address() as net.AddressInfo).port });
  } else {
    const host = await HipHost.create({ udp: { address } });
    host.listenStream(STREAM_PORT, receive);
    out({ port: host.udpAddress!.port, hit: host.hit() });
  }
} else {
  const port = Number(portText);
  const seconds = Number(secondsText);
  if (impl === 'tcp') {
    const s = net.connect({ host: address, port });
    await new Promise((r) => s.once('connect', r));
    await send(s, seconds);
  } else {
    const host = await HipHost.create({ udp: { address: '0.0.0.0' } });
    host.peers.add(hit!, { address: address!, port });
    const s = host.openStream(hit!, STREAM_PORT);
    await new Promise((r, j) => {
      s.once('connect', r);
      s.once('error', j);
    });
    await send(s, seconds);
    await host.shutdown(0);
  }
  process.exit(0);
}
