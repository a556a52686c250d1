/**
 * shutdown(0) over a TCP carrier waits for no peer (issue 11: a host made per connection paid
 * a round trip at every close), yet ends the connection gracefully: our FIN goes out after what
 * was queued, and the connection stays open to take the peer's last bytes and FIN, so the peer
 * sees an orderly close instead of a reset.
 */
import net from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';

const LO = '127.0.0.1';
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

it('shutdown(0) resolves before the peer has ended its side, and the peer still closes cleanly after it', async () => {
  // A TCP peer that never answers the I1 and ends its side only when told to.
  let peer!: net.Socket;
  let gotI1!: () => void;
  const i1 = new Promise<void>((resolve) => (gotI1 = resolve));
  const peerSawOurFin = new Promise<void>((resolve) => {
    const srv = net.createServer({ allowHalfOpen: true }, (sock) => {
      peer = sock;
      sock.on('data', () => gotI1());
      sock.on('end', () => resolve());
    });
    servers.push(srv);
    srv.listen(0, LO);
  });
  const srv = servers[0]!;
  await new Promise((r) => srv.once('listening', r));
  const a = await HipHost.create({ udp: false });
  const hit = HostIdentity.generate().hitString();
  a.peers.add(hit, { carrier: 'tcp', address: LO, port: (srv.address() as net.AddressInfo).port });
  const bex = a.connect(hit).catch((e: unknown) => e);
  await i1; // the host has the connection and sent its I1 on it
  // No timer runs from here on: shutdown(0) must resolve without waiting for one (the
  // 500 ms bound on the wait for the peer's FIN) or for the peer, which has not ended yet.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await a.shutdown(0);
  } finally {
    vi.useRealTimers();
  }
  // The peer has not ended yet, so shutdown did not wait for its FIN; ours is on the way.
  await peerSawOurFin;
  expect(await bex).toMatchObject({ code: 'ERR_HIP_HOST_CLOSED' });
  // Our side is still open to read: the peer's last bytes and FIN meet no reset.
  const closed = new Promise<{ hadError: boolean; error?: Error }>((resolve) => {
    let error: Error | undefined;
    peer.on('error', (e) => (error = e));
    peer.on('close', (hadError) => resolve({ hadError, ...(error ? { error } : {}) }));
  });
  peer.end('bye');
  expect(await closed).toEqual({ hadError: false });
});

it('shutdown(0) on the accepting side lets what is queued leave before its FIN (the CLOSE_ACK a closing peer waits for)', async () => {
  // libhipl's clear-text mode over TCP paces its control writes, so the CLOSE_ACK our responder
  // queues when its peer closes is still queued when the application shuts the host down in
  // its 'closed' handler; the peer must still get it and see an orderly close.
  const opts = { libhiplClearText: true, engine: { version: 1 as const } };
  const r = await HipHost.create({ ...opts, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }), udp: false, tcp: { address: LO } });
  const i = await HipHost.create({ ...opts, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }), udp: false });
  try {
    r.on('closed', () => void r.shutdown(0));
    i.peers.add(r.hit(1), { carrier: 'tcp', address: LO, port: r.tcpAddress!.port }, { version: 1 });
    await i.connect(r.hit(1));
    const closed = new Promise<string>((resolve) => i.once('closed', (e) => resolve(e.by)));
    await i.close(r.hit(1));
    expect(await closed).toBe('local');
  } finally {
    await Promise.all([i.shutdown(0), r.shutdown(0)]);
  }
});
