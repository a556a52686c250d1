/**
 * The libhipl-shaped API end to end over loopback: BEX feedback off and on (one received
 * packet per call, -EWAITBEX then -EBEXESTABLISHED exactly as libhipl), data given during the
 * BEX delivered after it, UDP and TCP, CLOSE on hiplClose, failures as errno, no leaked handles.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AF_INET,
  EBEXESTABLISHED,
  Errno,
  EWAITBEX,
  HIPL_LIB_LOG_NONE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_STREAM,
  hiplAccept,
  hiplAddPeerInfo,
  hiplBind,
  hiplClose,
  hiplConnect,
  hiplGetDefaultHit,
  hiplGetsockname,
  hiplLibInitAll,
  hiplLibSetBexFeedback,
  hiplLibShutdownAll,
  hiplListen,
  hiplRecvfrom,
  hiplSelect,
  hiplSendto,
  hiplSocket,
  type HiplPeer,
  type HiplSockAddr,
} from '../../src/api/index.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';

const LO = '127.0.0.1';
const dec = new TextDecoder();

function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (/Wrap$/.test(r)) out[r] = (out[r] ?? 0) + 1;
  return out;
}
let baseline: Record<string, number>;

beforeAll(async () => {
  baseline = handles();
  expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { closeGraceMs: 500 })).toBe(0);
});

afterEach(async () => {
  hiplLibSetBexFeedback(false);
  await hiplLibShutdownAll();
});

afterAll(async () => {
  // Every socket and server of every host is gone: the process could exit.
  await new Promise((r) => setTimeout(r, 50));
  expect(handles()).toEqual(baseline);
});

function portOf(id: number): number {
  const a: HiplSockAddr = { address: '', port: 0 };
  expect(hiplGetsockname(id, a)).toBe(0);
  return a.port;
}

async function recvText(id: number, peer?: HiplPeer): Promise<string | number> {
  const buf = new Uint8Array(2048);
  const n = await hiplRecvfrom(id, buf, buf.length, 0, peer ?? null);
  return n > 0 ? dec.decode(buf.subarray(0, n)) : n;
}

/** A sender with the default identity and a receiver with its own, both bound on loopback. */
async function udpPair(): Promise<{ s: number; r: number; rHit: string; sPort: number; rPort: number }> {
  const rId = HostIdentity.generate();
  const s = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  const r = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, { identity: rId });
  expect(await hiplBind(s, { address: LO, port: 0 })).toBe(0);
  expect(await hiplBind(r, { address: LO, port: 0 })).toBe(0);
  expect(await hiplAddPeerInfo(rId.hitString(), LO)).toBe(0);
  return { s, r, rHit: rId.hitString(), sPort: portOf(s), rPort: portOf(r) };
}

async function readable(id: number): Promise<void> {
  const ready = await hiplSelect({ read: [id] }, 5000);
  expect(ready.read).toEqual([id]);
}

describe('UDP, BEX feedback off', () => {
  it('the first send runs the BEX and resolves the byte count; the receiver sees HIT and port', async () => {
    const { s, r, rHit, sPort, rPort } = await udpPair();
    expect(await hiplSendto(s, 'Hello Sailor!', 13, 0, rHit, rPort)).toBe(13);
    const peer = { hit: '', port: 0 };
    expect(await recvText(r, peer)).toBe('Hello Sailor!');
    expect(peer).toEqual({ hit: hiplGetDefaultHit(), port: sPort });
    // The receiver answers by HIT alone: the association knows where the sender is.
    expect(await hiplSendto(r, 'ahoy', 4, 0, hiplGetDefaultHit(), sPort)).toBe(4);
    const back = { hit: '', port: 0 };
    expect(await recvText(s, back)).toBe('ahoy');
    expect(back).toEqual({ hit: rHit, port: rPort });
  });

  it('datagrams given while the BEX runs all arrive, in order', async () => {
    const { s, r, rHit, rPort } = await udpPair();
    const sends = Array.from({ length: 10 }, (_, i) => hiplSendto(s, `m${i}`, `m${i}`.length, 0, rHit, rPort));
    expect(await Promise.all(sends)).toEqual(sends.map((_, i) => `m${i}`.length));
    const got: (string | number)[] = [];
    for (let i = 0; i < 10; i++) got.push(await recvText(r));
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('a datagram longer than the buffer is cut to it, and MSG_PEEK leaves it queued', async () => {
    const { s, r, rHit, rPort } = await udpPair();
    await hiplSendto(s, 'abcdef', 6, 0, rHit, rPort);
    const buf = new Uint8Array(8);
    expect(await hiplRecvfrom(r, buf, 8, 0x2, null)).toBe(6);
    expect(await hiplRecvfrom(r, buf, 3, 0, null)).toBe(3);
    expect(dec.decode(buf.subarray(0, 3))).toBe('abc');
    expect(await hiplRecvfrom(r, buf, 8, 0x40, null)).toBe(-Errno.EAGAIN);
  });
});

describe('UDP, BEX feedback on', () => {
  it('each call processes one packet: -EWAITBEX until -EBEXESTABLISHED; only later sends carry data', async () => {
    const { s, r, rHit, sPort, rPort } = await udpPair();
    hiplLibSetBexFeedback(true);
    const codes: number[] = [];
    codes.push(await hiplSendto(s, 'm0', 2, 0, rHit, rPort)); // I1 out
    await readable(r);
    codes.push(await recvText(r) as number); // I1 in, R1 out
    await readable(s);
    codes.push(await hiplSendto(s, 'm1', 2, 0, rHit, rPort)); // R1 in, I2 out

    // Nothing moves without a call: the receiver's host holds the I2 for its next step.
    expect(await recvText(s)).toBe(-EWAITBEX);
    expect((await hiplSelect({ read: [s] }, 100)).count).toBe(0);

    await readable(r);
    codes.push(await recvText(r) as number); // I2 in, R2 out: established at the receiver
    await readable(s);
    codes.push(await hiplSendto(s, 'm2', 2, 0, rHit, rPort)); // R2 in: established
    expect(codes).toEqual([-EWAITBEX, -EWAITBEX, -EWAITBEX, -EBEXESTABLISHED, -EBEXESTABLISHED]);

    // As in libhipl (and POSIX), a call that returned a negative errno sent nothing: the program
    // sends again, once.
    expect(await hiplSendto(s, 'm3', 2, 0, rHit, rPort)).toBe(2);
    const peer = { hit: '', port: 0 };
    expect(await recvText(r, peer)).toBe('m3');
    expect(peer).toEqual({ hit: hiplGetDefaultHit(), port: sPort });
    expect(await hiplRecvfrom(r, new Uint8Array(8), 8, 0x40, null)).toBe(-Errno.EAGAIN);
  });

  it('a BEX that times out resolves -ETIMEDOUT after its -EWAITBEX steps', async () => {
    await hiplLibInitAll(HIPL_LIB_LOG_NONE, { engine: { retransmit: { initialMs: 20, maxMs: 20, i1Retries: 1 } }, closeGraceMs: 500 });
    try {
      const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      await hiplBind(s, { address: LO, port: 0 });
      const silent = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      await hiplBind(silent, { address: LO, port: 0 }); // bound, but nobody steps it: no R1 ever
      const hit = HostIdentity.generate().hitString();
      await hiplAddPeerInfo(hit, LO);
      hiplLibSetBexFeedback(true);
      expect(await hiplSendto(s, 'x', 1, 0, hit, portOf(silent))).toBe(-EWAITBEX);
      let code = -EWAITBEX;
      const t0 = performance.now();
      while (code === -EWAITBEX && performance.now() - t0 < 5000) code = await hiplRecvfrom(s, new Uint8Array(4), 4, 0, null);
      expect(code).toBe(-Errno.ETIMEDOUT);
    } finally {
      await hiplLibInitAll(HIPL_LIB_LOG_NONE, { engine: {} });
    }
  });
});

describe('TCP', () => {
  async function tcpPair(): Promise<{ c: number; l: number; lHit: string; cPort: number; lPort: number }> {
    const lId = HostIdentity.generate();
    const c = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    const l = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, { identity: lId });
    expect(await hiplBind(l, { address: LO, port: 0 })).toBe(0);
    expect(await hiplListen(l, 5)).toBe(0);
    const cPort = 40000 + Math.floor(Math.random() * 20000);
    expect(await hiplBind(c, { address: LO, port: cPort })).toBe(0);
    expect(await hiplAddPeerInfo(lId.hitString(), LO)).toBe(0);
    return { c, l, lHit: lId.hitString(), cPort, lPort: portOf(l) };
  }

  it('feedback off: connect, accept, data both ways, and 0 at the peer after hiplClose', async () => {
    const { c, l, lHit, cPort, lPort } = await tcpPair();
    expect(await hiplConnect(c, lHit, lPort)).toBe(0);
    expect(await hiplConnect(c, lHit, lPort)).toBe(-Errno.EISCONN);
    expect(await hiplSendto(c, 'ping', 4, 0, null, 0)).toBe(4);
    const a = await hiplAccept(l);
    expect(a).toBeGreaterThan(0);
    const peer = { hit: '', port: 0 };
    expect(await recvText(a, peer)).toBe('ping');
    expect(peer).toEqual({ hit: hiplGetDefaultHit(), port: cPort });
    expect(await hiplSendto(a, 'pong', 4, 0, null, 0)).toBe(4);
    const back = { hit: '', port: 0 };
    expect(await recvText(c, back)).toBe('pong');
    expect(back).toEqual({ hit: lHit, port: lPort });
    expect(await hiplConnect(a, lHit, lPort)).toBe(-Errno.EISCONN);
    expect(await hiplClose(c)).toBe(0);
    expect(await recvText(a)).toBe(0);
  });

  it('feedback on: accept before the BEX, then one packet per call on each side', async () => {
    const { c, l, lHit, lPort } = await tcpPair();
    hiplLibSetBexFeedback(true);
    const { hiplLibSetNonblock } = await import('../../src/api/index.js');
    await hiplLibSetNonblock(c, true);
    expect(await hiplConnect(c, lHit, lPort)).toBe(-Errno.EINPROGRESS);
    expect((await hiplSelect({ write: [c] }, 5000)).write).toEqual([c]);
    expect(await hiplConnect(c, lHit, lPort)).toBe(-Errno.EISCONN);
    await readable(l);
    const a = await hiplAccept(l);
    expect(a).toBeGreaterThan(0);
    await hiplLibSetNonblock(c, false);
    const codes: number[] = [];
    codes.push(await hiplSendto(c, 'one', 3, 0, null, 0)); // nothing waiting yet
    codes.push(await recvText(a) as number); // I1
    await readable(c);
    codes.push(await hiplSendto(c, 'two', 3, 0, null, 0)); // R1
    await readable(a);
    codes.push(await recvText(a) as number); // I2
    await readable(c);
    codes.push(await hiplSendto(c, 'three', 5, 0, null, 0)); // R2
    expect(codes).toEqual([-EWAITBEX, -EWAITBEX, -EWAITBEX, -EBEXESTABLISHED, -EBEXESTABLISHED]);
    // The calls that returned a negative errno sent nothing; this one sends once.
    expect(await hiplSendto(c, 'four', 4, 0, null, 0)).toBe(4);
    expect(await recvText(a)).toBe('four');
  });

  it('a connect to a port nobody listens on fails with -ECONNREFUSED', async () => {
    // HipHost.connect leaves its BEX waiter behind when the TCP connect fails, and rejects it,
    // unobserved, at shutdown (reported to the host layer). Tolerate exactly that one here.
    const stray: unknown[] = [];
    const onStray = (e: unknown) => stray.push(e);
    process.on('unhandledRejection', onStray);
    try {
      const hit = HostIdentity.generate().hitString();
      await hiplAddPeerInfo(hit, LO);
      const closed = await hiplSocket(AF_INET, SOCK_STREAM, 0);
      await hiplBind(closed, { address: LO, port: 0 });
      await hiplListen(closed, 1);
      const port = portOf(closed);
      await hiplClose(closed);
      const c = await hiplSocket(AF_INET, SOCK_STREAM, 0);
      expect(await hiplConnect(c, hit, port)).toBe(-Errno.ECONNREFUSED);
      expect(await hiplClose(c)).toBe(0);
      await new Promise((r) => setTimeout(r, 20));
      for (const e of stray) expect(e).toMatchObject({ code: 'ERR_HIP_HOST_CLOSED' });
    } finally {
      process.off('unhandledRejection', onStray);
    }
  });
});

describe('hiplClose', () => {
  it('sends CLOSE: the peer host reports the association closed by the peer', async () => {
    const peerId = HostIdentity.generate();
    const peer = await HipHost.create({ identity: peerId, udp: { address: LO } });
    try {
      const got = new Promise<string>((resolve) => peer.bindDatagramPort(peer.udpAddress!.port, (d) => resolve(dec.decode(d))));
      await hiplAddPeerInfo(peerId.hitString(), LO);
      const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      expect(await hiplSendto(s, 'bye soon', 8, 0, peerId.hitString(), peer.udpAddress!.port)).toBe(8);
      expect(await got).toBe('bye soon');
      const closed = new Promise<{ peerHit: string; by: string }>((resolve) => peer.once('closed', resolve));
      expect(await hiplClose(s)).toBe(0);
      expect(await closed).toEqual({ peerHit: hiplGetDefaultHit(), by: 'peer' });
    } finally {
      await peer.shutdown(100);
    }
  });

  it('a CLOSE from the peer makes hiplRecvfrom resolve 0, as in libhipl', async () => {
    const peerId = HostIdentity.generate();
    const peer = await HipHost.create({ identity: peerId, udp: { address: LO } });
    try {
      await hiplAddPeerInfo(peerId.hitString(), LO);
      const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      expect(await hiplSendto(s, 'hi', 2, 0, peerId.hitString(), peer.udpAddress!.port)).toBe(2);
      const pending = hiplRecvfrom(s, new Uint8Array(8), 8, 0, null);
      await peer.close(hiplGetDefaultHit());
      expect(await pending).toBe(0);
    } finally {
      await peer.shutdown(100);
    }
  });
});

describe('logging', () => {
  it('INFO shows the BEX steps and the association; NONE shows nothing', async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const { HIPL_LIB_LOG_INFO } = await import('../../src/api/index.js');
    expect(await hiplLibInitAll(HIPL_LIB_LOG_INFO, { log, closeGraceMs: 500 })).toBe(0);
    try {
      const { s, r, rHit, rPort } = await udpPair();
      expect(await hiplSendto(s, 'x', 1, 0, rHit, rPort)).toBe(1);
      expect(await recvText(r)).toBe('x');
      for (const step of ['i1-sent', 'i1-received', 'r1-sent', 'r1-received', 'i2-sent', 'i2-received', 'r2-sent', 'r2-received']) {
        expect(lines.some((l) => l.startsWith(`hipl info: BEX ${step} `))).toBe(true);
      }
      expect(lines.filter((l) => / established \(HIPv2, (initiator|responder), udp /.test(l))).toHaveLength(2);
      expect(lines.some((l) => l.startsWith('hipl debug:'))).toBe(false);
    } finally {
      await hiplLibShutdownAll();
      await hiplLibInitAll(HIPL_LIB_LOG_NONE, { log: () => undefined });
    }
    const before = lines.length;
    const { s, r, rHit, rPort } = await udpPair();
    expect(await hiplSendto(s, 'y', 1, 0, rHit, rPort)).toBe(1);
    expect(await recvText(r)).toBe('y');
    expect(lines.length).toBe(before);
  });
});

describe('HIPv1 (libhipl profile)', () => {
  it('runs the BEX with ORCHIDv1 HITs and carries the data', async () => {
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { version: 1 })).toBe(0);
    try {
      expect(hiplGetDefaultHit()).toMatch(/^2001:1[0-9a-f]:/);
      const rId = HostIdentity.generate({ algorithm: 'rsa', rsaBits: 1024 });
      const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      const r = await hiplSocket(AF_INET, SOCK_DGRAM, 0, { identity: rId });
      await hiplBind(s, { address: LO, port: 0 });
      await hiplBind(r, { address: LO, port: 0 });
      await hiplAddPeerInfo(rId.hitString(1), LO);
      expect(await hiplSendto(s, 'v1 data', 7, 0, rId.hitString(1), portOf(r))).toBe(7);
      const peer = { hit: '', port: 0 };
      expect(await recvText(r, peer)).toBe('v1 data');
      expect(peer).toEqual({ hit: hiplGetDefaultHit(), port: portOf(s) });
    } finally {
      await hiplLibShutdownAll();
      await hiplLibInitAll(HIPL_LIB_LOG_NONE, { version: 2 });
    }
  });
});
