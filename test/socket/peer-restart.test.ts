/**
 * Issue 9, section 2: a peer that restarts mid-association (same identity, state lost). When it
 * speaks first, its I1 re-runs the BEX and data flows again; when it stays silent, disconnect()
 * lets go after its grace time instead of ~15 s of CLOSE retransmissions, and a sender notices
 * (its data goes unanswered, then a probe), runs the BEX again and resends what went into the
 * void; a live peer that only listens is left alone.
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

/** Peer loss tuned for a test: probe after 300 ms of unanswered data, give up after ~1.5 s. */
const FAST_LOSS = { engine: { peerLossMs: 300, retransmit: { initialMs: 100 } } };

/** a and b with an association; then b loses its state (no CLOSE) and, optionally, restarts. */
async function restartedPeer(aOpts: Parameters<typeof createHost>[0] = {}): Promise<{ a: HiplHost; b: HiplHost; bId: HostIdentity; port: number }> {
  const bId = HostIdentity.generate();
  const a = await host(aOpts);
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

  it('silent: data sent after the restart is not lost: the sender notices, runs the BEX again and resends', async () => {
    const { a, b } = await restartedPeer(FAST_LOSS);
    const sink = b.createSocket('udp');
    await sink.bind(9);
    const got: string[] = [];
    sink.on('message', (d) => got.push(d.toString()));
    const lost = new Promise<{ peerHit: string; resending: number }>((resolve) => a.once('peerLost', resolve));
    const aSock = a.createSocket('udp');
    // Sent into the void: the restarted b drops ESP for an SPI it does not know, silently.
    for (const text of ['after-1', 'after-2', 'after-3']) await aSock.send(text, b.hit, 9);
    const ev = await lost;
    // Everything sent since b was last heard (the end of the BEX): 'before' too, which only b's
    // previous incarnation received.
    expect(ev).toEqual({ peerHit: b.hit, resending: 4 });
    await until(() => got.length >= 4);
    await aSock.send('after-4', b.hit, 9);
    await until(() => got.length >= 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['before', 'after-1', 'after-2', 'after-3', 'after-4']);
    expect(a.isEstablished(b.hit)).toBe(true);
  }, 15_000);

  it('a live peer that only listens is probed, answers, and gets every datagram exactly once', async () => {
    // Probes as often, but a slow retransmission schedule (~7.5 s to give up): a loaded machine
    // must not make a live peer look lost.
    const a = await host({ engine: { peerLossMs: 300, retransmit: { initialMs: 500 } } });
    const b = await host();
    a.peers.add(b.hit, { address: LO, port: b.address().udp!.port });
    const sink = b.createSocket('udp');
    await sink.bind(9);
    const got: string[] = [];
    sink.on('message', (d) => got.push(d.toString()));
    let lostEvents = 0;
    a.on('peerLost', () => lostEvents++);
    const aSock = a.createSocket('udp');
    // One-way for about ten loss bounds: several probes, each answered.
    const sent: string[] = [];
    for (let n = 0; n < 30; n++) {
      sent.push(`one-way-${n}`);
      await aSock.send(`one-way-${n}`, b.hit, 9);
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(() => got.length >= sent.length);
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual(sent);
    expect(lostEvents).toBe(0);
    // b heard more than the BEX (I1, I2): the probes, which it answered.
    expect(b.core.engine.stats.received).toBeGreaterThan(2);
  }, 15_000);

  it('silent: a stream to the restarted peer fails with ERR_HIP_PEER_LOST instead of stalling', async () => {
    const bId = HostIdentity.generate();
    const a = await host(FAST_LOSS);
    const b0 = await host({ identity: bId });
    const port = b0.address().udp!.port;
    a.peers.add(b0.hit, { address: LO, port });
    await b0.createServer((s) => s.pipe(s)).listen(7);
    const stream = a.connect({ hit: b0.hit, port: 7 });
    let echoed = '';
    stream.on('data', (d: Buffer) => (echoed += d.toString()));
    stream.write('hello|');
    await until(() => echoed === 'hello|');
    // A crash: nothing more leaves b0 (closing it normally would reset its streams first).
    (b0.core as unknown as { sendEsp: () => void }).sendEsp = () => undefined;
    await b0.close(0);
    await host({ identity: bId, udp: { address: LO, port } });
    const failed = new Promise<{ code?: string }>((resolve) => stream.once('error', resolve));
    stream.write('into the void|');
    expect((await failed).code).toBe('ERR_HIP_PEER_LOST');
  }, 15_000);
});

/** Poll until `cond` holds (the test's own timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
