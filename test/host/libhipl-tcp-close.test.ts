/**
 * CLOSE over TCP towards a libhipl peer (issue 9, section 2): the stream is the TCP connection,
 * so ending it must send CLOSE, wait for CLOSE_ACK, and only then FIN; when the peer sends CLOSE
 * and FIN back to back, our CLOSE_ACK must still reach the wire before our FIN. A relay between
 * the two hosts records, in order, what our side writes and when it half-closes.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HostIdentity } from '../../src/crypto/identity.js';
import { createHost, type HiplHost, type HiplStream } from '../../src/socket/index.js';

const LO = '127.0.0.1';
const CLOSE = 18;
const CLOSE_ACK = 19;
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** What one side wrote, as control-packet names, 'data' and 'FIN', in order. */
function describeChunk(chunk: Buffer): string[] {
  const out: string[] = [];
  // libhipl framing: a control message is one paced write of four zero bytes + the HIP packet.
  if (chunk.length >= 12 && chunk.readUInt32BE(0) === 0) {
    const type = chunk[6]! & 0x7f;
    out.push(type === CLOSE ? 'CLOSE' : type === CLOSE_ACK ? 'CLOSE_ACK' : `HIP${type}`);
  } else out.push('data');
  return out;
}

interface Relay {
  port: number;
  /** What our host (the client side) put on the wire, in order. */
  fromClient: string[];
  /** When set, a CLOSE from the server is followed at once by a FIN towards the client (libhipl). */
  finAfterClose: boolean;
}

/** A TCP relay client <-> server that records the client's writes and can mimic libhipl's close. */
async function relay(serverPort: number): Promise<Relay> {
  const r: Relay = { port: 0, fromClient: [], finAfterClose: false };
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ host: LO, port: serverPort, allowHalfOpen: true });
    sockets.push(client, upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d: Buffer) => {
      r.fromClient.push(...describeChunk(d));
      upstream.write(d);
    });
    client.on('end', () => {
      r.fromClient.push('FIN');
      upstream.end();
    });
    upstream.on('data', (d: Buffer) => {
      client.write(d);
      if (r.finAfterClose && describeChunk(d)[0] === 'CLOSE') client.end();
    });
    upstream.on('end', () => client.end());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, LO, resolve));
  r.port = (server.address() as { port: number }).port;
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return r;
}

async function libhiplPair(): Promise<{ a: HiplHost; b: HiplHost; r: Relay; s: HiplStream; remote: HiplStream }> {
  const b = await createHost({ libhiplClearText: true, udp: false, tcp: { address: LO }, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }) });
  const a = await createHost({ libhiplClearText: true, udp: false, identity: HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 }) });
  cleanup.push(() => b.close(100), () => a.close(100));
  const server = b.createServer();
  await server.listen(b.address().tcp!.port);
  const r = await relay(b.address().tcp!.port);
  const accepted = new Promise<HiplStream>((resolve) => server.once('connection', resolve));
  const s = a.connect({ hit: b.hit, port: r.port, via: { carrier: 'tcp', address: LO, port: r.port } });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  const remote = await accepted;
  remote.on('error', () => undefined);
  return { a, b, r, s, remote };
}

/** Resolves with how the stream finished: 'end' (clean) or the error's code. */
function finish(s: HiplStream): Promise<string> {
  return new Promise((resolve) => {
    let ended = false;
    s.on('end', () => (ended = true));
    s.on('error', (e) => resolve((e as { code?: string }).code ?? 'error'));
    s.on('close', () => resolve(ended ? 'end' : 'close without end'));
    s.resume();
  });
}

describe('CLOSE over TCP with a libhipl peer', () => {
  it('stream.end(): CLOSE, then CLOSE_ACK from the peer, then our FIN; the stream ends cleanly', async () => {
    const { a, b, r, s } = await libhiplPair();
    const done = finish(s);
    const atB = new Promise<{ by: string }>((resolve) => b.once('disconnect', resolve));
    const atA = new Promise<{ by: string }>((resolve) => a.once('disconnect', resolve));
    s.end();
    expect(await done).toBe('end');
    expect((await atA).by).toBe('local');
    expect((await atB).by).toBe('peer');
    await new Promise((res) => setTimeout(res, 200));
    const tail = r.fromClient.filter((x) => x === 'CLOSE' || x === 'FIN');
    expect(tail).toEqual(['CLOSE', 'FIN']);
  });

  it('the peer sends CLOSE and FIN back to back: our CLOSE_ACK goes out before our FIN; the stream ends', async () => {
    const { a, b, r, s } = await libhiplPair();
    const done = finish(s);
    r.finAfterClose = true;
    const acked = new Promise<{ by: string }>((resolve) => b.once('disconnect', resolve));
    // Data just written makes the pacing hold the next control message for a moment.
    s.write('last words');
    void b.disconnect(a.hit);
    expect(await done).toBe('end');
    expect((await acked).by).toBe('local'); // B got our CLOSE_ACK (else: 'timeout')
    await new Promise((res) => setTimeout(res, 200));
    const tail = r.fromClient.filter((x) => x === 'CLOSE_ACK' || x === 'FIN');
    expect(tail).toEqual(['CLOSE_ACK', 'FIN']);
  });
});
