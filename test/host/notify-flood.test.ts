/**
 * Issue 8 item 3 over real loopback sockets: a flood of packets under random sender HITs (I1s
 * with no common DH group, packets with an unknown critical parameter, plain I1s) gets
 * unsigned NOTIFYs under one global budget and R1s from the one signed template: no private-key
 * operation per stranger.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { parseHit } from '../../src/crypto/hit.js';
import { emitPacket, getParam, PacketType, ParamType, parsePacket, type HipParam } from '../../src/wire/index.js';

const hosts: HipHost[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
  for (const s of sockets.splice(0)) s.close();
});

async function until(pred: () => boolean, step = 5): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, step));
}

describe('a flood of random-HIT packets', () => {
  it('costs no signature and gets a bounded number of unsigned NOTIFYs', async () => {
    const budget = 5;
    const b = await HipHost.create({ udp: { address: '127.0.0.1' }, engine: { notifyPerSecond: budget } });
    hosts.push(b);
    const receiverHit = parseHit(b.hit());
    const sock = createSocket('udp4');
    sockets.push(sock);
    const replies: Uint8Array[] = [];
    sock.on('message', (msg) => replies.push(new Uint8Array(msg.subarray(4))));
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));

    const kinds: HipParam[][] = [
      [{ type: ParamType.DH_GROUP_LIST, groups: [99] }],
      [{ type: ParamType.DH_GROUP_LIST, groups: [7] }, { type: 1001, raw: true, contents: new Uint8Array(0) }],
      [{ type: ParamType.DH_GROUP_LIST, groups: [7] }],
    ];
    const total = 1500;
    const started = Date.now();
    for (let i = 0; i < total; i++) {
      const senderHit = receiverHit.slice();
      senderHit.set(randomBytes(12), 4);
      const hip = emitPacket({ version: 2, type: PacketType.I1, controls: 0, checksum: 0, senderHit, receiverHit, params: kinds[i % 3]! });
      const datagram = Buffer.concat([Buffer.alloc(4), hip]);
      await new Promise<void>((resolve) => sock.send(datagram, b.udpAddress!.port, '127.0.0.1', () => resolve()));
      if (i % 20 === 19) await new Promise((r) => setImmediate(r)); // let the host read
    }
    // Loopback may drop part of a flood (socket buffer): wait until everything that arrived
    // was answered, whatever arrived.
    await until(() => b.engine.stats.received > 0);
    let last = -1;
    let lastReplies = -1;
    while (last !== b.engine.stats.received || lastReplies !== replies.length) {
      last = b.engine.stats.received;
      lastReplies = replies.length;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(b.engine.stats.received).toBeGreaterThan(total / 2);
    const elapsedMs = Date.now() - started;

    const notifies = replies.map((r) => parsePacket(r)).filter((p) => p.type === PacketType.NOTIFY);
    const r1s = replies.map((r) => parsePacket(r)).filter((p) => p.type === PacketType.R1);
    expect(r1s.length + notifies.length).toBe(replies.length);
    expect(r1s.length).toBeGreaterThan(0);
    // The budget is per second for everyone: at most `budget` per started second.
    expect(notifies.length).toBeGreaterThan(0);
    expect(b.engine.stats.notifiesSent).toBeLessThanOrEqual(budget * (Math.ceil(elapsedMs / 1000) + 1));
    expect(notifies.every((p) => getParam(p, ParamType.HIP_SIGNATURE) === undefined)).toBe(true);
    const refused = (b.engine.stats.dropped.negotiation ?? 0) + (b.engine.stats.dropped['unknown-critical-parameter'] ?? 0);
    expect(b.engine.stats.notifiesSuppressed).toBe(refused - b.engine.stats.notifiesSent);
    // R1s are copies of a template signed once per generation.
    const signatures = new Set(r1s.map((p) => Buffer.from(getParam(p, ParamType.HIP_SIGNATURE_2)!.signature).toString('hex')));
    expect(signatures.size).toBe(1);
  }, 30_000);
});
