/**
 * Issue 8 item 4: a TCP listener must not let strangers exhaust memory or connections. Real
 * loopback sockets: a 2-byte length must not allocate the announced frame; connections that are
 * not verified (their BEX not done) in time, or go idle, are closed; at most `maxUnverified`
 * of them are held, the oldest giving way; counters say what happened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { TcpListener, type CarrierPeer, type TcpConnection, type TcpListenOptions } from '../../src/transport/index.js';
import { Closer, nextEvent, settle, until } from '../helpers/transport-sockets.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function listen(opts: TcpListenOptions = {}): Promise<TcpListener> {
  return closer.add(await TcpListener.listen({ address: '127.0.0.1', ...opts }), (l) => l.close());
}

/** A raw client that records whether the server closed it. */
async function client(to: CarrierPeer): Promise<Socket & { gone: boolean }> {
  const s = netConnect({ host: to.address, port: to.port, noDelay: true }) as Socket & { gone: boolean };
  s.gone = false;
  s.on('error', () => undefined);
  s.on('close', () => (s.gone = true));
  closer.add(s, (x) => x.destroy());
  await nextEvent(s, 'connect');
  return s;
}

describe('TcpListener admission (issue 8 item 4)', () => {
  it('does not allocate the frame a 2-byte length announces', async () => {
    const n = 150;
    const l = await listen({ maxUnverified: 1000 });
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < n; i++) (await client(l.local)).write(Buffer.from([0xff, 0xff]));
    await until(() => l.connections.size === n, 10_000, 'all connections announced');
    await settle(20);
    const grown = process.memoryUsage().arrayBuffers - before;
    // Up front allocation would hold n * 65533 bytes (~9.8 MB); bytes as they arrive hold ~nothing.
    expect(grown).toBeLessThan((n * 65_533) / 4);
    for (const c of l.connections) expect((c as TcpConnection).stats.bytesIn).toBe(2);
  });

  it('holds at most maxUnverified unverified connections, closing the oldest first', async () => {
    const l = await listen({ maxUnverified: 3 });
    const clients: (Socket & { gone: boolean })[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await client(l.local);
      c.write(Buffer.from([0xff, 0xff]));
      clients.push(c);
      await until(() => l.stats.accepted === i + 1, 5000, 'accepted');
    }
    await until(() => clients[0]!.gone && clients[1]!.gone, 5000, 'the two oldest closed');
    await settle(20);
    expect(clients.map((c) => c.gone)).toEqual([true, true, false, false, false]);
    expect(l.stats).toMatchObject({ accepted: 5, evicted: 2, unverified: 3 });
  });

  it('closes a connection whose peer is not verified in verifyTimeoutMs, even if it trickles bytes', async () => {
    const l = await listen({ verifyTimeoutMs: 200, idleTimeoutMs: 60_000 });
    const c = await client(l.local);
    const trickle = setInterval(() => c.writable && c.write(Buffer.from([0xff])), 10);
    closer.add(trickle, (t) => clearInterval(t));
    await until(() => c.gone, 5000, 'slowloris closed');
    expect(l.stats).toMatchObject({ verifyTimeouts: 1, idleTimeouts: 0, unverified: 0 });
  });

  it('closes an unverified connection idle for idleTimeoutMs (a partial frame never finished)', async () => {
    const l = await listen({ verifyTimeoutMs: 60_000, idleTimeoutMs: 100 });
    const c = await client(l.local);
    c.write(Buffer.from([0x00, 0x40, 0, 0, 0]));
    await until(() => c.gone, 5000, 'idle connection closed');
    expect(l.stats).toMatchObject({ verifyTimeouts: 0, idleTimeouts: 1, unverified: 0 });
  });

  it('leaves silence before the first byte to the verification deadline (libhipl sends its I1 late)', async () => {
    const l = await listen({ verifyTimeoutMs: 300, idleTimeoutMs: 20 });
    const c = await client(l.local);
    await until(() => c.gone, 5000, 'silent connection closed');
    expect(l.stats).toMatchObject({ verifyTimeouts: 1, idleTimeouts: 0, unverified: 0 });
  });

  it('leaves a verified connection alone and frees its slot', async () => {
    const l = await listen({ verifyTimeoutMs: 100, idleTimeoutMs: 50, maxUnverified: 1 });
    const got = nextEvent<[TcpConnection]>(l, 'connection');
    const c = await client(l.local);
    c.write(Buffer.from([0x00, 0x06, 1, 2, 3, 4]));
    const [conn] = await got;
    conn.markVerified();
    expect(l.stats.unverified).toBe(0);
    // A second stranger takes the only slot without evicting the verified connection.
    const d = await client(l.local);
    d.write(Buffer.from([0xff, 0xff]));
    await until(() => d.gone, 5000, 'the stranger times out');
    expect(c.gone).toBe(false);
    expect(conn.closed).toBe(false);
    expect(l.stats).toMatchObject({ accepted: 2, evicted: 0, unverified: 0 });
  });

  it('refuses bad admission options with ERR_TRANSPORT_BAD_ARGUMENT naming the option', async () => {
    for (const [name, v] of [
      ['maxUnverified', 0],
      ['maxUnverified', 1.5],
      ['verifyTimeoutMs', -1],
      ['idleTimeoutMs', Number.NaN],
    ] as const) {
      await expect(TcpListener.listen({ address: '127.0.0.1', [name]: v })).rejects.toMatchObject({
        code: 'ERR_TRANSPORT_BAD_ARGUMENT',
        message: expect.stringContaining(name),
      });
    }
  });
});
