/**
 * The TCP carrier's stream between two processes without the host: hipl's stream machine
 * (`StreamConnection` with the TCP-carrier settings, both ends set up in each process by the
 * same local handshake), its segment codec, ESP (`OutboundSa.sealParts`, `InboundSa.open`) and
 * the transport's `TcpConnection`/`TcpListener` with hipl framing, ACKs flowing back; no
 * association, data plane, stream multiplexer or timers. Between bench/bulk-bare.ts (seal,
 * frame, open) and bench/bulk-two.ts (the whole host), it tells which layers cost what:
 * npx tsx bench/bulk-stream.ts [MiB] [duplex]; under `node --trace-gc` it counts the
 * collections. With `duplex`, the application writes into and reads from a Node Duplex on each
 * side, as with a HostStream: a write's callback waits while the send buffer is full, and a
 * burst of writes is cut into segments a microtask later.
 */
import { fork } from 'node:child_process';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InboundSa, OutboundSa } from '../src/esp/sa.js';
import { decodeSegment } from '../src/host/stream-protocol.js';
import { TcpListener, tcpConnect } from '../src/transport/tcp-carrier.js';
import type { TcpConnection } from '../src/transport/tcp-connection.js';
import { connectedPair, segmentPieces as pieces, TCP_CARRIER_CONFIG as config } from './stream-pair.js';

const mib = Number(process.argv[2] ?? 512);
const withDuplex = process.argv[3] === 'duplex';
const total = mib * 2 ** 20;
const hitA = Buffer.alloc(16, 1);
const hitB = Buffer.alloc(16, 2);
const k1 = { suite: 13, spi: 0x1000, encKey: Buffer.alloc(20, 5), authKey: new Uint8Array(0) };
const k2 = { suite: 13, spi: 0x2000, encKey: Buffer.alloc(20, 6), authKey: new Uint8Array(0) };
const { a, b } = connectedPair();
if (process.argv[4] === 'receiver') {
  const listener = await TcpListener.listen({ address: '127.0.0.1', framing: 'hipl' });
  listener.on('connection', (conn: TcpConnection) => {
    conn.markVerified();
    const inb = new InboundSa(k1, { replayWindow: 1024 });
    const out = new OutboundSa(k2);
    let got = 0;
    const c0 = process.cpuUsage();
    const reader = withDuplex ? new Duplex({ read() {}, write: (_c, _e, cb) => cb() }) : undefined;
    reader?.on('data', (d: Buffer) => (got += d.length));
    conn.on('payload', (bytes: Uint8Array) => {
      const { payload } = inb.open(bytes);
      b.handleSegment(decodeSegment(payload, hitA, hitB, { checksum: false, copy: false }), performance.now());
      for (let e; (e = b.pollEvent()); ) {
        if (e.type !== 'data') continue;
        if (reader) reader.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength));
        else got += e.data.length;
      }
      conn.cork();
      for (let s; (s = b.pollSegment()); ) conn.sendPayloadParts(out.sealParts(pieces(s, hitB, hitA), 6));
      conn.uncork();
      if (got >= total) {
        const c = process.cpuUsage(c0);
        process.send!({ got, cpu: (c.user + c.system) / 1000 });
        setTimeout(() => process.exit(0), 50);
      }
    });
  });
  process.send!({ port: listener.local.port });
} else {
  const child = fork(fileURLToPath(import.meta.url), [String(mib), withDuplex ? 'duplex' : 'plain', 'receiver'], { execArgv: process.execArgv });
  const next = <T>(): Promise<T> => new Promise((r) => child.once('message', (m) => r(m as T)));
  const { port } = await next<{ port: number }>();
  const conn = await tcpConnect({ address: '127.0.0.1', port, framing: 'hipl' });
  const out = new OutboundSa(k1);
  const inb = new InboundSa(k2, { replayWindow: 1024 });
  const chunk = Buffer.alloc(65536, 7);
  let sent = 0;
  let waiting = false;
  /** Write callbacks held while the send buffer is full (with `duplex`). */
  const blocked: (() => void)[] = [];
  const sendQueued = (): void => {
    a.sendQueued(performance.now());
    conn.cork();
    while (conn.pendingBytes < 256 * 1024) {
      const s = a.pollSegment();
      if (!s) break;
      conn.sendPayloadParts(out.sealParts(pieces(s, hitA, hitB), 6));
    }
    conn.uncork();
    if (conn.needsDrain && !waiting) {
      waiting = true;
      conn.once('drain', () => {
        waiting = false;
        sendQueued();
      });
    }
  };
  /** Fill the send buffer from the application's data (without `duplex`), then send. */
  const pump = (): void => {
    while (!withDuplex && sent < total && a.bufferedBytes < config.sendBufferBytes) {
      a.write(chunk, 0, { more: true });
      sent += chunk.length;
    }
    sendQueued();
  };
  conn.on('payload', (bytes: Uint8Array) => {
    const { payload } = inb.open(bytes);
    a.handleSegment(decodeSegment(payload, hitB, hitA, { checksum: false, copy: false }), performance.now());
    for (let e; (e = a.pollEvent()); ) if (e.type === 'drain') for (const cb of blocked.splice(0)) cb();
    pump();
  });
  const done = next<{ got: number; cpu: number }>();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  if (withDuplex) {
    let scheduled = false;
    const writer = new Duplex({
      read() {},
      write(c: Buffer, _e, cb) {
        if (a.write(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), performance.now(), { more: true })) cb();
        else blocked.push(cb);
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            sendQueued();
          });
        }
      },
    });
    const feed = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!writer.write(chunk)) return void writer.once('drain', feed);
      }
    };
    feed();
  } else pump();
  const { got, cpu } = await done;
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const mb = got / 1e6;
  console.log(`stream without the host: ${(mb / secs).toFixed(1)} MB/s; CPU ms/MB sender ${((c.user + c.system) / 1000 / mb).toFixed(2)}, receiver ${(cpu / mb).toFixed(2)}`);
  process.exit(0);
}
