/**
 * Two HipHosts in one process over real loopback sockets: BEX then protected data both ways,
 * over UDP and TCP, IPv4 and IPv6; data given before establishment arrives after it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { HostIdentity } from '../../src/crypto/identity.js';

const hosts: HipHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown(200)));
});

async function makeHost(opts: Parameters<typeof HipHost.create>[0] = {}): Promise<HipHost> {
  const h = await HipHost.create(opts);
  hosts.push(h);
  return h;
}

function nextDatagram(h: HipHost, port: number): Promise<{ data: string; hit: string; port: number }> {
  return new Promise((resolve) => {
    const bound = h.bindDatagramPort(port, (data, info) => {
      h.unbindDatagramPort(bound);
      resolve({ data: Buffer.from(data).toString(), hit: info.hit, port: info.port });
    });
  });
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('HipHost over UDP', () => {
  for (const family of [4, 6] as const) {
    it(`runs the BEX on first send and carries datagrams both ways (IPv${family})`, async () => {
      const address = family === 4 ? '127.0.0.1' : '::1';
      const a = await makeHost({ udp: { address, family } });
      const b = await makeHost({ udp: { address, family } });
      a.peers.add(b.hit(), { address, port: b.udpAddress!.port });
      const steps: string[] = [];
      a.on('bex', (e) => steps.push(e.step));
      const atB = nextDatagram(b, 7);
      await a.sendDatagram(b.hit(), 5000, 7, enc('before the BEX'));
      const got = await atB;
      expect(got).toEqual({ data: 'before the BEX', hit: a.hit(), port: 5000 });
      expect(steps).toEqual(['i1-sent', 'r1-received', 'i2-sent', 'r2-received']);
      // b learned where a is from the BEX: it can answer by HIT alone
      const atA = nextDatagram(a, 5000);
      await b.sendDatagram(a.hit(), 7, 5000, enc('reply'));
      expect(await atA).toEqual({ data: 'reply', hit: b.hit(), port: 7 });
      expect(a.associationStats(b.hit())!.packetsOut).toBe(1);
      expect(b.associationStats(a.hit())!.packetsIn).toBe(1);
    });
  }

  it('queues many datagrams during the BEX and delivers all of them in order', async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' } });
    const b = await makeHost({ udp: { address: '127.0.0.1' } });
    a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      b.bindDatagramPort(9, (d) => {
        got.push(Buffer.from(d).toString());
        if (got.length === 20) resolve();
      });
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.sendDatagram(b.hit(), 1000, 9, enc(`m${i}`))));
    await all;
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('carries datagrams of every size intact, joined to their header (small) or sealed as pieces (large), each with its inner length', async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' } });
    const b = await makeHost({ udp: { address: '127.0.0.1' } });
    a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
    await a.connect(b.hit());
    const sizes = [0, 1, 64, 1023, 1024, 1025, 1400, 9000];
    const got: Uint8Array[] = [];
    const all = new Promise<void>((resolve) => b.bindDatagramPort(9, (d) => (got.push(d.slice()), got.length === sizes.length && resolve())));
    const sent = sizes.map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff));
    for (const d of sent) await a.sendDatagram(b.hit(), 9, 9, d);
    await all;
    expect(got.map((d) => Buffer.from(d).toString('hex'))).toEqual(sent.map((d) => Buffer.from(d).toString('hex')));
    expect(b.associationStats(a.hit())!.drops).toEqual({});
  });

  it('refuses more queued data than the limit with ERR_HIP_QUEUE_FULL', async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' }, queueLimitBytes: 100 });
    a.peers.add(HostIdentity.generate().hitString(), { address: '127.0.0.1', port: 9 });
    const hit = a.peers.list()[0]!.hit;
    const first = a.sendDatagram(hit, 1, 2, new Uint8Array(80));
    first.catch(() => undefined);
    await expect(a.sendDatagram(hit, 1, 2, new Uint8Array(80))).rejects.toMatchObject({ code: 'ERR_HIP_QUEUE_FULL' });
  });

  it("emits 'rekey' once when the outbound sequence number passes the rekey threshold", async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' }, rekeyThreshold: 3n });
    const b = await makeHost({ udp: { address: '127.0.0.1' } });
    a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
    const rekeys: string[] = [];
    a.on('rekey', (e) => rekeys.push(e.peerHit));
    let got = 0;
    const all = new Promise<void>((resolve) => b.bindDatagramPort(9, () => ++got === 5 && resolve()));
    for (let i = 0; i < 2; i++) await a.sendDatagram(b.hit(), 1, 9, enc(`m${i}`));
    expect(rekeys).toEqual([]);
    for (let i = 2; i < 5; i++) await a.sendDatagram(b.hit(), 1, 9, enc(`m${i}`));
    await all;
    expect(rekeys).toEqual([b.hit()]);
  });

  it('CLOSE from either end frees the association on both', async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' } });
    const b = await makeHost({ udp: { address: '127.0.0.1' } });
    a.peers.add(b.hit(), { address: '127.0.0.1', port: b.udpAddress!.port });
    await a.connect(b.hit());
    const closedAtB = new Promise((r) => b.once('closed', r));
    await a.close(b.hit());
    expect(await closedAtB).toMatchObject({ peerHit: a.hit(), by: 'peer' });
    expect(a.isEstablished(b.hit())).toBe(false);
    expect(b.isEstablished(a.hit())).toBe(false);
    expect(a.engine.associationCount).toBe(0);
  });

  it('a BEX to a silent address fails with ERR_HIP_BEX_FAILED (timeout)', async () => {
    const a = await makeHost({ udp: { address: '127.0.0.1' }, engine: { retransmit: { initialMs: 20, i1Retries: 2 } } });
    const silent = await makeHost({ udp: { address: '127.0.0.1' } });
    const ghost = HostIdentity.generate().hitString();
    a.peers.add(ghost, { address: '127.0.0.1', port: silent.udpAddress!.port });
    await expect(a.connect(ghost)).rejects.toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
  });
});

describe('HipHost over TCP', () => {
  it('runs the BEX over a TCP connection and carries a stream both ways', async () => {
    const a = await makeHost({ udp: false });
    const b = await makeHost({ udp: false, tcp: { address: '127.0.0.1' } });
    b.listenStream(80, (s) => s.pipe(s));
    a.peers.add(b.hit(), { carrier: 'tcp', address: '127.0.0.1', port: b.tcpAddress!.port });
    const s = a.openStream(b.hit(), 80);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const big = Buffer.alloc(200_000, 7);
    s.end(big);
    await new Promise((r) => s.on('end', r));
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });
});

describe('HIPv1 with libhipl clear-text data', () => {
  it('over UDP: v1 BEX, then datagrams in clear on the carrier ports', async () => {
    const idA = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const idB = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
    const a = await makeHost({ identity: idA, udp: { address: '127.0.0.1' }, libhiplClearText: true, engine: { version: 1 } });
    const b = await makeHost({ identity: idB, udp: { address: '127.0.0.1' }, libhiplClearText: true });
    a.peers.add(b.hit(1), { address: '127.0.0.1', port: b.udpAddress!.port });
    const atB = nextDatagram(b, b.udpAddress!.port);
    await a.sendDatagram(b.hit(1), a.udpAddress!.port, b.udpAddress!.port, enc('Hello Sailor!'));
    expect(await atB).toEqual({ data: 'Hello Sailor!', hit: a.hit(1), port: a.udpAddress!.port });
  });
});
