import { describe, it, expect, afterEach } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { UdpCarrier, type CarrierPeer } from '../../src/transport/index.js';
import { dropOnce, seededRandom, startUdpRelay, type UdpRelay } from '../helpers/udp-relay.js';
import { Closer, settle, skipIpv6, until } from '../helpers/transport-sockets.js';

const closer = new Closer();
afterEach(() => closer.closeAll());
const noIpv6 = await skipIpv6();

/** A target that answers every datagram with 'echo:' + the datagram, from its own port. */
async function echoServer(address = '127.0.0.1'): Promise<{ peer: CarrierPeer; seen: string[] }> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const seen: string[] = [];
  s.on('message', (m, r) => {
    seen.push(m.toString());
    s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, address, r));
  closer.add(s, (x) => new Promise<void>((r) => x.close(() => r())));
  const a = s.address();
  return { peer: { address: a.address, port: a.port, family: address.includes(':') ? 6 : 4 }, seen };
}

async function client(address = '127.0.0.1'): Promise<{ sock: Socket; got: string[] }> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, address, r));
  closer.add(s, (x) => new Promise<void>((r) => x.close(() => r())));
  return { sock: s, got };
}

async function relay(opts: Parameters<typeof startUdpRelay>[0]): Promise<UdpRelay> {
  return closer.add(await startUdpRelay(opts), (r) => r.close());
}

/** Send n numbered datagrams through the relay, one at a time, waiting for the relay to take each. */
async function pump(r: UdpRelay, c: Socket, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    c.send(`m${i}`, r.address.port, r.address.address);
    await until(() => r.stats.toTarget.received === i + 1, 3000, `datagram ${i}`);
  }
}

describe('startUdpRelay', () => {
  it('without faults it is a transparent proxy, both ways, one upstream port per client', async () => {
    const echo = await echoServer();
    const r = await relay({ target: echo.peer });
    const a = await client();
    const b = await client();
    await pump(r, a.sock, 3);
    b.sock.send('from-b', r.address.port, r.address.address);
    await until(() => a.got.length === 3 && b.got.length === 1);
    expect(a.got).toEqual(['echo:m0', 'echo:m1', 'echo:m2']);
    expect(b.got).toEqual(['echo:from-b']);
    expect(r.stats.clients).toBe(2);
    expect(r.stats.toTarget).toMatchObject({ received: 4, forwarded: 4, droppedByLoss: 0 });
    expect(r.stats.toClient).toMatchObject({ received: 4, forwarded: 4 });
  });

  it('carries HIP traffic between two UdpCarriers', async () => {
    const server = closer.add(await UdpCarrier.bind({ address: '127.0.0.1' }), (c) => c.close());
    const cl = closer.add(await UdpCarrier.bind({ address: '127.0.0.1' }), (c) => c.close());
    const r = await relay({ target: server.local });
    const hip = new Uint8Array(40);
    hip[0] = 59;
    hip[1] = 4;
    server.on('hip', (p, from) => server.sendHip(p, from));
    const back: Uint8Array[] = [];
    const froms: CarrierPeer[] = [];
    cl.on('hip', (p, from) => {
      back.push(p);
      froms.push(from);
    });
    cl.sendHip(hip, r.address);
    await until(() => back.length === 1);
    expect(Buffer.from(back[0]!).equals(Buffer.from(hip))).toBe(true);
    expect(froms).toEqual([r.address]); // replies come back from the relay, not the server
  });

  it('loss is deterministic for a seed and changes with it', async () => {
    const run = async (seed: string): Promise<number[]> => {
      const echo = await echoServer();
      const r = await relay({ target: echo.peer, loss: 0.3, seed });
      const c = await client();
      await pump(r, c.sock, 60);
      await until(() => r.stats.toTarget.forwarded + r.stats.toTarget.droppedByLoss === 60);
      return [...r.stats.toTarget.droppedIndexes];
    };
    const a1 = await run('alpha');
    const a2 = await run('alpha');
    const b = await run('beta');
    expect(a1).toEqual(a2);
    expect(a1).not.toEqual(b);
    // The drop pattern is the generator's, independently recomputed: three draws per datagram.
    const rng = seededRandom('alpha:toTarget');
    const expected: number[] = [];
    for (let i = 0; i < 60; i++) {
      if (rng() < 0.3) expected.push(i);
      rng();
      rng();
    }
    expect(a1).toEqual(expected);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(40);
  });

  it('loss 1 drops everything, loss 0 nothing', async () => {
    const echo = await echoServer();
    const r = await relay({ target: echo.peer, loss: 1 });
    const c = await client();
    await pump(r, c.sock, 10);
    await settle(30);
    expect(echo.seen).toEqual([]);
    expect(r.stats.toTarget.droppedByLoss).toBe(10);
  });

  it('dropFirst decides first; dropOnce drops only the first match, in the direction asked', async () => {
    const echo = await echoServer();
    const r = await relay({
      target: echo.peer,
      dropFirst: dropOnce((b, dir) => dir === 'toClient' && Buffer.from(b).toString() === 'echo:m1'),
    });
    const c = await client();
    await pump(r, c.sock, 3);
    c.sock.send('m1', r.address.port, r.address.address); // a retransmission gets through
    await until(() => c.got.length === 3);
    await settle(20);
    expect(echo.seen).toEqual(['m0', 'm1', 'm2', 'm1']);
    expect(c.got).toEqual(['echo:m0', 'echo:m2', 'echo:m1']);
    expect(r.stats.toClient).toMatchObject({ droppedByHook: 1, droppedIndexes: [1] });

    const r2 = await relay({ target: echo.peer, dropFirst: (_b, dir) => dir === 'toTarget' });
    const c2 = await client();
    await pump(r2, c2.sock, 2);
    await settle(20);
    expect(r2.stats.toTarget.droppedByHook).toBe(2);
    expect(c2.got).toEqual([]);
  });

  it('duplicate 1 delivers every datagram twice', async () => {
    const echo = await echoServer();
    const r = await relay({ target: echo.peer, duplicate: 1 });
    const c = await client();
    await pump(r, c.sock, 2);
    // Each request arrives twice, and each of the two echoes is doubled on the way back.
    await until(() => c.got.length === 8);
    expect(echo.seen).toEqual(['m0', 'm0', 'm1', 'm1']);
    expect(r.stats.toTarget.duplicated).toBe(2);
    expect(r.stats.toClient.duplicated).toBe(4);
  });

  it('reorderMs delays datagrams so that a burst arrives complete but out of order', async () => {
    const echo = await echoServer();
    const r = await relay({ target: echo.peer, reorderMs: 40, seed: 'shuffle' });
    const c = await client();
    const n = 20;
    for (let i = 0; i < n; i++) c.sock.send(`m${String(i).padStart(2, '0')}`, r.address.port, r.address.address);
    await until(() => echo.seen.length === n, 5000);
    expect([...echo.seen].sort()).toEqual(Array.from({ length: n }, (_, i) => `m${String(i).padStart(2, '0')}`));
    expect(echo.seen).not.toEqual([...echo.seen].sort());
  });

  it('close() cancels delayed datagrams and closes its sockets', async () => {
    const echo = await echoServer();
    const r = await startUdpRelay({ target: echo.peer, reorderMs: 10_000 });
    const c = await client();
    c.sock.send('late', r.address.port, r.address.address);
    await until(() => r.stats.toTarget.received === 1);
    await r.close();
    await r.close();
    await settle(30);
    expect(echo.seen).toEqual([]);
  });

  it('rejects probabilities outside 0..1', async () => {
    const echo = await echoServer();
    await expect(startUdpRelay({ target: echo.peer, loss: 2 })).rejects.toThrow(RangeError);
    await expect(startUdpRelay({ target: echo.peer, duplicate: -0.1 })).rejects.toThrow(RangeError);
  });
});

describe.skipIf(noIpv6)('startUdpRelay over IPv6', () => {
  it('relays between ::1 sockets', async () => {
    const echo = await echoServer('::1');
    const r = await relay({ target: echo.peer });
    expect(r.address.family).toBe(6);
    const c = await client('::1');
    c.sock.send('six', r.address.port, r.address.address);
    await until(() => c.got.length === 1);
    expect(c.got).toEqual(['echo:six']);
  });
});
