/**
 * Wireshark's view of the inner stream: the segments of a short connection (handshake, data
 * both ways, close) written as IPv6 packets between the two HITs, which is what a decrypted
 * BEET-mode ESP packet amounts to, and dissected by tshark with TCP checksum validation on.
 * tshark is an independent TCP implementation: it checks our checksums over the HIT
 * pseudo-header, and its sequence analysis would flag retransmissions, gaps or acknowledgements
 * of unseen data if our numbering were off.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { encodeSegment } from '../../src/host/stream-protocol.js';
import { runTshark, skipWithoutTshark } from '../helpers/tshark.js';
import { HIT_A, HIT_B, Sim, payload } from './stream-protocol-sim.js';

function pcap(packets: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(262144, 16);
  g.writeUInt32LE(101, 20); // LINKTYPE_RAW
  parts.push(g);
  packets.forEach((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    parts.push(r, p);
  });
  return concatBytes(...parts);
}

function ipv6(src: Uint8Array, dst: Uint8Array, nextHeader: number, body: Uint8Array): Uint8Array {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(body.length, 4);
  h[6] = nextHeader;
  h[7] = 64;
  h.set(src, 8);
  h.set(dst, 24);
  return concatBytes(h, body);
}

describe.skipIf(skipWithoutTshark())('tshark reads the inner stream as TCP', () => {
  it('checksums are good and the sequence analysis finds nothing wrong', async () => {
    const da = payload(20_000, 31);
    const db = payload(9_000, 32);
    const sim = new Sim({ minDelay: 5, maxDelay: 5 });
    sim.send('a', da, { end: true, chunk: 4000 });
    sim.send('b', db, { end: true, chunk: 3000 });
    sim.open();
    sim.run();
    expect(Buffer.compare(sim.received('b'), da)).toBe(0);

    const packets = sim.wire.map((w) =>
      w.from === 'a'
        ? ipv6(HIT_A, HIT_B, 6, encodeSegment(w.seg, HIT_A, HIT_B))
        : ipv6(HIT_B, HIT_A, 6, encodeSegment(w.seg, HIT_B, HIT_A)),
    );
    // One extra copy of the first data segment with a byte flipped: tshark must call it bad,
    // which shows the status field discriminates.
    const firstData = sim.wire.findIndex((w) => w.seg.data.length > 0);
    const bad = packets[firstData]!.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    packets.push(bad);
    const dir = mkdtempSync(join(tmpdir(), 'hipl-stream-'));
    const file = join(dir, 'stream.pcap');
    writeFileSync(file, pcap(packets));

    const out = await runTshark([
      '-r', file,
      '-o', 'tcp.check_checksum:TRUE',
      '-o', 'tcp.relative_sequence_numbers:TRUE',
      '-T', 'fields', '-E', 'separator=|',
      '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.ack_raw',
      '-e', 'tcp.flags', '-e', 'tcp.len', '-e', 'tcp.checksum.status', '-e', 'tcp.analysis.flags', '-e', '_ws.expert.severity',
    ]);
    const rows = out.trim().split('\n').map((l) => l.split('|'));
    expect(rows.length).toBe(sim.wire.length + 1);
    expect(rows.pop()![7]).toBe('0'); // PROTO_CHECKSUM_E_BAD
    rows.forEach((r, i) => {
      const w = sim.wire[i]!;
      const [src, sport, dport, seq, ack, flags, len, status, analysis] = r;
      expect(src).toBe(w.from === 'a' ? '2001:20::1' : '2001:20::2');
      expect(Number(sport)).toBe(w.seg.srcPort);
      expect(Number(dport)).toBe(w.seg.dstPort);
      expect(Number(seq)).toBe(w.seg.seq);
      if (w.seg.flags.ack) expect(Number(ack)).toBe(w.seg.ack);
      const bits = Number(flags);
      expect({ fin: !!(bits & 1), syn: !!(bits & 2), rst: !!(bits & 4), ack: !!(bits & 16) }).toEqual({
        fin: w.seg.flags.fin,
        syn: w.seg.flags.syn,
        rst: w.seg.flags.rst,
        ack: w.seg.flags.ack,
      });
      expect(Number(len)).toBe(w.seg.data.length);
      expect(status).toBe('1'); // PROTO_CHECKSUM_E_GOOD (0 is BAD, 2 UNVERIFIED)
      // tcp.analysis.flags marks retransmissions, lost segments, ACKed-unseen, dup ACKs, ...
      expect(analysis ?? '').toBe('');
    });
  });
});
