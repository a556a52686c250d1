/**
 * Mobility, rebinding and rekeying over real UDP sockets on loopback. A tiny in-process NAT stands
 * between the initiator and the responder: the responder sees the NAT's external port, and
 * `rebind()` gives the initiator a new one (the old mapping is gone, as after a NAT timeout or
 * a move). One association and one stream must survive in both directions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HipHost } from '../../src/host/host.js';
import { announceAddresses, resolveNatMode, unreachableDestination } from '../../src/host/mobility.js';
import { HipTransportError, TransportErrorCode } from '../../src/transport/errors.js';
import type { HostStream } from '../../src/host/stream-mux.js';
import { startNat } from '../helpers/udp-nat.js';

const LO = '127.0.0.1';
const enc = (s: string) => new TextEncoder().encode(s);
const text = (d: Uint8Array) => Buffer.from(d).toString();

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function pair(opts: Parameters<typeof HipHost.create>[0] = {}) {
  const a = await HipHost.create({ udp: { address: LO }, ...opts });
  const b = await HipHost.create({ udp: { address: LO }, ...opts });
  cleanup.push(() => a.shutdown(200), () => b.shutdown(200));
  const nat = await startNat(b.udpAddress!.port, cleanup);
  a.peers.add(b.hit(), { address: LO, port: nat.port });
  return { a, b, nat };
}

function collect(h: HipHost, port: number) {
  const got: string[] = [];
  let waiter: (() => void) | undefined;
  h.bindDatagramPort(port, (d) => {
    got.push(text(d));
    waiter?.();
  });
  return {
    got,
    until: (pred: (g: string[]) => boolean) =>
      new Promise<void>((r) => {
        waiter = () => pred(got) && r();
        waiter();
      }),
  };
}

/** An echo stream from a to b's port 7; returns a function that sends a line and waits for it back. */
async function echoStream(a: HipHost, b: HipHost) {
  b.listenStream(7, (s: HostStream) => s.pipe(s));
  const s = a.openStream(b.hit(), 7);
  cleanup.push(() => void s.destroy());
  let buf = '';
  s.on('data', (d: Buffer) => (buf += d.toString()));
  return async (line: string) => {
    s.write(line);
    await new Promise<void>((r) => {
      const check = () => (buf.includes(line) ? r() : setTimeout(check, 10));
      check();
    });
  };
}

describe('NAT rebinding: the responder speaks first after the initiator got a new port', () => {
  it('the responder checks the new address and moves; the stream and datagrams survive both ways', async () => {
    const { a, b, nat } = await pair();
    const atA = collect(a, 5000);
    const atB = collect(b, 7000);
    const echo = await echoStream(a, b);
    await echo('before\n');
    await a.sendDatagram(b.hit(), 5000, 7000, enc('a1'));
    await atB.until((g) => g.includes('a1'));
    const moved = new Promise<{ port: number; previousPort: number }>((r) => b.once('locator', r));

    await nat.rebind();
    // The responder speaks first: this datagram goes to the dead mapping and is lost.
    await b.sendDatagram(a.hit(), 7000, 5000, enc('lost'));
    // The initiator's next packet arrives from the new port: a check, then the move.
    await a.sendDatagram(b.hit(), 5000, 7000, enc('a2'));
    const m = await moved;
    expect(m.port).toBe(nat.externalPort());
    expect(m.previousPort).not.toBe(m.port);
    await b.sendDatagram(a.hit(), 7000, 5000, enc('b2'));
    await atA.until((g) => g.includes('b2'));
    await echo('after\n');
    expect(atB.got).toEqual(['a1', 'a2']);
    expect(a.isEstablished(b.hit()) && b.isEstablished(a.hit())).toBe(true);
    expect(b.peerPaths(a.hit()).filter((p) => p.state === 'active')).toHaveLength(1);
  });
});

describe('mobility: host.updateLocators() announces the move', () => {
  it('the peer follows without any data from the mobile host', async () => {
    const { a, b, nat } = await pair();
    const atA = collect(a, 5000);
    await a.connect(b.hit());
    const echo = await echoStream(a, b);
    await echo('one\n');
    const moved = new Promise<{ port: number }>((r) => b.once('locator', r));
    await nat.rebind();
    a.updateLocators();
    expect((await moved).port).toBe(nat.externalPort());
    await b.sendDatagram(a.hit(), 7000, 5000, enc('to the new place'));
    await atA.until((g) => g.includes('to the new place'));
    await echo('two\n');
  });
});

describe('rekeying with UPDATE', () => {
  it('host.rekey() installs new SAs on both sides and data keeps flowing both ways', async () => {
    const { a, b } = await pair();
    const atA = collect(a, 5000);
    const atB = collect(b, 7000);
    await a.sendDatagram(b.hit(), 5000, 7000, enc('x1'));
    await atB.until((g) => g.length === 1);
    const bRekeyed = new Promise<{ localSpi: number }>((r) => b.once('rekeyed', r));
    await a.rekey(b.hit());
    await bRekeyed;
    await a.sendDatagram(b.hit(), 5000, 7000, enc('x2'));
    await b.sendDatagram(a.hit(), 7000, 5000, enc('y1'));
    await atB.until((g) => g.includes('x2'));
    await atA.until((g) => g.includes('y1'));
    // With a new DH key too.
    await b.rekey(a.hit(), { dh: true });
    await a.sendDatagram(b.hit(), 5000, 7000, enc('x3'));
    await b.sendDatagram(a.hit(), 7000, 5000, enc('y2'));
    await atB.until((g) => g.includes('x3'));
    await atA.until((g) => g.includes('y2'));
    expect(a.associationStats(b.hit())!.drops).toEqual({});
    expect(b.associationStats(a.hit())!.drops).toEqual({});
  });

  it('an SA past its rekey threshold rekeys by itself', async () => {
    const { a, b } = await pair({ rekeyThreshold: 3n });
    const atB = collect(b, 7000);
    const rekeyed = new Promise<void>((r) => a.once('rekeyed', () => r()));
    for (let i = 0; i < 4; i++) await a.sendDatagram(b.hit(), 5000, 7000, enc(`n${i}`));
    await rekeyed;
    await a.sendDatagram(b.hit(), 5000, 7000, enc('after'));
    await atB.until((g) => g.includes('after'));
  });

  it('refuses without an association', async () => {
    const { a, b } = await pair();
    await expect(a.rekey(b.hit())).rejects.toMatchObject({ code: 'ERR_HIP_REKEY' });
  });
});

describe('NAT mode', () => {
  it('uses port 10500 unless told otherwise, negotiates UDP-ENCAPSULATION, keeps alive, probes', () => {
    const r = resolveNatMode(true);
    expect(r.udpPort).toBe(10500);
    expect(r.engine).toMatchObject({ natMode: true, keepaliveMs: 15_000, livenessMs: 30_000 });
    expect(resolveNatMode({ keepaliveMs: 5000 }, { livenessMs: 0 }).engine).toMatchObject({ keepaliveMs: 5000, livenessMs: 0 });
    expect(resolveNatMode(false).udpPort).toBeUndefined();
    expect(resolveNatMode(undefined, {}).engine.keepaliveMs).toBeUndefined();
  });

  it('refuses unusable NAT and resume options by name', async () => {
    await expect(HipHost.create({ udp: false, natMode: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_HIP_BAD_OPTION' });
    await expect(HipHost.create({ udp: false, natMode: { keepaliveMs: -1 } })).rejects.toMatchObject({ code: 'ERR_HIP_BAD_OPTION', details: { option: 'natMode.keepaliveMs' } });
    await expect(HipHost.create({ udp: false, tcpResumeMs: Number.NaN })).rejects.toMatchObject({ code: 'ERR_HIP_BAD_OPTION' });
    await expect(HipHost.create({ udp: false, engine: { livenessMs: -5 } })).rejects.toMatchObject({ code: 'ERR_HIP_BAD_OPTION' });
  });

  it('recognises the send errors that mean a path is gone', () => {
    const gone = new HipTransportError(TransportErrorCode.SEND, 'UDP send failed', { address: '10.0.0.1', port: 10500, osCode: 'ENETUNREACH' });
    expect(unreachableDestination(gone)).toEqual({ address: '10.0.0.1', port: 10500 });
    const full = new HipTransportError(TransportErrorCode.SEND, 'UDP send failed', { address: '10.0.0.1', port: 10500, osCode: 'ENOBUFS' });
    expect(unreachableDestination(full)).toBeUndefined();
  });

  it('announces the bound address, else the interface addresses, as 16-byte HIP addresses', () => {
    const [v4] = announceAddresses(undefined, '192.0.2.7', 4);
    expect(Buffer.from(v4!).toString('hex')).toBe('00000000000000000000ffffc0000207');
    const [v6] = announceAddresses(['2001:db8::1'], undefined, 6);
    expect(Buffer.from(v6!).toString('hex')).toBe('20010db8000000000000000000000001');
    const any = announceAddresses(undefined, '0.0.0.0', 4);
    expect(any.length).toBeGreaterThan(0);
    expect(any.length).toBeLessThanOrEqual(8);
  });

  it('an idle initiator sends keepalives the responder receives', async () => {
    const { a, b } = await pair({ natMode: { keepaliveMs: 150, watchAddressesMs: 0 }, udp: { address: LO, port: 0 } });
    await a.connect(b.hit());
    expect(a.engine.config.natMode).toBe(true);
    const before = b.engine.stats.received;
    await new Promise<void>((r) => {
      const check = () => (a.engine.stats.keepalivesSent >= 2 && b.engine.stats.received >= before + 2 ? r() : setTimeout(check, 50));
      check();
    });
    expect(a.isEstablished(b.hit())).toBe(true);
  });
});
