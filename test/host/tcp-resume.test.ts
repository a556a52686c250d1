/**
 * A TCP carrier that breaks (a NAT drops the connection) does not end the association: the side
 * that dialed reconnects and resumes with an UPDATE, the other side checks and moves to the new
 * connection, and a stream keeps its bytes in both directions.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import type { HostStream } from '../../src/host/stream-mux.js';

const LO = '127.0.0.1';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A TCP proxy standing in for a NAT: `cut()` drops every connection through it. */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(): void; accepted(): number }> {
  const pairs: Socket[][] = [];
  let accepted = 0;
  const server: Server = createServer((inside) => {
    accepted++;
    const outside = connect(targetPort, LO);
    inside.pipe(outside);
    outside.pipe(inside);
    inside.on('error', () => outside.destroy());
    outside.on('error', () => inside.destroy());
    pairs.push([inside, outside]);
  });
  await new Promise<void>((r) => server.listen(0, LO, () => r()));
  cleanup.push(() => {
    for (const p of pairs) for (const s of p) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      for (const p of pairs.splice(0)) for (const s of p) s.destroy();
    },
    accepted: () => accepted,
  };
}

describe('TCP carrier resume', () => {
  it('reconnects, resumes with UPDATE, and the stream survives both ways', async () => {
    const a = await HipHost.create({ udp: false });
    const b = await HipHost.create({ udp: false, tcp: { address: LO } });
    cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
    const proxy = await tcpProxy(b.tcpAddress!.port);
    a.peers.add(b.hit(), { address: LO, port: proxy.port, carrier: 'tcp' });
    b.listenStream(7, (s: HostStream) => s.pipe(s));
    const s = a.openStream(b.hit(), 7);
    cleanup.push(() => void s.destroy());
    let echoed = '';
    s.on('data', (d: Buffer) => (echoed += d.toString()));
    const until = (text: string) =>
      new Promise<void>((r) => {
        const check = () => (echoed.includes(text) ? r() : setTimeout(check, 10));
        check();
      });
    s.write('before|');
    await until('before|');

    const moved = new Promise<{ port: number }>((r) => b.once('locator', r));
    proxy.cut();
    // Written while the carrier is down: must arrive once it is back.
    s.write('during|');
    await moved;
    s.write('after|');
    await until('after|');
    expect(echoed).toBe('before|during|after|');
    expect(proxy.accepted()).toBe(2);
    expect(a.isEstablished(b.hit()) && b.isEstablished(a.hit())).toBe(true);
  });

  it("the resumed connection is verified by the UPDATE check, so the listener's stranger deadlines no longer apply", async () => {
    const a = await HipHost.create({ udp: false });
    const b = await HipHost.create({ udp: false, tcp: { address: LO, verifyTimeoutMs: 60_000 } });
    cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
    const proxy = await tcpProxy(b.tcpAddress!.port);
    a.peers.add(b.hit(), { address: LO, port: proxy.port, carrier: 'tcp' });
    await a.connect(b.hit());
    expect(b.tcpListenerStats!.unverified).toBe(0);
    const moved = new Promise<unknown>((r) => b.once('locator', r));
    proxy.cut();
    await moved;
    // Left unverified, it would be closed at verifyTimeoutMs and the association lost again.
    expect(b.tcpListenerStats).toMatchObject({ accepted: 2, unverified: 0 });
  });

  it('with tcpResumeMs 0 the association ends with its connection, as before', async () => {
    const a = await HipHost.create({ udp: false, tcpResumeMs: 0 });
    const b = await HipHost.create({ udp: false, tcp: { address: LO }, tcpResumeMs: 0 });
    cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
    const proxy = await tcpProxy(b.tcpAddress!.port);
    a.peers.add(b.hit(), { address: LO, port: proxy.port, carrier: 'tcp' });
    await a.connect(b.hit());
    const closed = new Promise<{ by: string }>((r) => a.once('closed', r));
    proxy.cut();
    expect((await closed).by).toBe('transport');
  });

  it('clients that leave without CLOSE cost the server no listener each, and their waits still end', async () => {
    // Each connection that breaks waits tcpResumeMs for its dialer. A listener per wait on one
    // shared AbortSignal passed Node's limit of 10 (MaxListenersExceededWarning) with 11 clients.
    const b = await HipHost.create({ udp: false, tcp: { address: LO }, tcpResumeMs: 1500 });
    cleanup.push(() => b.shutdown(200));
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    const clients = 12;
    const ended = new Promise<string[]>((resolve) => {
      const by: string[] = [];
      b.on('closed', (e) => by.push(e.by) === clients && resolve(by));
    });
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const a = await HipHost.create({ udp: false });
        a.peers.add(b.hit(), { address: LO, port: b.tcpAddress!.port, carrier: 'tcp' });
        await a.connect(b.hit());
        await a.shutdown(0); // no CLOSE: the server sees only the connection end
      }),
    );
    // Every wait ends (no dialer came back) and drops its association.
    expect(await ended).toEqual(Array(clients).fill('transport'));
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});
