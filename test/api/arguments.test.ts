/**
 * The libhipl-shaped API never throws on bad input: every call resolves the negative errno
 * libhipl (or the socket call it wraps on Linux) gives. Constants are checked against lhipl.h
 * and Linux's headers.
 */
import { createSocket } from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AF_INET,
  AF_INET6,
  EBEXESTABLISHED,
  Errno,
  EWAITBEX,
  HIPL_LIB_LOG_DEBUG,
  HIPL_LIB_LOG_ERROR,
  HIPL_LIB_LOG_INFO,
  HIPL_LIB_LOG_NONE,
  HIPL_MAX_PEERNAME,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MSG_DONTWAIT,
  SOCK_DGRAM,
  SOCK_STREAM,
  errnoName,
  hiplAccept,
  hiplAddPeerInfo,
  hiplBind,
  hiplClose,
  hiplConnect,
  hiplGetDefaultHit,
  hiplGetsockname,
  hiplLibBexFeedback,
  hiplLibGetSockfd,
  hiplLibInitAll,
  hiplLibSetBexFeedback,
  hiplLibSetNonblock,
  hiplLibShutdownAll,
  hiplListen,
  hiplRecvfrom,
  hiplSelect,
  hiplSendto,
  hiplSocket,
  type HiplSockAddr,
} from '../../src/api/index.js';
import { HostIdentity } from '../../src/crypto/identity.js';

const LO = '127.0.0.1';
const otherHit = HostIdentity.generate().hitString();

beforeAll(async () => {
  expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE)).toBe(0);
});

afterEach(async () => {
  hiplLibSetBexFeedback(false);
  await hiplLibShutdownAll();
});

describe('constants', () => {
  it('match lhipl.h', () => {
    expect(EWAITBEX).toBe(139000);
    expect(EBEXESTABLISHED).toBe(139001);
    expect(HIPL_MAX_PEERNAME).toBe(128);
    expect([HIPL_LIB_LOG_DEBUG, HIPL_LIB_LOG_INFO, HIPL_LIB_LOG_ERROR, HIPL_LIB_LOG_NONE]).toEqual([0, 1, 2, 3]);
  });

  it('use the Linux socket and errno numbers libhipl was built with', () => {
    expect({ AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, IPPROTO_TCP, IPPROTO_UDP, MSG_DONTWAIT }).toEqual({
      AF_INET: 2,
      AF_INET6: 10,
      SOCK_STREAM: 1,
      SOCK_DGRAM: 2,
      IPPROTO_TCP: 6,
      IPPROTO_UDP: 17,
      MSG_DONTWAIT: 0x40,
    });
    expect(Errno).toMatchObject({ EBADF: 9, EAGAIN: 11, EINVAL: 22, EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, ENOTCONN: 107, EHOSTUNREACH: 113, EINPROGRESS: 115 });
    expect(errnoName(-22)).toBe('EINVAL');
    expect(errnoName(-EWAITBEX)).toBe('EWAITBEX');
    expect(errnoName(12345)).toBeUndefined();
  });
});

describe('library calls', () => {
  it('hiplLibInitAll refuses an unknown level and a non-RSA identity for HIPv1', async () => {
    expect(await hiplLibInitAll(7 as never)).toBe(-Errno.EINVAL);
    expect(await hiplLibInitAll(-1 as never)).toBe(-Errno.EINVAL);
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { version: 1, identity: HostIdentity.generate() })).toBe(-Errno.EINVAL);
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE, { version: 3 as never })).toBe(-Errno.EINVAL);
    expect(await hiplLibInitAll(HIPL_LIB_LOG_NONE)).toBe(0);
  });

  it('the feedback switch is off by default and reads back', () => {
    expect(hiplLibBexFeedback()).toBe(false);
    hiplLibSetBexFeedback(true);
    expect(hiplLibBexFeedback()).toBe(true);
    hiplLibSetBexFeedback(false);
    expect(hiplLibBexFeedback()).toBe(false);
  });

  it('hiplAddPeerInfo takes only a HIT and an IP address', async () => {
    expect(await hiplAddPeerInfo('not a hit', LO)).toBe(-Errno.EINVAL);
    expect(await hiplAddPeerInfo('2001:db8::1', LO)).toBe(-Errno.EINVAL); // IPv6, but not a HIT
    expect(await hiplAddPeerInfo(otherHit, 'localhost')).toBe(-Errno.EINVAL);
    expect(await hiplAddPeerInfo(null as never, LO)).toBe(-Errno.EINVAL);
    expect(await hiplAddPeerInfo(otherHit, LO)).toBe(0);
    expect(await hiplAddPeerInfo(otherHit.toUpperCase(), '::1')).toBe(0);
  });

  it('the default HIT is an ORCHIDv2 HIT', () => {
    expect(hiplGetDefaultHit()).toMatch(/^2001:2[0-9a-f]:/);
  });
});

describe('hiplSocket', () => {
  it('gives small increasing ids from 1, not file descriptors', async () => {
    const a = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    const b = await hiplSocket(AF_INET6, SOCK_STREAM, 0);
    expect(a).toBeGreaterThanOrEqual(1);
    expect(b).toBe(a + 1);
    expect(hiplLibGetSockfd(a)).toBe(a);
  });

  it('refuses unknown domains, types and protocols like libhipl, and mismatches like socket(2)', async () => {
    expect(await hiplSocket(1, SOCK_DGRAM, 0)).toBe(-Errno.EINVAL);
    expect(await hiplSocket(AF_INET, 3, 0)).toBe(-Errno.EINVAL);
    expect(await hiplSocket(AF_INET, SOCK_DGRAM, 42)).toBe(-Errno.EINVAL);
    expect(await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)).toBe(-Errno.EPROTONOSUPPORT);
    expect(await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_UDP)).toBe(-Errno.EPROTONOSUPPORT);
    expect(await hiplSocket(AF_INET, SOCK_DGRAM, 0, { identity: {} as never })).toBe(-Errno.EINVAL);
  });
});

describe('an unknown id', () => {
  it('gives -EBADF from every call (-1 from hiplLibGetSockfd, as libhipl)', async () => {
    const id = 4242;
    const buf = new Uint8Array(8);
    expect(await hiplBind(id, { address: LO, port: 0 })).toBe(-Errno.EBADF);
    expect(await hiplListen(id, 5)).toBe(-Errno.EBADF);
    expect(await hiplAccept(id)).toBe(-Errno.EBADF);
    expect(await hiplConnect(id, otherHit, 1)).toBe(-Errno.EBADF);
    expect(await hiplSendto(id, buf, 8, 0, otherHit, 1)).toBe(-Errno.EBADF);
    expect(await hiplRecvfrom(id, buf, 8, 0, null)).toBe(-Errno.EBADF);
    expect(await hiplClose(id)).toBe(-Errno.EBADF);
    expect(await hiplLibSetNonblock(id, true)).toBe(-Errno.EBADF);
    expect(hiplGetsockname(id, { address: '', port: 0 })).toBe(-Errno.EBADF);
    expect(hiplLibGetSockfd(id)).toBe(-1);
    expect((await hiplSelect({ read: [id] }, 0)).count).toBe(-Errno.EBADF);
  });

  it('a closed id is unknown', async () => {
    const id = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    expect(await hiplClose(id)).toBe(0);
    expect(await hiplClose(id)).toBe(-Errno.EBADF);
  });
});

describe('hiplBind', () => {
  it('checks the family, address and port', async () => {
    const id = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    expect(await hiplBind(id, { family: AF_INET6, address: '::1', port: 0 })).toBe(-Errno.EAFNOSUPPORT);
    expect(await hiplBind(id, { address: '::1', port: 0 })).toBe(-Errno.EINVAL);
    expect(await hiplBind(id, { address: 'localhost', port: 0 })).toBe(-Errno.EINVAL);
    expect(await hiplBind(id, { address: LO, port: 70000 })).toBe(-Errno.EINVAL);
    expect(await hiplBind(id, { address: LO, port: 1.5 })).toBe(-Errno.EINVAL);
    expect(await hiplBind(id, null as never)).toBe(-Errno.EINVAL);
    expect(await hiplBind(id, { address: LO, port: 0 })).toBe(0);
    expect(await hiplBind(id, { address: LO, port: 0 })).toBe(-Errno.EINVAL);
    const where: HiplSockAddr = { address: '', port: 0 };
    expect(hiplGetsockname(id, where)).toBe(0);
    expect(where).toMatchObject({ family: AF_INET, address: LO });
    expect(where.port).toBeGreaterThan(0);
  });

  it('reports a port in use as -EADDRINUSE', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, LO, resolve));
    try {
      const id = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
      expect(await hiplBind(id, { address: LO, port: taken.address().port })).toBe(-Errno.EADDRINUSE);
      // The failed bind left the socket usable.
      expect(await hiplBind(id, { address: LO, port: 0 })).toBe(0);
    } finally {
      taken.close();
    }
  });
});

describe('socket type checks', () => {
  it('listen and accept need a stream socket; accept needs a listening one', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    expect(await hiplListen(udp, 5)).toBe(-Errno.EOPNOTSUPP);
    expect(await hiplAccept(udp)).toBe(-Errno.EOPNOTSUPP);
    expect(await hiplAccept(tcp)).toBe(-Errno.EINVAL);
    expect(await hiplListen(tcp, 1.5)).toBe(-Errno.EINVAL);
  });

  it('send and receive on an unconnected or listening stream socket give -ENOTCONN', async () => {
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    const buf = new Uint8Array(4);
    expect(await hiplSendto(tcp, buf, 4, 0, null, 0)).toBe(-Errno.ENOTCONN);
    expect(await hiplRecvfrom(tcp, buf, 4, 0, null)).toBe(-Errno.ENOTCONN);
    expect(await hiplBind(tcp, { address: LO, port: 0 })).toBe(0);
    expect(await hiplListen(tcp, 5)).toBe(0);
    expect(await hiplListen(tcp, 5)).toBe(0);
    expect(await hiplSendto(tcp, buf, 4, 0, null, 0)).toBe(-Errno.ENOTCONN);
    expect(await hiplRecvfrom(tcp, buf, 4, 0, null)).toBe(-Errno.ENOTCONN);
    expect(await hiplConnect(tcp, otherHit, 80)).toBe(-Errno.EINVAL);
  });

  it('a non-blocking listener with nothing waiting gives -EAGAIN', async () => {
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    await hiplBind(tcp, { address: LO, port: 0 });
    await hiplListen(tcp, 5);
    await hiplLibSetNonblock(tcp, true);
    expect(await hiplAccept(tcp)).toBe(-Errno.EAGAIN);
  });
});

describe('hiplConnect', () => {
  it('checks the peer name before the id, as libhipl', async () => {
    expect(await hiplConnect(4242, 'not a hit', 80)).toBe(-Errno.EINVAL);
    expect(await hiplConnect(4242, '::', 80)).toBe(-Errno.EINVAL);
    expect(await hiplConnect(4242, otherHit, 0)).toBe(-Errno.EINVAL);
    expect(await hiplConnect(4242, otherHit, 65536)).toBe(-Errno.EINVAL);
  });

  it('gives -EHOSTUNREACH for a HIT with no address', async () => {
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    expect(await hiplConnect(tcp, HostIdentity.generate().hitString(), 80)).toBe(-Errno.EHOSTUNREACH);
  });

  it('on a datagram socket only sets the default peer of later sends', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    const buf = new Uint8Array(4);
    expect(await hiplSendto(udp, buf, 4, 0, null, 0)).toBe(-Errno.EINVAL);
    expect(await hiplConnect(udp, otherHit, 9)).toBe(0);
  });
});

describe('hiplSendto and hiplRecvfrom arguments', () => {
  it('refuse bad HITs, ports, buffers, lengths and flags', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    const buf = new Uint8Array(4);
    expect(await hiplSendto(udp, buf, 4, 0, 'nonsense', 9)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, buf, 4, 0, '127.0.0.1', 9)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, buf, 4, 0, otherHit, 0)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, buf, 5, 0, otherHit, 9)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, buf, -1, 0, otherHit, 9)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, 42 as never, 1, 0, otherHit, 9)).toBe(-Errno.EINVAL);
    expect(await hiplSendto(udp, buf, 4, 0x1, otherHit, 9)).toBe(-Errno.EOPNOTSUPP);
    expect(await hiplRecvfrom(udp, buf, 5, 0, null)).toBe(-Errno.EINVAL);
    expect(await hiplRecvfrom(udp, 'text' as never, 4, 0, null)).toBe(-Errno.EINVAL);
    expect(await hiplRecvfrom(udp, buf, 4, 0x1, null)).toBe(-Errno.EOPNOTSUPP);
  });

  it('a send to a HIT with no address gives -EHOSTUNREACH', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    expect(await hiplSendto(udp, 'x', 1, 0, HostIdentity.generate().hitString(), 9)).toBe(-Errno.EHOSTUNREACH);
  });

  it('a receive with nothing to receive gives -EAGAIN when non-blocking or MSG_DONTWAIT', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    const buf = new Uint8Array(4);
    expect(await hiplRecvfrom(udp, buf, 4, MSG_DONTWAIT, null)).toBe(-Errno.EAGAIN);
    await hiplLibSetNonblock(udp, true);
    expect(await hiplRecvfrom(udp, buf, 4, 0, null)).toBe(-Errno.EAGAIN);
  });

  it('concurrent first calls on an unbound socket create one carrier between them', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    await new Promise((r) => setTimeout(r, 50)); // sockets of earlier tests finish closing
    const before = udpHandles();
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    const buf = new Uint8Array(4);
    expect(await Promise.all([hiplRecvfrom(udp, buf, 4, MSG_DONTWAIT, null), hiplRecvfrom(udp, buf, 4, MSG_DONTWAIT, null)])).toEqual([-Errno.EAGAIN, -Errno.EAGAIN]);
    expect(udpHandles()).toBe(before + 1);
    const where: HiplSockAddr = { address: '', port: 0 };
    expect(hiplGetsockname(udp, where)).toBe(0);
    expect(where.address).toBe('0.0.0.0');
  });

  it('with feedback on and no peer yet, a receive gives -EWAITBEX without waiting', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    hiplLibSetBexFeedback(true);
    expect(await hiplRecvfrom(udp, new Uint8Array(4), 4, 0, null)).toBe(-EWAITBEX);
  });
});

describe('hiplSelect', () => {
  it('times out with count 0, and refuses a bad timeout', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    const t0 = performance.now();
    expect(await hiplSelect({ read: [udp] }, 50)).toEqual({ count: 0, read: [], write: [] });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect((await hiplSelect({ read: [udp] }, -1)).count).toBe(-Errno.EINVAL);
  });

  it('a datagram socket is always writable; an unconnected stream socket is not', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    const tcp = await hiplSocket(AF_INET, SOCK_STREAM, 0);
    expect(await hiplSelect({ write: [udp, tcp] }, 0)).toEqual({ count: 1, read: [], write: [udp] });
  });

  it('an abort signal ends the wait with -EINTR', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    expect((await hiplSelect({ read: [udp] }, null, ac.signal)).count).toBe(-Errno.EINTR);
  });

  it('closing a socket another call waits on ends that wait with -EBADF', async () => {
    const udp = await hiplSocket(AF_INET, SOCK_DGRAM, 0);
    await hiplBind(udp, { address: LO, port: 0 });
    const waiting = hiplRecvfrom(udp, new Uint8Array(4), 4, 0, null);
    const selecting = hiplSelect({ read: [udp] });
    await new Promise((r) => setTimeout(r, 20));
    await hiplClose(udp);
    expect(await waiting).toBe(-Errno.EBADF);
    expect((await selecting).count).toBe(-Errno.EBADF);
  });
});
