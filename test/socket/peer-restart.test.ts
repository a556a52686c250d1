/**
 * Issue 9, section 2: a peer that restarts mid-association (same identity, state lost). When it
 * speaks first, its I1 re-runs the BEX and data flows again; when it stays silent, disconnect()
 * lets go after its grace time instead of ~15 s of CLOSE retransmissions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type HiplHost } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const hosts: HiplHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(50)));
});

async function host(opts: Parameters<typeof createHost>[0] = {}): Promise<HiplHost> {
  const h = await createHost({ udp: { address: LO }, ...opts });
  hosts.push(h);
  return h;
}

/** a and b with an association; then b loses its state (no CLOSE) and, optionally, restarts. */
async function restartedPeer(): Promise<{ a: HiplHost; b: HiplHost; bId: HostIdentity; port: number }> {
  const bId = HostIdentity.generate();
  const a = await host();
  const b0 = await host({ identity: bId });
  const port = b0.address().udp!.port;
  a.peers.add(b0.hit, { address: LO, port });
  const sink = b0.createSocket('udp');
  await sink.bind(9);
  const got = new Promise<void>((resolve) => sink.once('message', () => resolve()));
  await a.createSocket('udp').send('before', b0.hit, 9);
  await got;
  await b0.close(0); // grace 0: no CLOSE, as a crash
  const b = await host({ identity: bId, udp: { address: LO, port } });
  return { a, b, bId, port };
}

describe('a peer restarted mid-association', () => {
  it("its I1 re-runs the BEX: data flows both ways again", async () => {
    const { a, b } = await restartedPeer();
    b.peers.add(a.hit, { address: LO, port: a.address().udp!.port });
    const aSock = a.createSocket('udp');
    await aSock.bind(9);
    const atA = new Promise<string>((resolve) => aSock.once('message', (d) => resolve(d.toString())));
    await b.createSocket('udp').send('I am back', a.hit, 9);
    expect(await atA).toBe('I am back');
    const bSock = b.createSocket('udp');
    await bSock.bind(10);
    const atB = new Promise<string>((resolve) => bSock.once('message', (d) => resolve(d.toString())));
    await aSock.send('welcome back', b.hit, 10);
    expect(await atB).toBe('welcome back');
  });

  it('silent: disconnect() lets go after its grace time, and a new BEX then reaches it', async () => {
    const { a, b } = await restartedPeer();
    const ev = new Promise<{ by: string }>((resolve) => a.once('disconnect', resolve));
    await a.disconnect(b.hit, 200);
    expect((await ev).by).toBe('timeout');
    expect(a.isEstablished(b.hit)).toBe(false);
    const sink = b.createSocket('udp');
    await sink.bind(9);
    const got = new Promise<string>((resolve) => sink.once('message', (d) => resolve(d.toString())));
    await a.createSocket('udp').send('after', b.hit, 9);
    expect(await got).toBe('after');
  }, 10_000);
});
