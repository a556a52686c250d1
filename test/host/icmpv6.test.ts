/**
 * Issue 13: a HIT is pingable. hipd pings its peer's HIT with ICMPv6 echo requests inside ESP
 * (its heartbeat) and starts UPDATEs when they go unanswered; hipl answers them, can ping too,
 * and names every inner protocol it drops instead of lumping them together.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { echoRequest, innerProtocolDrop, readIcmpv6 } from '../../src/host/inner-icmpv6.js';
import { HipHost } from '../../src/host/host.js';
import { PingTable } from '../../src/host/ping.js';
import { HipProtocolError } from '../../src/errors.js';
import { until } from '../helpers/transport-sockets.js';

const LO = '127.0.0.1';
const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(100)));
});

/** RFC 4443 §2.3 checksum, written out here: one's complement sum over the IPv6 pseudo-header and the message. */
function icmpv6Sum(src: Uint8Array, dst: Uint8Array, msg: Uint8Array): number {
  const pseudo = new Uint8Array(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  new DataView(pseudo.buffer).setUint32(32, msg.length);
  pseudo[39] = 58;
  const all = new Uint8Array(40 + msg.length + (msg.length % 2));
  all.set(pseudo);
  all.set(msg, 40);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i]! << 8) | all[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum; // 0xffff for a message whose checksum is right
}

const A = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
const B = HostIdentity.generate();

describe('ICMPv6 between HITs', () => {
  it('answers an echo request with an echo reply of the same identifier, sequence and data', () => {
    const peer = A.hit(1);
    const me = B.hit(2);
    const data = new TextEncoder().encode('heartbeat');
    const req = echoRequest(0x1234, 7, data, peer, me);
    expect([req[0], req[1]]).toEqual([128, 0]);
    expect(icmpv6Sum(peer, me, req)).toBe(0xffff);
    const m = readIcmpv6(req, peer, me);
    expect(m.kind).toBe('echo-request');
    const reply = (m as { reply: Uint8Array }).reply;
    expect([reply[0], reply[1]]).toEqual([129, 0]);
    expect(Buffer.from(reply.subarray(4)).equals(Buffer.from(req.subarray(4)))).toBe(true);
    expect(icmpv6Sum(me, peer, reply)).toBe(0xffff);
    expect(readIcmpv6(reply, me, peer)).toEqual({ kind: 'echo-reply', id: 0x1234, seq: 7 });
  });

  it('drops a bad checksum, a short message and other types, each by name', () => {
    const peer = A.hit(1);
    const me = B.hit(2);
    const req = echoRequest(1, 1, new Uint8Array(4), peer, me);
    const bad = req.slice();
    bad[9]! ^= 1;
    expect(readIcmpv6(bad, peer, me)).toEqual({ kind: 'drop', reason: 'icmpv6-checksum' });
    expect(readIcmpv6(req, A.hit(2), me)).toEqual({ kind: 'drop', reason: 'icmpv6-checksum' }); // from another HIT
    expect(readIcmpv6(req.subarray(0, 6), peer, me)).toEqual({ kind: 'drop', reason: 'icmpv6-short' });
    const unreachable = echoRequest(1, 1, new Uint8Array(4), peer, me);
    unreachable[0] = 1;
    unreachable[2] = unreachable[3] = 0;
    const c = 0xffff - icmpv6Sum(peer, me, unreachable);
    unreachable[2] = c >> 8;
    unreachable[3] = c & 0xff;
    expect(readIcmpv6(unreachable, peer, me)).toEqual({ kind: 'drop', reason: 'icmpv6-type-1' });
    expect([innerProtocolDrop(132), innerProtocolDrop(1), innerProtocolDrop(253)]).toEqual(['inner-sctp', 'inner-icmp', 'inner-253']);
  });

  it('a ping that gets no reply fails with ERR_HIP_PING_TIMEOUT', async () => {
    const t = new PingTable(() => 0.5);
    const { reply } = t.start('peer', 0, 10);
    await expect(reply).rejects.toMatchObject({ code: 'ERR_HIP_PING_TIMEOUT' });
    expect(t.answer('peer', t.id, 1, 20)).toBe(false);
  });

  it('failAll rejects every ping in flight with the one error it builds, and builds none for an empty table', async () => {
    const t = new PingTable(() => 0.5);
    let built = 0;
    const make = () => (built++, new HipProtocolError('ERR_HIP_HOST_CLOSED', 'the host was shut down'));
    t.failAll(make);
    expect(built).toBe(0);
    const replies = [t.start('p', 0, 10_000).reply, t.start('q', 0, 10_000).reply];
    t.failAll(make);
    expect(built).toBe(1);
    for (const r of replies) await expect(r).rejects.toMatchObject({ code: 'ERR_HIP_HOST_CLOSED' });
  });
});

describe('HipHost: a HIT is pingable', () => {
  async function pair(opts: Parameters<typeof HipHost.create>[0] = {}): Promise<[HipHost, HipHost]> {
    const a = await HipHost.create({ udp: { address: LO }, ...opts });
    const b = await HipHost.create({ udp: { address: LO }, ...opts });
    hosts.push(a, b);
    a.peers.add(b.hit(), { address: LO, port: b.udpAddress!.port });
    await a.connect(b.hit());
    return [a, b];
  }

  it('answers echo requests inside ESP and measures the round trip of its own', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < 3; i++) expect(await a.ping(b.hit(), { data: new Uint8Array(56) })).toBeGreaterThanOrEqual(0);
    expect(await b.ping(a.hit())).toBeGreaterThanOrEqual(0);
    expect(b.associationStats(a.hit())!.echoesAnswered).toBe(3);
    expect(a.associationStats(b.hit())!.echoesAnswered).toBe(1);
    expect(b.associationStats(a.hit())!.drops).toEqual({});
  });

  it('counts other inner protocols by name', async () => {
    const [a, b] = await pair();
    const s = a.sessionFor(b.hit())!;
    a.sendEsp(s, 132, new Uint8Array(12));
    a.sendEsp(s, 58, new Uint8Array(8)); // ICMPv6 with a wrong checksum
    await until(() => Object.keys(b.associationStats(a.hit())!.drops).length === 2, 5000, 'two drops');
    expect(b.associationStats(a.hit())!.drops).toEqual({ 'inner-sctp': 1, 'icmpv6-checksum': 1 });
  });

  it('refuses to ping without an association', async () => {
    const a = await HipHost.create({ udp: { address: LO } });
    hosts.push(a);
    await expect(a.ping(B.hitString())).rejects.toMatchObject({ code: 'ERR_HIP_NOT_ESTABLISHED' });
    await expect(a.ping(B.hitString(), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_HIP_INVALID_ARGUMENT' });
  });
});
