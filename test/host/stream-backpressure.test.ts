/**
 * A stream whose reader pauses must stop its writer, over real loopback sockets and both
 * carriers: the receiver keeps at most its window, the advertised window closes, the writer
 * sees write() return false and gets no 'drain' until the reader takes data again. Then every
 * byte still arrives, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import type { HostStream } from '../../src/host/stream-mux.js';

const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

async function pair(carrier: 'udp' | 'tcp'): Promise<[HipHost, HipHost]> {
  const a = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false });
  const b = await HipHost.create(carrier === 'udp' ? { udp: { address: '127.0.0.1' } } : { udp: false, tcp: { address: '127.0.0.1' } });
  hosts.push(a, b);
  if (carrier === 'udp') a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
  else a.peers.add(b.hit(), { carrier: 'tcp', address: '127.0.0.1', port: b.tcpAddress!.port });
  return [a, b];
}

/** Byte i of the test stream: a pattern that shows a lost, repeated or reordered chunk. */
function chunkAt(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ((offset + i) * 7 + ((offset + i) >>> 11)) & 0xff;
  return b;
}

/**
 * Write `total` bytes the way Node code should: until write() returns false, then wait for
 * 'drain'. Reports how much the stream accepted so far.
 */
function writer(s: HostStream, total: number, chunk: number): { accepted: () => number; sawFalse: () => boolean } {
  let off = 0;
  let sawFalse = false;
  const pump = (): void => {
    while (off < total) {
      const n = Math.min(chunk, total - off);
      const ok = s.write(chunkAt(off, n));
      off += n;
      if (!ok) {
        sawFalse = true;
        s.once('drain', pump);
        return;
      }
    }
    s.end();
  };
  pump();
  return { accepted: () => off, sawFalse: () => sawFalse };
}

/** Resolves once `value()` has not changed for `quietMs` (or `limitMs` passed). */
async function settled(value: () => number, quietMs: number, limitMs: number): Promise<void> {
  const start = Date.now();
  let last = value();
  let since = Date.now();
  while (Date.now() - start < limitMs) {
    await new Promise((r) => setTimeout(r, 25));
    const v = value();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

describe('a paused reader bounds memory and stops the writer', () => {
  for (const carrier of ['udp', 'tcp'] as const) {
    it(`over the ${carrier.toUpperCase()} carrier`, async () => {
      const [a, b] = await pair(carrier);
      const total = 12 * 1024 * 1024;
      let server: HostStream | undefined;
      const accepted = new Promise<HostStream>((resolve) => b.listenStream(9, (s) => resolve(s)));
      const s = a.openStream(b.hit(), 9);
      const w = writer(s, total, 64 * 1024);
      server = await accepted;
      server.pause(); // the application reads nothing for now
      await settled(w.accepted, 400, 20_000);

      // The writer was stopped: it holds what the windows allow and no more. Without flow
      // control the receiver acknowledges everything and the writer finishes all 12 MiB.
      expect(w.sawFalse()).toBe(true);
      expect(w.accepted()).toBeLessThan(4 * 1024 * 1024);
      // The receiver's Node buffer holds about one high-water mark, not the stream.
      expect(server.readableLength).toBeLessThan(256 * 1024);

      // The reader resumes: everything arrives, in order, and the writer finishes.
      let got = 0;
      let bad = -1;
      server.on('data', (c: Buffer) => {
        if (bad < 0 && !c.equals(chunkAt(got, c.length))) bad = got;
        got += c.length;
      });
      server.resume();
      await new Promise<void>((resolve, reject) => {
        server!.once('end', () => resolve());
        server!.once('error', reject);
      });
      expect(bad).toBe(-1);
      expect(got).toBe(total);
    }, 60_000);
  }
});
