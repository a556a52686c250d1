/**
 * Programs ported from libhipl, run as they are written: retry loops on -EWAITBEX, several peers
 * on one datagram socket, a BEX that fails, a send to our own HIT. Each case is one finding of
 * issue 9 (section 2) over real loopback sockets.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AF_INET,
  EBEXESTABLISHED,
  Errno,
  EWAITBEX,
  HIPL_LIB_LOG_NONE,
  IPPROTO_UDP,
  MSG_DONTWAIT,
  SOCK_DGRAM,
  hiplAddPeerInfo,
  hiplBind,
  hiplClose,
  hiplGetDefaultHit,
  hiplGetsockname,
  hiplLibInitAll,
  hiplLibSetBexFeedback,
  hiplLibShutdownAll,
  hiplRecvfrom,
  hiplSendto,
  hiplSocket,
  type HiplPeer,
  type HiplSockAddr,
} from '../../src/api/index.js';
import { HostIdentity } from '../../src/crypto/identity.js';
import { HipHost } from '../../src/host/host.js';

const LO = '127.0.0.1';
const dec = new TextDecoder();

beforeAll(async () => {
  expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { closeGraceMs: 300 })).toBe(0);
});

afterEach(async () => {
  hiplLibSetBexFeedback(false);
  await hiplLibShutdownAll();
  await hiplLibInitAll(HIPL_LIB_LOG_NONE, { engine: {}, closeGraceMs: 300 });
});

function portOf(id: number): number {
  const a: HiplSockAddr = { address: '', port: 0 };
  expect(hiplGetsockname(id, a)).toBe(0);
  return a.port;
}

async function udpPair(): Promise<{ s: number; r: number; rHit: string; rPort: number }> {
  const rId = HostIdentity.generate();
  const s = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  const r = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, { identity: rId });
  expect(await hiplBind(s, { address: LO, port: 0 })).toBe(0);
  expect(await hiplBind(r, { address: LO, port: 0 })).toBe(0);
  expect(await hiplAddPeerInfo(rId.hitString(), LO)).toBe(0);
  return { s, r, rHit: rId.hitString(), rPort: portOf(r) };
}

/** Receive with MSG_DONTWAIT until `until` says stop; returns the texts received. */
async function drain(id: number, until: () => boolean): Promise<string[]> {
  const got: string[] = [];
  const buf = new Uint8Array(256);
  for (let i = 0; i < 2000 && !until(); i++) {
    const n = await hiplRecvfrom(id, buf, buf.length, MSG_DONTWAIT, null);
    if (n > 0) got.push(dec.decode(buf.subarray(0, n)));
    else await new Promise((r) => setTimeout(r, 2));
  }
  return got;
}

describe('BEX feedback: a call that returns a negative errno sends nothing', () => {
  it('a plain retry loop on -EWAITBEX delivers its datagram once', async () => {
    const { s, r, rHit, rPort } = await udpPair();
    hiplLibSetBexFeedback(true);
    let sent = false;
    // The receiver steps its side of the BEX and collects what arrives, as a libhipl program would.
    const received = drain(r, () => sent);
    let code = -EWAITBEX;
    let calls = 0;
    while (code === -EWAITBEX || code === -EBEXESTABLISHED) {
      code = await hiplSendto(s, 'one', 3, 0, rHit, rPort);
      calls++;
      if (calls > 5000) break;
    }
    expect(code).toBe(3);
    expect(calls).toBeGreaterThan(1);
    // Give any duplicate time to arrive, then stop the receiver.
    await new Promise((res) => setTimeout(res, 200));
    sent = true;
    const got = [...(await received)];
    const buf = new Uint8Array(16);
    for (let n = await hiplRecvfrom(r, buf, 16, MSG_DONTWAIT, null); n > 0; n = await hiplRecvfrom(r, buf, 16, MSG_DONTWAIT, null)) got.push(dec.decode(buf.subarray(0, n)));
    expect(got).toEqual(['one']);
  });
});

describe('a failed BEX is reported once, first', () => {
  async function failedBex(feedback: boolean): Promise<{ s: number; hit: string; port: number }> {
    await hiplLibInitAll(HIPL_LIB_LOG_NONE, { engine: { retransmit: { initialMs: 10, maxMs: 10, i1Retries: 1 } }, closeGraceMs: 300 });
    const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(s, { address: LO, port: 0 });
    const silent = await hiplSocket(AF_INET, SOCK_DGRAM, 0, { identity: HostIdentity.generate() });
    await hiplBind(silent, { address: LO, port: 0 });
    const hit = HostIdentity.generate().hitString(); // nobody answers for this HIT
    await hiplAddPeerInfo(hit, LO);
    hiplLibSetBexFeedback(feedback);
    return { s, hit, port: portOf(silent) };
  }

  it('feedback on: after the BEX failed unseen, the next send returns -ETIMEDOUT, then the next call starts afresh', async () => {
    const { s, hit, port } = await failedBex(true);
    expect(await hiplSendto(s, 'x', 1, 0, hit, port)).toBe(-EWAITBEX);
    await new Promise((res) => setTimeout(res, 300)); // the BEX times out while nobody calls
    expect(await hiplSendto(s, 'x', 1, 0, hit, port)).toBe(-Errno.ETIMEDOUT);
    // Reported once: the receive does not hand out the same failure again ...
    expect(await hiplRecvfrom(s, new Uint8Array(4), 4, MSG_DONTWAIT, null)).not.toBe(-Errno.ETIMEDOUT);
    // ... and the next send starts a new BEX.
    expect(await hiplSendto(s, 'x', 1, 0, hit, port)).toBe(-EWAITBEX);
  });

  it('feedback off: the send that failed reports it, a later receive does not again', async () => {
    const { s, hit, port } = await failedBex(false);
    expect(await hiplSendto(s, 'x', 1, 0, hit, port)).toBe(-Errno.ETIMEDOUT);
    expect(await hiplRecvfrom(s, new Uint8Array(4), 4, MSG_DONTWAIT, null)).toBe(-Errno.EAGAIN);
  });
});

describe('several peers on one datagram socket', () => {
  it("each peer's CLOSE makes hiplRecvfrom resolve 0, naming that peer", async () => {
    const a = await HipHost.create({ udp: { address: LO } });
    const b = await HipHost.create({ udp: { address: LO } });
    try {
      const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      await hiplBind(s, { address: LO, port: 0 });
      const me = hiplGetDefaultHit();
      for (const p of [a, b]) {
        p.peers.add(me, { address: LO, port: portOf(s) });
        await p.sendDatagram(me, p.udpAddress!.port, portOf(s), new TextEncoder().encode(`from ${p.hit()}`));
      }
      const buf = new Uint8Array(128);
      const peer: HiplPeer = { hit: '', port: 0 };
      const senders = new Set<string>();
      for (let i = 0; i < 2; i++) {
        expect(await hiplRecvfrom(s, buf, buf.length, 0, peer)).toBeGreaterThan(0);
        senders.add(peer.hit);
      }
      expect(senders).toEqual(new Set([a.hit(), b.hit()]));
      await a.close(me);
      expect(await hiplRecvfrom(s, buf, buf.length, 0, peer)).toBe(0);
      expect(peer.hit).toBe(a.hit());
      await b.close(me);
      expect(await hiplRecvfrom(s, buf, buf.length, 0, peer)).toBe(0);
      expect(peer.hit).toBe(b.hit());
    } finally {
      await a.shutdown(50);
      await b.shutdown(50);
    }
  });
});

describe('sending to our own HIT', () => {
  it('returns -EINVAL, and closing afterwards leaves no unhandled rejection', async () => {
    const stray: unknown[] = [];
    const onStray = (e: unknown) => stray.push(e);
    process.on('unhandledRejection', onStray);
    try {
      for (const feedback of [false, true]) {
        hiplLibSetBexFeedback(feedback);
        const s = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
        await hiplBind(s, { address: LO, port: 0 });
        await hiplAddPeerInfo(hiplGetDefaultHit(), LO);
        expect(await hiplSendto(s, 'me', 2, 0, hiplGetDefaultHit(), portOf(s))).toBe(-Errno.EINVAL);
        expect(await hiplClose(s)).toBe(0);
      }
      await hiplLibShutdownAll();
      await new Promise((res) => setTimeout(res, 50));
      expect(stray).toEqual([]);
    } finally {
      process.off('unhandledRejection', onStray);
    }
  });
});
