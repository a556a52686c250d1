import { describe, it, expect, afterEach } from 'vitest';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { HipArgumentError } from '../../src/errors.js';
import {
  HipTransportError,
  TcpConnection,
  TcpListener,
  tcpConnect,
  type CarrierPeer,
  type TcpListenOptions,
} from '../../src/transport/index.js';
import { captureRawIp, captureSegments } from '../helpers/transport-captures.js';
import { Closer, nextEvent, settle, skipIpv6, until } from '../helpers/transport-sockets.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const noIpv6 = await skipIpv6();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const u16 = (n: number): Uint8Array => new Uint8Array([n >> 8, n & 0xff]);
const MARKER = new Uint8Array(4);

const udp = captureSegments('libhipl-v1-udp-bex.pcap').map((s) => s.payload);
const I1 = udp[0]!.subarray(4);
const R1 = udp[1]!.subarray(4);
const I2 = udp[2]!.subarray(4);
const HELLO = udp[4]!; // "Hello Sailor!"
const ESP = captureRawIp('cutehip-v2-rawip-bex.pcap').esp;
/** hipl frame by hand: 16-bit length counting itself, then the body. */
const frame = (body: Uint8Array): Uint8Array => cat(u16(body.length + 2), body);

async function listen(opts: TcpListenOptions = {}): Promise<TcpListener> {
  return closer.add(await TcpListener.listen({ address: '127.0.0.1', ...opts }), (l) => l.close());
}

/** A raw client socket to `to`, closed after the test. */
async function rawClient(to: CarrierPeer): Promise<Socket> {
  const s = netConnect({ host: to.address, port: to.port, noDelay: true });
  closer.add(s, (x) => x.destroy());
  await nextEvent(s, 'connect');
  return s;
}

/** A raw server recording every read as its own chunk. */
async function rawServer(address = '127.0.0.1'): Promise<{ server: Server; peer: CarrierPeer; reads: Buffer[]; sockets: Socket[]; ended: () => boolean }> {
  const reads: Buffer[] = [];
  const sockets: Socket[] = [];
  let ended = false;
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => reads.push(d));
    s.on('end', () => (ended = true));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  closer.add(server, (srv) => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  const a = server.address() as { address: string; port: number };
  return { server, peer: { address: a.address, port: a.port, family: address.includes(':') ? 6 : 4 }, reads, sockets, ended: () => ended };
}

type Rec = ['hip' | 'payload', string];
function record(c: TcpConnection): Rec[] {
  const got: Rec[] = [];
  c.on('hip', (b) => got.push(['hip', hex(b)]));
  c.on('payload', (b) => got.push(['payload', hex(b)]));
  return got;
}

/** The next accepted connection of a listener, recording from the moment it is announced. */
function accepted(l: TcpListener): Promise<{ conn: TcpConnection; got: Rec[]; errors: Error[] }> {
  return new Promise((resolve) => {
    l.once('connection', (conn) => {
      closer.add(conn, (c) => c.destroy());
      const errors: Error[] = [];
      conn.on('error', (e) => errors.push(e));
      resolve({ conn, got: record(conn), errors });
    });
  });
}

describe('TCP, hipl framing: receiving', () => {
  const records: Rec[] = [
    ['hip', hex(I1)],
    ['payload', hex(ESP[0]!)],
    ['hip', hex(R1)],
    ['payload', hex(ESP[1] ?? ESP[0]!)],
  ];
  const stream = cat(frame(cat(MARKER, I1)), frame(ESP[0]!), frame(cat(MARKER, R1)), frame(ESP[1] ?? ESP[0]!));

  it('frames split at every possible byte boundary, each part its own TCP read', async () => {
    const l = await listen({ framing: 'hipl' });
    const acc = accepted(l);
    const client = await rawClient(l.local);
    const { conn, got } = await acc;
    expect(conn.framing).toBe('hipl');
    let sent = 0;
    const write = async (b: Uint8Array): Promise<void> => {
      client.write(b);
      sent += b.length;
      // Wait until the carrier has read it, so the next write is a separate read.
      await until(() => conn.stats.bytesIn === sent, 3000, 'bytes to arrive');
    };
    for (let k = 1; k < stream.length; k++) {
      const before = got.length;
      await write(stream.subarray(0, k));
      await write(stream.subarray(k));
      expect(got.slice(before), `split at ${k}`).toEqual(records);
    }
    expect(conn.stats.hipIn).toBe(2 * (stream.length - 1));
  });

  it('many frames coalesced into one write', async () => {
    const l = await listen({ framing: 'hipl' });
    const acc = accepted(l);
    const client = await rawClient(l.local);
    const { got } = await acc;
    const ten = cat(...Array.from({ length: 10 }, () => stream));
    client.write(ten);
    await until(() => got.length === 40);
    expect(got).toEqual(Array.from({ length: 10 }, () => records).flat());
  });

  for (const bad of [0, 1, 5]) {
    it(`a frame length of ${bad} is ERR_TRANSPORT_FRAMING and closes the connection`, async () => {
      const l = await listen({ framing: 'hipl' });
      const acc = accepted(l);
      const client = await rawClient(l.local);
      const { conn, got, errors } = await acc;
      const closed = nextEvent(conn, 'close');
      const clientClosed = nextEvent(client, 'close');
      client.on('error', () => {});
      client.write(cat(frame(cat(MARKER, I1)), u16(bad), new Uint8Array(8)));
      await closed;
      await clientClosed;
      expect(got).toEqual([['hip', hex(I1)]]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(HipTransportError);
      expect((errors[0] as HipTransportError).code).toBe('ERR_TRANSPORT_FRAMING');
      expect(conn.closed).toBe(true);
      expect(l.connections.size).toBe(0);
    });
  }
});

describe('TCP, hipl framing: sending', () => {
  it('sendHip and sendPayload write one length-prefixed frame each', async () => {
    const srv = await rawServer();
    const conn = closer.add(await tcpConnect({ address: '127.0.0.1', port: srv.peer.port }), (c) => c.destroy());
    expect(conn.framing).toBe('hipl');
    expect(conn.remote).toEqual(srv.peer);
    expect(conn.local.address).toBe('127.0.0.1');
    conn.sendHip(I1);
    conn.sendPayload(ESP[0]!);
    const want = cat(frame(cat(MARKER, I1)), frame(ESP[0]!));
    await until(() => Buffer.concat(srv.reads).length === want.length);
    expect(hex(Buffer.concat(srv.reads))).toBe(hex(want));
    expect(conn.stats).toMatchObject({ hipOut: 1, payloadOut: 1, bytesOut: want.length, sendErrors: 0 });
  });

  it('a frame over 65535 bytes is dropped with ERR_TRANSPORT_TOO_LARGE; the connection stays usable', async () => {
    const srv = await rawServer();
    const conn = closer.add(await tcpConnect({ address: '127.0.0.1', port: srv.peer.port }), (c) => c.destroy());
    const ev = nextEvent<[HipTransportError]>(conn, 'error');
    expect(conn.sendPayload(new Uint8Array(65534).fill(1))).toBe(false);
    expect((await ev)[0].code).toBe('ERR_TRANSPORT_TOO_LARGE');
    expect(conn.stats.sendErrors).toBe(1);
    expect(conn.closed).toBe(false);
    conn.sendPayload(ESP[0]!);
    await until(() => Buffer.concat(srv.reads).length === ESP[0]!.length + 2);
    expect(hex(Buffer.concat(srv.reads))).toBe(hex(frame(ESP[0]!)));
  });

  it('refuses payloads no receiver could frame (under 4 bytes, zero SPI) with HipArgumentError', async () => {
    const srv = await rawServer();
    const conn = closer.add(await tcpConnect({ address: '127.0.0.1', port: srv.peer.port }), (c) => c.destroy());
    expect(() => conn.sendPayload(new Uint8Array([1, 2]))).toThrow(HipArgumentError);
    expect(() => conn.sendPayload(new Uint8Array(8))).toThrow(HipArgumentError);
  });

  it('carrier to carrier, with auto-detection on the listener', async () => {
    const l = await listen();
    const acc = accepted(l);
    const c = closer.add(await tcpConnect({ address: '127.0.0.1', port: l.local.port }), (x) => x.destroy());
    c.sendHip(I1);
    const { conn, got } = await acc;
    expect(conn.framing).toBe('hipl');
    expect(conn.remote).toEqual(c.local);
    const back = record(c);
    conn.sendHip(R1);
    c.sendPayload(ESP[0]!);
    await until(() => got.length === 2 && back.length === 1);
    expect(got).toEqual([
      ['hip', hex(I1)],
      ['payload', hex(ESP[0]!)],
    ]);
    expect(back).toEqual([['hip', hex(R1)]]);
  });
});

describe('TCP, libhipl framing', () => {
  it('receives the captured libhipl TCP stream, auto-detected as libhipl', async () => {
    const segs = captureSegments('libhipl-v1-check_libhipl-udp-tcp.pcap')
      .filter((s) => s.proto === 'tcp' && s.srcPort === 22345)
      .map((s) => s.payload);
    expect(segs.length).toBe(3); // I1, I2, "Hello Sailor!"
    const l = await listen();
    const acc = accepted(l);
    const client = await rawClient(l.local);
    client.write(segs[0]!);
    const { conn, got } = await acc;
    expect(conn.framing).toBe('libhipl');
    let sent = segs[0]!.length;
    await until(() => conn.stats.bytesIn === sent);
    for (const s of segs.slice(1)) {
      client.write(s);
      sent += s.length;
      await until(() => conn.stats.bytesIn === sent);
    }
    await until(() => got.length === 3);
    expect(got).toEqual([
      ['hip', hex(segs[0]!.subarray(4))],
      ['hip', hex(segs[1]!.subarray(4))],
      ['payload', hex(Buffer.from('Hello Sailor!'))],
    ]);
  });

  it('a control message cut in two TCP reads is put back together', async () => {
    const l = await listen({ framing: 'libhipl', partialHoldMs: 5000 });
    const acc = accepted(l);
    const client = await rawClient(l.local);
    const { conn, got } = await acc;
    const msg = cat(MARKER, I2);
    client.write(msg.subarray(0, 100));
    await until(() => conn.stats.bytesIn === 100);
    await settle(20);
    expect(got).toEqual([]);
    client.write(msg.subarray(100));
    await until(() => got.length === 1);
    expect(got).toEqual([['hip', hex(I2)]]);
  });

  it('data that only starts like a control message is passed on after partialHoldMs, or at the end of the stream', async () => {
    const l = await listen({ framing: 'libhipl', partialHoldMs: 30 });
    const acc = accepted(l);
    const client = await rawClient(l.local);
    const { got } = await acc;
    client.write(new Uint8Array([0, 0, 0, 0, 59]));
    await until(() => got.length === 1, 3000);
    expect(got).toEqual([['payload', '000000003b']]);

    const l2 = await listen({ framing: 'libhipl', partialHoldMs: 60_000 });
    const acc2 = accepted(l2);
    const client2 = await rawClient(l2.local);
    const { got: got2 } = await acc2;
    client2.end(new Uint8Array([0, 0]));
    await until(() => got2.length === 1, 3000);
    expect(got2).toEqual([['payload', '0000']]);
  });

  it('a control message is written alone, and writes after it wait their turn, in order', async () => {
    const srv = await rawServer();
    const conn = closer.add(
      await tcpConnect({ address: '127.0.0.1', port: srv.peer.port, framing: 'libhipl', controlPauseMs: 100 }),
      (c) => c.destroy(),
    );
    const data1 = Buffer.from('first data');
    const data2 = Buffer.from('second data');
    conn.sendHip(I1);
    conn.sendPayload(data1);
    conn.sendPayload(data2);
    conn.sendHip(I2);
    conn.sendPayload(HELLO);
    // Everything after the first control message is queued behind its pause.
    expect(conn.pendingBytes).toBe(data1.length + data2.length + 4 + I2.length + HELLO.length);
    const all = cat(MARKER, I1, data1, data2, MARKER, I2, HELLO);
    await until(() => Buffer.concat(srv.reads).length === all.length, 5000);
    // Order is kept and nothing is framed or changed.
    expect(hex(Buffer.concat(srv.reads))).toBe(hex(all));
    // Each control message arrives in a read of its own.
    const reads = srv.reads.map(hex);
    expect(reads).toContain(hex(cat(MARKER, I1)));
    expect(reads).toContain(hex(cat(MARKER, I2)));
    expect(reads[0]).toBe(hex(cat(MARKER, I1)));
    expect(conn.stats).toMatchObject({ hipOut: 2, payloadOut: 3, bytesOut: all.length, sendErrors: 0 });
  });

  it('end() flushes queued writes, then closes; later sends are dropped and counted', async () => {
    const srv = await rawServer();
    const conn = await tcpConnect({ address: '127.0.0.1', port: srv.peer.port, framing: 'libhipl' });
    closer.add(conn, (c) => c.destroy());
    const closed = nextEvent(conn, 'close');
    conn.sendHip(I1);
    conn.sendPayload(HELLO);
    conn.end();
    expect(conn.sendPayload(HELLO)).toBe(false);
    expect(conn.sendHip(I1)).toBe(false);
    expect(conn.stats.sendErrors).toBe(2);
    await until(() => srv.ended(), 5000, 'FIN');
    expect(hex(Buffer.concat(srv.reads))).toBe(hex(cat(MARKER, I1, HELLO)));
    for (const s of srv.sockets) s.end();
    await closed;
    expect(conn.closed).toBe(true);
  });

  it('carrier to carrier: auto-detected, control and data both ways', async () => {
    const l = await listen();
    const acc = accepted(l);
    const c = closer.add(await tcpConnect({ address: '127.0.0.1', port: l.local.port, framing: 'libhipl' }), (x) => x.destroy());
    const back = record(c);
    c.sendHip(I1);
    const { conn, got } = await acc;
    expect(conn.framing).toBe('libhipl');
    conn.sendHip(R1);
    await until(() => back.length === 1);
    c.sendHip(I2);
    c.sendPayload(HELLO);
    conn.sendPayload(HELLO);
    await until(() => got.length === 3 && back.length === 2, 5000);
    expect(got).toEqual([
      ['hip', hex(I1)],
      ['hip', hex(I2)],
      ['payload', hex(HELLO)],
    ]);
    expect(back).toEqual([
      ['hip', hex(R1)],
      ['payload', hex(HELLO)],
    ]);
  });
});

describe('TCP framing auto-detection', () => {
  it('a hipl frame arriving one byte at a time is detected as hipl', async () => {
    const l = await listen();
    let announced: TcpConnection | undefined;
    const got: Rec[] = [];
    l.on('connection', (c) => {
      announced = closer.add(c, (x) => x.destroy());
      c.on('hip', (b) => got.push(['hip', hex(b)]));
    });
    const client = await rawClient(l.local);
    const f = frame(cat(MARKER, I1));
    client.write(f.subarray(0, 1));
    await settle(30);
    expect(announced).toBeUndefined(); // one byte cannot tell
    client.write(f.subarray(1));
    await until(() => got.length === 1);
    expect(announced!.framing).toBe('hipl');
    expect(got).toEqual([['hip', hex(I1)]]);
  });

  it('two zero bytes first mean libhipl, even when they come alone', async () => {
    const l = await listen();
    const acc = accepted(l);
    const client = await rawClient(l.local);
    const m = cat(MARKER, I1);
    client.write(m.subarray(0, 2));
    const { conn, got } = await acc;
    expect(conn.framing).toBe('libhipl');
    client.write(m.subarray(2));
    await until(() => got.length === 1);
    expect(got).toEqual([['hip', hex(I1)]]);
  });

  it('a connection silent past detectTimeoutMs is dropped unannounced', async () => {
    const l = await listen({ detectTimeoutMs: 30 });
    let announced = 0;
    l.on('connection', () => announced++);
    const client = await rawClient(l.local);
    await nextEvent(client, 'close', 3000);
    expect(announced).toBe(0);
  });
});

describe('TcpListener lifecycle', () => {
  it('close() destroys accepted connections, is idempotent, emits close once', async () => {
    const l = await TcpListener.listen({ address: '127.0.0.1' });
    let closes = 0;
    l.on('close', () => closes++);
    const acc = accepted(l);
    const c = closer.add(await tcpConnect({ address: '127.0.0.1', port: l.local.port }), (x) => x.destroy());
    c.sendHip(I1);
    const { conn } = await acc;
    const pending = await rawClient(l.local); // still detecting: must be dropped too
    const clientClosed = nextEvent(c, 'close');
    const pendingClosed = nextEvent(pending, 'close');
    await Promise.all([l.close(), l.close()]);
    await l.close();
    await clientClosed;
    await pendingClosed;
    expect(conn.closed).toBe(true);
    expect(closes).toBe(1);
  });

  it('a port in use gives ERR_TRANSPORT_BIND with the OS code', async () => {
    const l = await listen();
    const err = await TcpListener.listen({ address: '127.0.0.1', port: l.local.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipTransportError);
    expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_BIND');
    expect((err as HipTransportError).details).toMatchObject({ osCode: 'EADDRINUSE' });
  });

  it('rejects bad listen options with HipArgumentError', async () => {
    for (const opts of [{ framing: 'tls' as never }, { address: 'nowhere' }, { detectTimeoutMs: -1 }]) {
      const err = await TcpListener.listen(opts).catch((e: unknown) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(HipArgumentError);
    }
  });

  it('a peer reset is reported as ERR_TRANSPORT_SOCKET, then close', async () => {
    const l = await listen();
    const acc = accepted(l);
    const client = await rawClient(l.local);
    client.write(frame(cat(MARKER, I1)));
    const { conn, errors } = await acc;
    const closed = nextEvent(conn, 'close');
    client.resetAndDestroy();
    await closed;
    expect(errors).toHaveLength(1);
    expect((errors[0] as HipTransportError).code).toBe('ERR_TRANSPORT_SOCKET');
    expect((errors[0] as HipTransportError).details).toMatchObject({ osCode: 'ECONNRESET' });
    expect(conn.sendHip(I1)).toBe(false);
    expect(conn.stats.sendErrors).toBe(1);
  });
});

describe('ref and unref', () => {
  const count = (type: string): number => process.getActiveResourcesInfo().filter((r) => r === type).length;

  it('a listener stops keeping the event loop alive after unref, and again after ref', async () => {
    const l = await listen();
    const before = count('TCPServerWrap');
    l.unref();
    expect(count('TCPServerWrap')).toBe(before - 1);
    l.ref();
    expect(count('TCPServerWrap')).toBe(before);
  });

  it('a connection unrefs its socket and its pacing timer', async () => {
    const srv = await rawServer();
    const conn = closer.add(
      await tcpConnect({ address: '127.0.0.1', port: srv.peer.port, framing: 'libhipl', controlPauseMs: 10_000 }),
      (c) => c.destroy(),
    );
    conn.sendHip(I1);
    conn.sendPayload(HELLO); // now waits behind a 10 s pause timer
    const tcp = count('TCPSocketWrap');
    const timers = count('Timeout');
    conn.unref();
    expect(count('TCPSocketWrap')).toBe(tcp - 1);
    expect(count('Timeout')).toBe(timers - 1);
    conn.ref();
    expect(count('TCPSocketWrap')).toBe(tcp);
    expect(count('Timeout')).toBe(timers);
    // destroy() drops what was queued
    await until(() => Buffer.concat(srv.reads).length === 4 + I1.length);
    conn.destroy();
    await nextEvent(conn, 'close');
    expect(hex(Buffer.concat(srv.reads))).toBe(hex(cat(MARKER, I1)));
  });
});

describe('TcpConnection wrapping a socket', () => {
  it('rejects an unknown framing and bad timings with HipArgumentError', async () => {
    const srv = await rawServer();
    const s = await rawClient(srv.peer);
    expect(() => new TcpConnection(s, { framing: 'auto' as never })).toThrow(HipArgumentError);
    expect(() => new TcpConnection(s, { framing: 'libhipl', controlPauseMs: -1 })).toThrow(HipArgumentError);
    expect(() => new TcpConnection(s, { framing: 'libhipl', partialHoldMs: Number.POSITIVE_INFINITY })).toThrow(HipArgumentError);
  });

  it('wrapping an already destroyed socket gives a closed connection that emits close', async () => {
    const srv = await rawServer();
    const s = await rawClient(srv.peer);
    s.destroy();
    const conn = new TcpConnection(s, { framing: 'hipl' });
    await nextEvent(conn, 'close');
    expect(conn.closed).toBe(true);
    expect(conn.sendHip(I1)).toBe(false);
  });
});

describe('tcpConnect failures', () => {
  it('refused: ERR_TRANSPORT_CONNECT with ECONNREFUSED', async () => {
    const l = await TcpListener.listen({ address: '127.0.0.1' });
    const port = l.local.port;
    await l.close();
    const err = await tcpConnect({ address: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipTransportError);
    expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_CONNECT');
    expect((err as HipTransportError).details).toMatchObject({ osCode: 'ECONNREFUSED', port });
  });

  it('an already aborted signal rejects at once with ERR_TRANSPORT_ABORTED', async () => {
    const l = await listen();
    let accepted = 0;
    l.on('connection', () => accepted++);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const err = await tcpConnect({ address: '127.0.0.1', port: l.local.port, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_ABORTED');
    expect((err as HipTransportError).cause).toEqual(new Error('stop'));
  });

  it('aborting while connecting rejects with ERR_TRANSPORT_ABORTED and leaves no connection behind', async () => {
    const l = await listen({ framing: 'hipl' });
    const ac = new AbortController();
    const p = tcpConnect({ address: '127.0.0.1', port: l.local.port, signal: ac.signal });
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipTransportError);
    expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_ABORTED');
    await settle(30);
    for (const c of l.connections) await until(() => c.closed, 3000);
  });

  it('bad options are HipArgumentError', async () => {
    const cases = [
      { address: 'localhost', port: 1 },
      { address: '127.0.0.1', port: 0 },
      { address: '127.0.0.1', port: 1, framing: 'auto' as never },
      { address: '127.0.0.1', port: 1, localAddress: 'x' },
      { address: '127.0.0.1', port: 1, timeoutMs: Number.NaN },
    ];
    for (const c of cases) {
      const err = await tcpConnect(c).catch((e: unknown) => e);
      expect(err, JSON.stringify(c)).toBeInstanceOf(HipArgumentError);
      expect((err as HipArgumentError).code).toBe('ERR_TRANSPORT_BAD_ARGUMENT');
    }
  });
});

describe.skipIf(noIpv6)('TCP over IPv6', () => {
  it('listener on ::1, both framings', async () => {
    const l = await listen({ address: '::1' });
    expect(l.local).toMatchObject({ address: '::1', family: 6 });
    for (const framing of ['hipl', 'libhipl'] as const) {
      const acc = accepted(l);
      const c = closer.add(await tcpConnect({ address: '::1', port: l.local.port, framing }), (x) => x.destroy());
      expect(c.remote).toEqual(l.local);
      c.sendHip(I1);
      const { conn, got } = await acc;
      expect(conn.framing).toBe(framing);
      expect(conn.remote).toMatchObject({ address: '::1', family: 6, port: c.local.port });
      await until(() => got.length === 1);
      expect(got).toEqual([['hip', hex(I1)]]);
    }
  });
});
