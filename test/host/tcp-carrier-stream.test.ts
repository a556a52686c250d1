/**
 * Streams over a TCP carrier are framing plus flow control: a burst of writes leaves in
 * full-size ESP frames (one per ~64 KiB), not one frame per write plus a small remainder, and
 * nothing is sent twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import type { HostStream } from '../../src/host/stream-mux.js';

const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

describe('a stream over the TCP carrier', () => {
  it('cuts a burst of 64 KiB writes into full-size segments', async () => {
    const a = await HipHost.create({ udp: false });
    const b = await HipHost.create({ udp: false, tcp: { address: '127.0.0.1' } });
    hosts.push(a, b);
    a.peers.add(b.hit(), { carrier: 'tcp', address: '127.0.0.1', port: b.tcpAddress!.port });
    const total = 8 * 65536;
    let got = 0;
    const all = new Promise<void>((resolve) =>
      b.listenStream(9, (s: HostStream) =>
        s.on('data', (d: Buffer) => {
          got += d.length;
          if (got === total) resolve();
        }),
      ),
    );
    const s = a.openStream(b.hit(), 9);
    await new Promise((r) => s.once('connect', r));
    const before = a.associationStats(b.hit())!.packetsOut;
    // One synchronous burst, well inside the send buffer: write() never says wait.
    for (let i = 0; i < 8; i++) expect(s.write(Buffer.alloc(65536, i))).toBe(true);
    await all;
    const sent = a.associationStats(b.hit())!.packetsOut - before;
    // 512 KiB in segments of up to 65280 bytes: 9 frames. One frame per write plus its
    // 256-byte remainder would be 16.
    expect(sent).toBeLessThanOrEqual(9);
  });
});
