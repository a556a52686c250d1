/**
 * The Node socket API over loopback: createHost, datagram sockets, streams and servers by HIT,
 * BEX events, close, typed errors, AbortSignal, and the peer table with HIPL hosts files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipError } from '../../src/errors.js';
import { createHost, type CreateHostOptions, type HiplBexEvent, type HiplHost, type HiplStream } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const hosts: HiplHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close(200)));
});

async function host(opts: CreateHostOptions = {}): Promise<HiplHost> {
  const h = await createHost({ udp: { address: LO }, ...opts });
  hosts.push(h);
  return h;
}

/** a knows where b is. */
async function pair(): Promise<[HiplHost, HiplHost]> {
  const a = await host();
  const b = await host();
  a.peers.add(b.hit, { address: LO, port: b.address().udp!.port });
  return [a, b];
}

/** The first `ev` of an emitter (typed eventemitter3 signatures are narrower than this helper). */
function once<T>(emitter: object, ev: string): Promise<T> {
  const e = emitter as { once(ev: string, cb: (v: T) => void): unknown };
  return new Promise((resolve) => e.once(ev, resolve));
}

function collect(s: HiplStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

describe('datagram sockets', () => {
  it('send by HIT and port; message gives data, HIT and port; every BEX step is an event', async () => {
    const [a, b] = await pair();
    const steps: HiplBexEvent[] = [];
    a.on('bex', (e) => steps.push(e));
    const echo = b.createSocket('udp');
    expect(await echo.bind(7)).toBe(7);
    echo.on('message', (data, from) => void echo.send(data, from.hit, from.port));
    const sock = a.createSocket('udp');
    await sock.bind(5000);
    const established = once<{ peerHit: string; role: string; version: number }>(a, 'established');
    const reply = new Promise<[Buffer, { hit: string; port: number }]>((resolve) => sock.once('message', (d, f) => resolve([d, f])));
    await sock.send('ping', b.hit, 7);
    const [data, from] = await reply;
    expect(data.toString()).toBe('ping');
    expect(from).toEqual({ hit: b.hit, port: 7, address: LO, family: 'IPv4', size: 4 });
    expect(await established).toMatchObject({ peerHit: b.hit, role: 'initiator', version: 2 });
    expect(steps.map((s) => [s.step, s.packetName])).toEqual([
      ['i1-sent', 'I1'],
      ['r1-received', 'R1'],
      ['i2-sent', 'I2'],
      ['r2-received', 'R2'],
    ]);
    for (const s of steps) {
      expect(s.peerHit).toBe(b.hit);
      expect(s.elapsedMs).toBeGreaterThanOrEqual(0);
      expect(s.retransmission).toBe(false);
    }
    expect(a.isEstablished(b.hit)).toBe(true);
    expect(a.stats(b.hit)).toMatchObject({ packetsOut: 1, packetsIn: 1 });
  });

  it('an unbound socket binds a free port on its first send', async () => {
    const [a, b] = await pair();
    const sink = b.createSocket('udp');
    await sink.bind(9);
    const got = new Promise<number>((resolve) => sink.on('message', (_d, from) => resolve(from.port)));
    const sock = a.createSocket('udp');
    expect(sock.address()).toBeUndefined();
    await sock.send(new Uint8Array([1, 2, 3]), b.hit, 9);
    expect(await got).toBe(sock.address()!.port);
  });

  it('errors are typed: bad HIT, bad port, unknown peer, second bind, closed socket', async () => {
    const a = await host();
    const sock = a.createSocket('udp');
    await sock.bind(0);
    await expect(sock.send('x', 'nonsense', 7)).rejects.toMatchObject({ code: 'ERR_HIP_INVALID_HIT' });
    await expect(sock.send('x', a.hit, 0)).rejects.toMatchObject({ code: 'ERR_HIP_INVALID_PORT' });
    await expect(sock.send('x', HostIdentity.generate().hitString(), 7)).rejects.toMatchObject({ code: 'ERR_HIP_NO_LOCATOR' });
    await expect(sock.bind(1)).rejects.toMatchObject({ code: 'ERR_HIP_SOCKET_BOUND' });
    const other = a.createSocket('udp');
    await expect(other.bind(sock.address()!.port)).rejects.toMatchObject({ code: 'ERR_HIP_PORT_IN_USE' });
    sock.close();
    await expect(sock.send('x', a.hit, 7)).rejects.toBeInstanceOf(HipError);
    expect(() => a.createSocket('tcp' as never)).toThrow(expect.objectContaining({ code: 'ERR_HIP_INVALID_ARGUMENT' }));
  });
});

describe('streams', () => {
  it('connect returns a Duplex with remoteHit; the server gets the client HIT; data both ways', async () => {
    const [a, b] = await pair();
    const server = b.createServer((s) => {
      expect(s.remoteHit).toBe(a.hit);
      s.pipe(s);
    });
    expect(await server.listen(7)).toBe(7);
    const s = a.connect({ hit: b.hit, port: 7 });
    expect(s.remoteHit).toBe(b.hit);
    expect(s.remotePort).toBe(7);
    const connected = once<void>(s, 'connect');
    const text = collect(s);
    s.write('hello ');
    s.end('world');
    await connected;
    expect(await text).toBe('hello world');
  });

  it('via adds the peer address; a stream to a port nobody serves is reset', async () => {
    const a = await host();
    const b = await host();
    const s = a.connect({ hit: b.hit, port: 9, via: { address: LO, port: b.address().udp!.port } });
    const err = await new Promise<HipError>((resolve) => s.on('error', resolve));
    expect(err).toBeInstanceOf(HipError);
    expect(a.peers.get(b.hit)?.locators).toEqual([{ carrier: 'udp', address: LO, port: b.address().udp!.port }]);
  });

  it('an AbortSignal stops a connect that has not completed', async () => {
    const a = await host();
    const silent = await host(); // its R1 never comes: a peer table entry pointing at a non-HIP port
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: LO, port: silent.address().udp!.port });
    const ac = new AbortController();
    const s = a.connect({ hit, port: 7, signal: ac.signal });
    const err = new Promise<HipError>((resolve) => s.on('error', resolve));
    setTimeout(() => ac.abort(), 30);
    expect(await err).toMatchObject({ code: 'ERR_HIP_ABORTED' });
    expect(() => a.connect({ hit, port: 7, signal: ac.signal })).toThrow(expect.objectContaining({ code: 'ERR_HIP_ABORTED' }));
  });

  it('a server over TCP carriers: the client reaches it through the peer table', async () => {
    const b = await host({ udp: false, tcp: { address: LO } });
    const a = await host({ udp: false });
    a.peers.add(b.hit, { carrier: 'tcp', address: LO, port: b.address().tcp!.port });
    await b.createServer((s) => s.pipe(s)).listen(80);
    const s = a.connect({ hit: b.hit, port: 80 });
    const text = collect(s);
    s.end('over tcp');
    expect(await text).toBe('over tcp');
    expect(a.address()).toEqual({});
  });
});

describe('host events', () => {
  it("'disconnect' on both ends after disconnect", async () => {
    const [a, b] = await pair();
    const sink = b.createSocket('udp');
    await sink.bind(9);
    await a.createSocket('udp').send('x', b.hit, 9);
    const atA = once<{ peerHit: string; by: string }>(a, 'disconnect');
    const atB = once<{ peerHit: string; by: string }>(b, 'disconnect');
    await a.disconnect(b.hit);
    expect(await atA).toEqual({ peerHit: b.hit, by: 'local' });
    expect(await atB).toEqual({ peerHit: a.hit, by: 'peer' });
    expect(a.isEstablished(b.hit)).toBe(false);
  });

  it("a failed BEX is a 'failed' event with ERR_HIP_BEX_FAILED, and the send rejects with it", async () => {
    const a = await host({ engine: { retransmit: { initialMs: 20, maxMs: 20, i1Retries: 1 } } });
    const silent = await host();
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: LO, port: silent.address().udp!.port });
    const error = once<HipError>(a, 'failed');
    await expect(a.createSocket('udp').send('x', hit, 7)).rejects.toMatchObject({ code: 'ERR_HIP_BEX_FAILED' });
    const e = await error;
    expect(e).toMatchObject({ code: 'ERR_HIP_BEX_FAILED', details: { peerHit: hit, reason: 'timeout' } });
  });
});

describe('peer table', () => {
  it('add, list, remove', async () => {
    const a = await host();
    const hit = HostIdentity.generate().hitString();
    a.peers.add(hit, { address: LO, port: 10500 });
    a.peers.add(hit, { address: '::1', port: 10500, carrier: 'tcp' });
    expect(a.peers.list()).toEqual([
      {
        hit,
        locators: [
          { carrier: 'udp', address: LO, port: 10500 },
          { carrier: 'tcp', address: '::1', port: 10500 },
        ],
      },
    ]);
    expect(a.peers.remove(hit)).toBe(true);
    expect(a.peers.list()).toEqual([]);
    expect(() => a.peers.add('nonsense', { address: LO, port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_HIP_INVALID_HIT' }));
  });

  it('loads a HIPL hosts file and reaches a peer by the HIT it names', async () => {
    const [a0, b] = await pair();
    a0.peers.remove(b.hit);
    const dir = mkdtempSync(join(tmpdir(), 'hipl-hosts-'));
    try {
      const file = join(dir, 'hosts');
      writeFileSync(file, `# HIPL hosts file\n${b.hit}   bob  # the peer\n${LO} bob\n::1 carol\n2001:db8::1\n`);
      const loaded = await a0.loadHostsFile(file, { port: b.address().udp!.port });
      expect(loaded).toEqual([{ hit: b.hit, name: 'bob', locators: [{ carrier: 'udp', address: LO, port: b.address().udp!.port }] }]);
      expect(a0.peers.get('bob')?.hit).toBe(b.hit);
      const sink = b.createSocket('udp');
      await sink.bind(9);
      const got = new Promise<string>((resolve) => sink.on('message', (d) => resolve(d.toString())));
      await a0.createSocket('udp').send('via hosts file', b.hit, 9);
      expect(await got).toBe('via hosts file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('libhipl mode', () => {
  it('HIPv1 hosts with RSA identities use ORCHIDv1 HITs and carry datagrams', async () => {
    const a = await host({ libhipl: true, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }) });
    const b = await host({ libhipl: true, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }) });
    expect(a.hit).toMatch(/^2001:1[0-9a-f]:/);
    a.peers.add(b.hit, { address: LO, port: b.address().udp!.port });
    const sink = b.createSocket('udp');
    await sink.bind(b.address().udp!.port);
    const got = new Promise<string>((resolve) => sink.on('message', (d) => resolve(d.toString())));
    const est = once<{ version: number }>(a, 'established');
    await a.createSocket('udp').send('clear text, as libhipl', b.hit, b.address().udp!.port);
    expect(await got).toBe('clear text, as libhipl');
    expect((await est).version).toBe(1);
  });
});
