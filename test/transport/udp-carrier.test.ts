import { describe, it, expect, afterEach } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { HipArgumentError } from '../../src/errors.js';
import { HipTransportError, UdpCarrier, type CarrierPeer } from '../../src/transport/index.js';
import { literalLookup } from '../../src/transport/udp-carrier.js';
import { captureRawIp, captureSegments } from '../helpers/transport-captures.js';
import { Closer, nextEvent, settle, skipIpv6, until } from '../helpers/transport-sockets.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const noIpv6 = await skipIpv6();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const captured = captureSegments('libhipl-v1-udp-bex.pcap').map((s) => s.payload);
const cute = captureRawIp('cutehip-v2-rawip-bex.pcap');

async function carrier(opts: Parameters<typeof UdpCarrier.bind>[0] = { address: '127.0.0.1' }): Promise<UdpCarrier> {
  return closer.add(await UdpCarrier.bind(opts), (c) => c.close());
}

async function plain(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket & { peer: CarrierPeer }> {
  const s = createSocket(type);
  await new Promise<void>((r) => s.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', r));
  closer.add(s, (x) => new Promise<void>((r) => x.close(() => r())));
  const a = s.address();
  return Object.assign(s, { peer: { address: a.address, port: a.port, family: type === 'udp6' ? 6 : 4 } as CarrierPeer });
}

type Got = { kind: 'hip' | 'payload'; bytes: string; from: CarrierPeer };
function record(c: UdpCarrier): Got[] {
  const got: Got[] = [];
  c.on('hip', (b, from) => got.push({ kind: 'hip', bytes: hex(b), from }));
  c.on('payload', (b, from) => got.push({ kind: 'payload', bytes: hex(b), from }));
  return got;
}

/** Send datagrams one by one, each after the previous arrived, so the order is known. */
async function sendAll(from: Socket, to: CarrierPeer, datagrams: Uint8Array[], got: unknown[]): Promise<void> {
  for (const d of datagrams) {
    const before = got.length;
    from.send(d, to.port, to.address);
    await until(() => got.length === before + 1, 3000, 'datagram');
  }
}

describe('UdpCarrier over IPv4', () => {
  it('binds an ephemeral port on the requested address', async () => {
    const c = await carrier();
    expect(c.local.address).toBe('127.0.0.1');
    expect(c.local.family).toBe(4);
    expect(c.local.port).toBeGreaterThan(0);
  });

  it('sorts a captured libhipl exchange into hip (marker stripped) and payload, with the sender', async () => {
    const c = await carrier();
    const got = record(c);
    const p = await plain();
    await sendAll(p, c.local, captured, got);
    const want = captured.map((d) =>
      d.length >= 44 && d[0] === 0 ? { kind: 'hip', bytes: hex(d.subarray(4)) } : { kind: 'payload', bytes: hex(d) },
    );
    expect(got.map(({ kind, bytes }) => ({ kind, bytes }))).toEqual(want);
    expect(want.filter((w) => w.kind === 'payload')).toHaveLength(2); // the two "Hello Sailor!"
    for (const g of got) expect(g.from).toEqual(p.peer);
  });

  it('passes ESP packets, short datagrams and marker-but-not-HIP datagrams on as payload, unchanged', async () => {
    const c = await carrier();
    const got = record(c);
    const p = await plain();
    const notHip = new Uint8Array(4 + 48);
    notHip[4] = 59;
    notHip[5] = 4; // announces 40 bytes, 48 follow
    const cases = [...cute.esp.slice(0, 3), new Uint8Array(0), new Uint8Array([0]), new Uint8Array(3), new Uint8Array(4), notHip];
    await sendAll(p, c.local, cases, got);
    expect(got.map((g) => [g.kind, g.bytes])).toEqual(cases.map((b) => ['payload', hex(b)]));
  });

  it('hands out plain Uint8Arrays, not Buffers', async () => {
    const c = await carrier();
    const p = await plain();
    const ev = nextEvent<[Uint8Array, CarrierPeer]>(c, 'hip');
    p.send(captured[0]!, c.local.port, '127.0.0.1');
    const [bytes] = await ev;
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect(bytes).toBeInstanceOf(Uint8Array);
  });

  it('sendHip puts exactly 00000000 + packet on the wire; sendPayload the bytes as they are', async () => {
    const c = await carrier();
    const p = await plain();
    const seen: Buffer[] = [];
    p.on('message', (m) => seen.push(m));
    const hipPacket = captured[2]!.subarray(4); // the captured I2 without its marker
    expect(c.sendHip(hipPacket, p.peer)).toBe(true);
    await until(() => seen.length === 1);
    expect(c.sendPayload(cute.esp[0]!, p.peer)).toBe(true);
    await until(() => seen.length === 2);
    expect(hex(seen[0]!)).toBe(hex(captured[2]!));
    expect(hex(seen[1]!)).toBe(hex(cute.esp[0]!));
  });

  it('counts traffic in stats', async () => {
    const c = await carrier();
    const got = record(c);
    const p = await plain();
    p.on('message', () => {});
    await sendAll(p, c.local, [captured[0]!, captured[4]!, cute.esp[0]!], got);
    c.sendHip(captured[1]!.subarray(4), p.peer);
    c.sendPayload(new Uint8Array([9, 9, 9, 9, 9]), p.peer);
    expect(c.stats).toEqual({
      hipIn: 1,
      hipOut: 1,
      payloadIn: 2,
      payloadOut: 1,
      bytesIn: captured[0]!.length + captured[4]!.length + cute.esp[0]!.length,
      bytesOut: captured[1]!.length + 5,
      sendErrors: 0,
    });
  });

  it('two carriers talk to each other', async () => {
    const a = await carrier();
    const b = await carrier();
    const ev = nextEvent<[Uint8Array, CarrierPeer]>(b, 'hip');
    a.sendHip(captured[0]!.subarray(4), b.local);
    const [packet, from] = await ev;
    expect(hex(packet)).toBe(hex(captured[0]!.subarray(4)));
    expect(from).toEqual(a.local);
  });

  it('a payload given as pieces leaves as one datagram, counted once, with the pieces in order', async () => {
    const a = await carrier();
    const b = await carrier();
    const ev = nextEvent<[Uint8Array, CarrierPeer]>(b, 'payload');
    const esp = cute.esp[0]!;
    expect(a.sendPayload([esp.subarray(0, 8), esp.subarray(8, 8), esp.subarray(8)], b.local)).toBe(true);
    const [packet] = await ev;
    expect(hex(packet)).toBe(hex(esp));
    expect(a.stats.payloadOut).toBe(1);
    expect(a.stats.bytesOut).toBe(esp.length);
  });

  it('close is idempotent, emits close once, and later sends are counted, not thrown', async () => {
    const c = await UdpCarrier.bind({ address: '127.0.0.1' });
    let closes = 0;
    const errors: Error[] = [];
    c.on('close', () => closes++);
    c.on('error', (e) => errors.push(e));
    const p1 = c.close();
    const p2 = c.close();
    await Promise.all([p1, p2, c.close()]);
    await c.close();
    expect(closes).toBe(1);
    expect(c.closed).toBe(true);
    const to = { address: '127.0.0.1', port: 9, family: 4 } as const;
    expect(c.sendHip(captured[0]!.subarray(4), to)).toBe(false);
    expect(c.sendPayload(new Uint8Array([1, 2, 3, 4]), to)).toBe(false);
    expect(c.stats.sendErrors).toBe(2);
    expect(c.stats.hipOut + c.stats.payloadOut).toBe(0);
    expect(() => c.ref()).not.toThrow();
    expect(() => c.unref()).not.toThrow();
    await settle(20);
    expect(errors).toEqual([]);
  });

  it('close() lets datagrams sent just before it leave first (a CLOSE_ACK, say)', async () => {
    const c = await UdpCarrier.bind({ address: '127.0.0.1' });
    const p = await plain();
    const seen: Buffer[] = [];
    p.on('message', (m) => seen.push(m));
    c.sendHip(captured[6]!.subarray(4), p.peer);
    c.sendPayload(captured[4]!, p.peer);
    await c.close();
    await until(() => seen.length === 2, 3000, 'both datagrams');
    expect(seen.map(hex)).toEqual([hex(captured[6]!), hex(captured[4]!)]);
    expect(c.stats.sendErrors).toBe(0);
  });

  it('a port in use gives ERR_TRANSPORT_BIND with the OS code; reuseAddr on both sockets shares it', async () => {
    const a = await carrier();
    const err = await UdpCarrier.bind({ address: '127.0.0.1', port: a.local.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipTransportError);
    expect((err as HipTransportError).code).toBe('ERR_TRANSPORT_BIND');
    expect((err as HipTransportError).details).toMatchObject({ osCode: 'EADDRINUSE', port: a.local.port });
    expect((err as HipTransportError).cause).toBeInstanceOf(Error);

    const r1 = await carrier({ address: '127.0.0.1', reuseAddr: true });
    const r2 = await carrier({ address: '127.0.0.1', port: r1.local.port, reuseAddr: true });
    expect(r2.local.port).toBe(r1.local.port);
  });

  it('rejects bad bind options with HipArgumentError', async () => {
    for (const opts of [{ address: 'localhost' }, { port: 70000 }, { address: '::1', family: 4 as const }, { family: 5 as never }]) {
      const err = await UdpCarrier.bind(opts).catch((e: unknown) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(HipArgumentError);
      expect((err as HipArgumentError).code).toBe('ERR_TRANSPORT_BAD_ARGUMENT');
    }
  });

  it('bad destinations throw HipArgumentError before anything is sent', async () => {
    const c = await carrier();
    const bad = [
      { address: '127.0.0.1', port: 0, family: 4 },
      { address: 'localhost', port: 1, family: 4 },
      { address: '127.0.0.1', port: 1, family: 6 },
      { address: '::1', port: 1, family: 6 }, // IPv6 peer on an IPv4 carrier
      null,
    ];
    for (const to of bad) {
      expect(() => c.sendPayload(new Uint8Array([1, 2, 3, 4]), to as never), JSON.stringify(to)).toThrow(HipArgumentError);
    }
    expect(c.stats.payloadOut).toBe(0);
  });

  it('a datagram over the IPv4 UDP limit is dropped with ERR_TRANSPORT_TOO_LARGE', async () => {
    const c = await carrier();
    const ev = nextEvent<[HipTransportError]>(c, 'error');
    expect(c.sendPayload(new Uint8Array(65508).fill(1), { address: '127.0.0.1', port: 9, family: 4 })).toBe(false);
    const [err] = await ev;
    expect(err.code).toBe('ERR_TRANSPORT_TOO_LARGE');
    expect(c.stats.sendErrors).toBe(1);
  });

  it('an operating-system refusal becomes an error event (ENETUNREACH), and the carrier stays usable', async () => {
    // An IPv6 socket on ::1 has no route to the IPv4-mapped loopback: the kernel refuses the send
    // before anything leaves the host.
    const c = await carrier({ address: '::1' });
    const ev = nextEvent<[HipTransportError]>(c, 'error');
    expect(c.sendPayload(new Uint8Array([1, 2, 3, 4]), { address: '::ffff:127.0.0.1', port: 9, family: 6 })).toBe(true);
    const [err] = await ev;
    expect(err).toBeInstanceOf(HipTransportError);
    expect(err.code).toBe('ERR_TRANSPORT_SEND');
    expect(err.details).toMatchObject({ osCode: 'ENETUNREACH' });
    expect(c.stats.sendErrors).toBe(1);
    const p = await plain('udp6');
    const got = nextEvent<[Buffer]>(p, 'message');
    c.sendPayload(new Uint8Array([7, 7, 7, 7]), p.peer);
    expect(hex((await got)[0])).toBe('07070707');
  });

  it('unref stops the socket keeping the event loop alive; ref restores it', async () => {
    const udpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    const c = await carrier();
    const before = udpHandles();
    c.unref();
    expect(udpHandles()).toBe(before - 1);
    c.ref();
    expect(udpHandles()).toBe(before);
  });
});

describe.skipIf(noIpv6)('UdpCarrier over IPv6', () => {
  it('binds ::1, sorts datagrams and reports IPv6 senders', async () => {
    const c = await carrier({ address: '::1' });
    expect(c.local).toMatchObject({ address: '::1', family: 6 });
    const got = record(c);
    const p = await plain('udp6');
    await sendAll(p, c.local, [captured[0]!, captured[4]!], got);
    expect(got).toEqual([
      { kind: 'hip', bytes: hex(captured[0]!.subarray(4)), from: p.peer },
      { kind: 'payload', bytes: hex(captured[4]!), from: p.peer },
    ]);
    const seen = nextEvent<[Buffer]>(p, 'message');
    c.sendHip(captured[0]!.subarray(4), p.peer);
    expect(hex((await seen)[0])).toBe(hex(captured[0]!));
  });

  it('a dual-stack carrier reports IPv4 peers as family 4 and can answer them', async () => {
    const c = await carrier({ family: 6 });
    expect(c.local).toMatchObject({ address: '::', family: 6 });
    const p = await plain('udp4');
    const ev = nextEvent<[Uint8Array, CarrierPeer]>(c, 'hip');
    p.send(captured[0]!, c.local.port, '127.0.0.1');
    const [, from] = await ev;
    expect(from).toEqual(p.peer);
    const seen = nextEvent<[Buffer]>(p, 'message');
    expect(c.sendPayload(new Uint8Array([5, 6, 7, 8]), from)).toBe(true);
    expect(hex((await seen)[0])).toBe('05060708');
  });

  it('an IPv6-only carrier refuses IPv4 peers with HipArgumentError', async () => {
    const c = await carrier({ address: '::1', ipv6Only: true });
    expect(() => c.sendPayload(new Uint8Array(4).fill(1), { address: '127.0.0.1', port: 9, family: 4 })).toThrow(HipArgumentError);
  });
});

describe('the carrier socket name lookup', () => {
  it('answers IP literals at once (no event-loop hop per datagram sent) and leaves names to DNS', async () => {
    for (const [address, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
      let got: [Error | null, string, number] | undefined;
      literalLookup(address, 4, (...r) => (got = r));
      expect(got).toEqual([null, address, family]);
    }
    let sync = true;
    const named = new Promise<[Error | null, string, number]>((resolve) => literalLookup('localhost', {}, (...r) => resolve(r)));
    sync = false;
    const [err, address, family] = await named;
    expect(sync).toBe(false);
    expect(err).toBeNull();
    expect([4, 6]).toContain(family);
    expect(address).toMatch(/^(127\.|::1$)/);
  });
});
