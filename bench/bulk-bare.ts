/**
 * The TCP carrier's bulk data path without hipl, as a floor to compare hipl's with: a sender
 * that seals 65280-byte frames with a new node:crypto AES-128-GCM context each and writes them
 * behind a 2-byte length, and a receiver (a child process) that joins frames from the socket's
 * reads and opens them. Reports the rate and each side's CPU per MB, as bench/bulk-two.ts does:
 * npx tsx bench/bulk-bare.ts [MiB] [ballast] [node|hipl-esp]. `ballast` keeps that many small
 * objects alive in each process, to give its heap the size of a process that has loaded hipl
 * (100000 is ~12 MB); `hipl-esp` seals and opens with hipl's ESP SAs (`OutboundSa.sealParts`,
 * `InboundSa.open`) and frames with its hipl TCP framing instead of bare node:crypto calls.
 * Run under `node --trace-gc` to count the collections.
 */
import { fork } from 'node:child_process';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { InboundSa, OutboundSa } from '../src/esp/sa.js';
import { encodeHiplPayloadHeader, HiplFrameDecoder } from '../src/transport/tcp-framing.js';

const mib = Number(process.argv[2] ?? 1024);
const ballastN = Number(process.argv[3] ?? 0);
const mode = process.argv[4] === 'hipl-esp' ? 'hipl-esp' : 'node';
const saKeys = { suite: 13, spi: 0x1000, encKey: Buffer.alloc(20, 5), authKey: new Uint8Array(0) };
const keep = Array.from({ length: ballastN }, (_, i) => ({ i, s: `x${i}` }));
const key = Buffer.alloc(16, 7);
const iv = Buffer.alloc(12, 3);
const FRAME = 65280;
const TAG = 16;

if (process.argv[5] === 'receiver') {
  const server = net.createServer((s) => {
    let pieces: Buffer[] = [];
    let have = 0;
    let got = 0;
    const c0 = process.cpuUsage();
    const inbound = new InboundSa(saKeys, { replayWindow: 1024 });
    const decoder = new HiplFrameDecoder();
    s.on('data', (chunk: Buffer) => {
      if (mode === 'hipl-esp') {
        decoder.push(chunk, (_kind, bytes) => (got += inbound.open(bytes).payload.length));
        return;
      }
      pieces.push(chunk);
      have += chunk.length;
      while (have >= 2) {
        const joined = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, have);
        pieces = [joined];
        const need = joined.readUInt16BE(0);
        if (have < 2 + need) break;
        const d = createDecipheriv('aes-128-gcm', key, iv);
        d.setAuthTag(joined.subarray(2 + need - TAG, 2 + need));
        got += d.update(joined.subarray(2, 2 + need - TAG)).length;
        d.final();
        const rest = joined.subarray(2 + need);
        pieces = rest.length > 0 ? [rest] : [];
        have = rest.length;
      }
    });
    s.on('end', () => {
      const c = process.cpuUsage(c0);
      process.send!({ got, cpu: (c.user + c.system) / 1000, kept: keep.length });
      setTimeout(() => process.exit(0), 50);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
} else {
  const child = fork(fileURLToPath(import.meta.url), [String(mib), String(ballastN), mode, 'receiver'], { execArgv: process.execArgv });
  const next = <T>(): Promise<T> => new Promise((r) => child.once('message', (m) => r(m as T)));
  const { port } = await next<{ port: number }>();
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  const data = Buffer.alloc(FRAME - TAG, 1);
  const outbound = new OutboundSa(saKeys);
  const frames = Math.ceil((mib * 2 ** 20) / data.length);
  let sent = 0;
  const done = next<{ got: number; cpu: number }>();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  /** Seal the next frame and write it behind its length, as one gathered write; false: wait for 'drain'. */
  const writeFrame =
    mode === 'hipl-esp'
      ? (): boolean => {
          const parts = outbound.sealParts([data], 59);
          let length = 0;
          for (const p of parts) length += p.length;
          return gathered([encodeHiplPayloadHeader(parts[0]!, length), ...parts]);
        }
      : (): boolean => {
          const c = createCipheriv('aes-128-gcm', key, iv);
          const ct = c.update(data);
          c.final();
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(FRAME, 0);
          return gathered([len, ct, c.getAuthTag()]);
        };
  const gathered = (pieces: Uint8Array[]): boolean => {
    let ok = true;
    s.cork();
    for (const p of pieces) ok = s.write(p);
    s.uncork();
    return ok;
  };
  const pump = (): void => {
    while (sent < frames) {
      sent++;
      if (!writeFrame()) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
  const { got, cpu } = await done;
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const mb = got / 1e6;
  console.log(`bare: ${(mb / secs).toFixed(1)} MB/s; CPU ms/MB sender ${((c.user + c.system) / 1000 / mb).toFixed(2)}, receiver ${(cpu / mb).toFixed(2)} (${mode}, ballast ${keep.length})`);
  process.exit(0);
}
