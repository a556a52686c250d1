/**
 * CPU per MB of the TCP-carrier stream's data path without sockets, one side at a time: the
 * sender (stream write, segments, ESP sealing, hipl framing) and the receiver (frames cut from
 * 64 KiB chunks, ESP opening, segment handling, data events), with the ACKs between them, and
 * for reference the bare AES-128-GCM seal and open of the same frames. The best of several
 * rounds is shown, so a machine shared with other work still gives steady figures (wall-clock
 * rates of `bench/bulk-two.ts` swing by 2x there):
 * npx tsx bench/bulk-cpu.ts [MiB] [rounds] [stream-only]. `stream-only` leaves out the bare
 * cipher, which keeps every sealed packet alive (so under `node --trace-gc` the collections
 * counted are the stream path's).
 */
import { randomBytes } from 'node:crypto';
import { InboundSa, OutboundSa } from '../src/esp/sa.js';
import { decodeSegment, type Segment } from '../src/host/stream-protocol.js';
import { encodeHiplPayloadHeader, HiplFrameDecoder } from '../src/transport/tcp-framing.js';
import { connectedPair, segmentPieces, TCP_CARRIER_CONFIG as config } from './stream-pair.js';

const mib = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 5);
const streamOnly = process.argv[4] === 'stream-only';
const total = mib * 2 ** 20;
const WRITE = 64 * 1024;
const hitA = randomBytes(16);
const hitB = randomBytes(16);
const encKey = randomBytes(20);

/** Milliseconds of CPU (user + system) spent in `f`. */
function cpu(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

function round(): { send: number; recv: number; seal: number; open: number } {
  const out = new OutboundSa({ suite: 13, spi: 0x1000, encKey, authKey: new Uint8Array(0) });
  const inb = new InboundSa({ suite: 13, spi: 0x1000, encKey, authKey: new Uint8Array(0) });
  const { a, b } = connectedPair();
  const chunk = Buffer.alloc(WRITE, 7);
  const dec = new HiplFrameDecoder();
  let send = 0;
  let recv = 0;
  let sent = 0;
  let got = 0;
  const frames: Uint8Array[][] = [];
  while (got < total) {
    send += cpu(() => {
      while (sent < total && a.bufferedBytes < config.sendBufferBytes) {
        a.write(chunk, 0, { more: true });
        sent += WRITE;
      }
      a.sendQueued(0);
      for (let s; (s = a.pollSegment()); ) {
        const parts = out.sealParts(segmentPieces(s, hitA, hitB), 6);
        let len = 0;
        for (const p of parts) len += p.length;
        frames.push([encodeHiplPayloadHeader(parts[0]!, len), ...parts]);
      }
    });
    // What TCP hands the receiver: the same bytes in 64 KiB reads.
    const wire = Buffer.concat(frames.splice(0).flat());
    const acks: Segment[] = [];
    recv += cpu(() => {
      for (let off = 0; off < wire.length; off += WRITE) {
        dec.push(wire.subarray(off, off + WRITE), (_k, bytes) => {
          const { payload } = inb.open(bytes);
          b.handleSegment(decodeSegment(payload, hitA, hitB, { checksum: false, copy: false }), 0);
          for (let e; (e = b.pollEvent()); ) if (e.type === 'data') got += Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).length;
          for (let s; (s = b.pollSegment()); ) acks.push(s);
        });
      }
    });
    send += cpu(() => {
      for (const s of acks) a.handleSegment(s, 0);
      while (a.pollEvent());
    });
  }
  if (streamOnly) return { send, recv, seal: NaN, open: NaN };
  // The bare cipher on frames of the same size.
  const body = Buffer.alloc(config.mss + 20, 7);
  const n = Math.ceil(total / config.mss);
  const sealed: Uint8Array[] = [];
  const seal = cpu(() => {
    for (let i = 0; i < n; i++) sealed.push(out.seal(body, 6));
  });
  const open = cpu(() => {
    for (const p of sealed) inb.open(p);
  });
  return { send, recv, seal, open };
}

const best = { send: Infinity, recv: Infinity, seal: Infinity, open: Infinity };
for (let r = 0; r < rounds; r++) {
  const x = round();
  for (const k of Object.keys(best) as (keyof typeof best)[]) best[k] = Math.min(best[k], x[k]);
}
const mb = total / 1e6;
const f = (ms: number): string => (ms / mb).toFixed(3);
console.log(`CPU ms/MB (best of ${rounds}, ${mib} MiB): sender ${f(best.send)}, receiver ${f(best.recv)}; AES-128-GCM alone: seal ${f(best.seal)}, open ${f(best.open)}`);
