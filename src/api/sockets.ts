/**
 * Socket lifetime calls of the libhipl-style API: hiplSocket, hiplBind, hiplListen,
 * hiplAccept, hiplConnect, hiplClose (and hiplGetsockname, hiplLibShutdownAll).
 * @module
 */
import { isIP } from 'node:net';
import { isHit, parseHit } from '../crypto/hit.js';
import { HostIdentity } from '../crypto/identity.js';
import type { HostStream } from '../host/stream-mux.js';
import { canonicalHit } from '../host/peer-table.js';
import { AF_INET, AF_INET6, Errno, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from './constants.js';
import { errnoOf } from './errno-map.js';
import { HiplSock, lib, toErrno, type HostRef } from './state.js';
import { bexStep, nextChange, yieldToEventLoop } from './wait.js';

/** Options of {@link hiplSocket} that libhipl's C function does not have. */
export interface HiplSocketOptions {
  /**
   * The identity this socket speaks for. Default: the library's default identity (libhipl: the
   * host's default HIT). Two sockets of one process that talk to each other need two identities:
   * a host refuses a base exchange with its own HIT.
   */
  identity?: HostIdentity;
}

/**
 * A socket address for {@link hiplBind} (C: `struct sockaddr_in` / `sockaddr_in6`).
 *
 * @example
 * ```ts
 * await hiplBind(id, { family: AF_INET, address: '127.0.0.1', port: 22345 });
 * ```
 */
export interface HiplSockAddr {
  /** AF_INET or AF_INET6; default: the socket's domain. */
  family?: number;
  /** IP address text (`'0.0.0.0'` / `'::'` for any). */
  address: string;
  /** Port; 0 lets the system pick one. */
  port: number;
}

const RX_LIMIT_BYTES = 4 << 20;

function wildcard(domain: number): string {
  return domain === AF_INET6 ? '::' : '0.0.0.0';
}

function familyOf(domain: number): 4 | 6 {
  return domain === AF_INET6 ? 6 : 4;
}

function validPort(port: unknown, min: number): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= min && port <= 65535;
}

/**
 * Create a socket (C: `hipl_socket`).
 *
 * @param domain `AF_INET` or `AF_INET6`.
 * @param type `SOCK_DGRAM` or `SOCK_STREAM`.
 * @param protocol `IPPROTO_UDP`, `IPPROTO_TCP`, or 0 for the type's own.
 * @returns the new id (an integer from 1: not a file descriptor), `-EINVAL` for an unknown
 *   domain, type or protocol (as libhipl), `-EPROTONOSUPPORT` when the protocol does not fit the
 *   type.
 * @example
 * ```ts
 * const id = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
 * ```
 */
export async function hiplSocket(domain: number, type: number, protocol: number, options: HiplSocketOptions = {}): Promise<number> {
  if (domain !== AF_INET && domain !== AF_INET6) return -Errno.EINVAL;
  if (type !== SOCK_DGRAM && type !== SOCK_STREAM) return -Errno.EINVAL;
  if (protocol !== 0 && protocol !== IPPROTO_UDP && protocol !== IPPROTO_TCP) return -Errno.EINVAL;
  const own = type === SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  if (protocol !== 0 && protocol !== own) return -Errno.EPROTONOSUPPORT;
  if (options.identity !== undefined && !(options.identity instanceof HostIdentity)) return -Errno.EINVAL;
  lib.ensureInit();
  try {
    (options.identity ?? lib.defaultIdentity()).hit(lib.version);
  } catch (e) {
    return toErrno(e);
  }
  const id = lib.allocateId();
  if (id < 0) return -Errno.ENOMEM;
  lib.sockets.set(id, new HiplSock(id, domain, type, own, options.identity));
  return id;
}

/**
 * Bind a socket to a local address and port (C: `hipl_bind`). For a datagram socket this binds
 * the UDP port that carries its HIP packets and data, as in libhipl; for a stream socket it
 * sets the port hiplListen listens on or hiplConnect connects from.
 *
 * @returns 0; `-EBADF` unknown id (libhipl: -1); `-EAFNOSUPPORT` family differs from the
 *   socket's; `-EINVAL` bad address or port, or already bound; `-EADDRINUSE` and other socket
 *   errors as the system reports them.
 */
export async function hiplBind(id: number, address: HiplSockAddr, _addressLen?: number): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  if (typeof address !== 'object' || address === null) return -Errno.EINVAL;
  const family = address.family ?? sock.domain;
  if (family !== sock.domain) return -Errno.EAFNOSUPPORT;
  if (typeof address.address !== 'string' || isIP(address.address) !== familyOf(sock.domain)) return -Errno.EINVAL;
  if (!validPort(address.port, 0)) return -Errno.EINVAL;
  if (sock.bindAddr || sock.ref || sock.role !== 'new') return -Errno.EINVAL;
  sock.bindAddr = { address: address.address, port: address.port, family: familyOf(sock.domain) };
  if (sock.isDgram) {
    const r = await startUdpHost(sock);
    if (r < 0) {
      sock.bindAddr = undefined;
      return r;
    }
  }
  sock.role = 'bound';
  return 0;
}

/** Create the UDP host of a datagram socket at its bound (or an ephemeral) address. */
export function startUdpHost(sock: HiplSock): Promise<number> {
  if (sock.ref) return Promise.resolve(0);
  sock.starting ??= createUdpHost(sock).finally(() => {
    sock.starting = undefined;
  });
  return sock.starting;
}

async function createUdpHost(sock: HiplSock): Promise<number> {
  const at = sock.bindAddr ?? { address: wildcard(sock.domain), port: 0, family: familyOf(sock.domain) };
  let ref: HostRef;
  try {
    ref = await lib.createHost(sock, { udp: at, tcp: false });
  } catch (e) {
    return toErrno(e);
  }
  if (sock.closed) {
    await lib.release(sock);
    return -Errno.EBADF;
  }
  const port = ref.host.udpAddress?.port ?? at.port;
  sock.datagramPort = ref.host.bindDatagramPort(port, (data, info) => {
    const queued = sock.rx.reduce((n, d) => n + ('eof' in d ? 0 : d.data.length), 0);
    if (queued + data.length > RX_LIMIT_BYTES) return;
    sock.rx.push({ data: data.slice(), hit: info.hit, port: info.port });
    sock.peerHit ??= info.hit;
    sock.peers.add(info.hit);
    sock.notify();
  });
  return 0;
}

/**
 * Listen for stream connections (C: `hipl_listen`): opens the TCP listener at the bound address.
 *
 * @returns 0; `-EBADF`; `-EOPNOTSUPP` on a datagram socket; `-EINVAL` on a connected socket or a
 *   backlog that is not an integer; `-EADDRINUSE` ...
 */
export async function hiplListen(id: number, backlog: number): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  if (sock.isDgram) return -Errno.EOPNOTSUPP;
  if (!Number.isInteger(backlog)) return -Errno.EINVAL;
  if (sock.role === 'listening') return 0;
  if (sock.role !== 'new' && sock.role !== 'bound') return -Errno.EINVAL;
  const before = sock.role;
  // Claimed before the first await, so a concurrent call does not open a second listener.
  sock.role = 'listening';
  const at = sock.bindAddr ?? { address: wildcard(sock.domain), port: 0, family: familyOf(sock.domain) };
  let ref: HostRef;
  try {
    ref = await lib.createHost(sock, { udp: false, tcp: at });
  } catch (e) {
    sock.role = before;
    return toErrno(e);
  }
  const port = ref.host.tcpAddress?.port ?? at.port;
  try {
    sock.listenPort = ref.host.listenStream(port, (stream) => onIncomingStream(sock, stream));
  } catch (e) {
    sock.role = before;
    await lib.release(sock);
    return toErrno(e);
  }
  if (sock.closed) {
    await lib.release(sock);
    return -Errno.EBADF;
  }
  sock.notify();
  return 0;
}

/** A stream reached a listener: give it to the accepted socket waiting for this peer, or queue it. */
function onIncomingStream(listener: HiplSock, stream: HostStream): void {
  const ref = listener.ref;
  if (listener.closed || !ref) {
    stream.destroy();
    return;
  }
  for (const s of lib.sockets.values()) {
    if (s.listener === listener && !s.stream && !s.closed && (!s.peerHit || s.peerHit === stream.remoteHit)) {
      attachStream(s, stream);
      return;
    }
  }
  const child = new HiplSock(0, listener.domain, listener.type, listener.protocol, listener.identity);
  child.listener = listener;
  child.role = 'accepted';
  lib.attach(ref, child);
  attachStream(child, stream);
  child.onChange(() => listener.notify());
  listener.readyStreams.push(stream);
  pendingChildren.set(stream, child);
  listener.notify();
}

const pendingChildren = new WeakMap<HostStream, HiplSock>();

/** Wire a stream to the socket that reads and writes it. */
export function attachStream(sock: HiplSock, stream: HostStream): void {
  sock.stream = stream;
  sock.peerHit = stream.remoteHit;
  stream.on('readable', () => {
    // An ended stream only reports 'end' once read: read it so the end becomes visible.
    if (stream.readableLength === 0) stream.read(0);
    sock.notify();
  });
  stream.on('end', () => {
    sock.eof = true;
    sock.notify();
  });
  stream.on('error', (e) => {
    const code = (e as { code?: unknown }).code;
    // A CLOSE from the peer ends its streams: libhipl's recvfrom returns 0 then.
    if (code === 'ERR_HIP_CLOSED') sock.eof = true;
    else sock.failure ??= errnoOf(e);
    sock.notify();
  });
  stream.on('close', () => sock.notify());
  for (const chunk of sock.pendingWrites.splice(0)) stream.write(chunk);
  sock.notify();
}

/**
 * Accept a stream connection (C: `hipl_accept`). With BEX feedback on, a connection is
 * accepted as soon as its first HIP packet waits (libhipl accepts the TCP connection before the
 * BEX); hiplRecvfrom/hiplSendto on the new id then step its BEX.
 *
 * @returns the new id; `-EBADF`; `-EOPNOTSUPP` on a datagram socket; `-EINVAL` when not
 *   listening; `-EAGAIN` non-blocking with nothing to accept.
 * @example
 * ```ts
 * const listener = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
 * await hiplBind(listener, { address: '127.0.0.1', port: 7777 });
 * await hiplListen(listener, 5);
 * const conn = await hiplAccept(listener);
 * const peer = { hit: '', port: 0 };
 * const n = await hiplRecvfrom(conn, buf, buf.length, 0, peer); // peer.hit: who connected
 * ```
 */
export async function hiplAccept(id: number): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  if (sock.isDgram) return -Errno.EOPNOTSUPP;
  if (sock.role !== 'listening') return -Errno.EINVAL;
  for (;;) {
    if (sock.closed) return -Errno.EBADF;
    const stream = sock.readyStreams.shift();
    if (stream) {
      const child = pendingChildren.get(stream);
      pendingChildren.delete(stream);
      if (!child) continue;
      const childId = lib.allocateId();
      if (childId < 0) return -Errno.ENOMEM;
      child.id = childId;
      lib.sockets.set(childId, child);
      return childId;
    }
    if (lib.feedback && lib.controlWaiting(sock) === 'yes' && !hasBexChild(sock)) {
      const childId = lib.allocateId();
      if (childId < 0) return -Errno.ENOMEM;
      const child = new HiplSock(childId, sock.domain, sock.type, sock.protocol, sock.identity);
      child.listener = sock;
      child.role = 'accepted';
      lib.attach(sock.ref!, child);
      lib.sockets.set(childId, child);
      return childId;
    }
    if (sock.nonblock) {
      // Let I/O run, so a loop of non-blocking accepts can see a connection arrive.
      await yieldToEventLoop();
      return -Errno.EAGAIN;
    }
    await nextChange([sock]);
  }
}

/** Whether a listener has an accepted socket still waiting for its stream (its BEX runs). */
export function hasBexChild(listener: HiplSock): boolean {
  for (const s of lib.sockets.values()) if (s.listener === listener && !s.stream && !s.closed) return true;
  return false;
}

/**
 * Connect to a peer by HIT (C: `hipl_connect`). A stream socket opens the TCP connection to the
 * address hiplAddPeerInfo gave for the HIT, at `port`, and the HIP base exchange starts on it;
 * with feedback on, later send and receive calls step it. A datagram socket only remembers the
 * peer for sends that name none.
 *
 * @returns 0; `-EINVAL` for a peer name that is not a HIT or a bad port (checked first, as in
 *   libhipl); `-EBADF`; `-EHOSTUNREACH` no address known for the HIT; `-EINPROGRESS`
 *   (non-blocking, connection under way); `-EALREADY` (a connect is under way); `-EISCONN`
 *   (already connected); `-ECONNREFUSED`, `-ETIMEDOUT` ...
 * @example
 * ```ts
 * await hiplAddPeerInfo(serverHit, '127.0.0.1');
 * const id = await hiplSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
 * if ((await hiplConnect(id, serverHit, 7777)) === 0) await hiplSendto(id, 'hi', 2, 0, null, 0);
 * ```
 */
export async function hiplConnect(id: number, peername: string, port: number): Promise<number> {
  if (typeof peername !== 'string' || !isHit(peername) || parseHit(peername).every((b) => b === 0)) return -Errno.EINVAL;
  if (!validPort(port, 1)) return -Errno.EINVAL;
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  const hit = canonicalHit(peername);
  if (sock.isDgram) {
    sock.defaultPeer = { hit, port };
    return 0;
  }
  if (sock.role === 'listening') return -Errno.EINVAL;
  if (sock.role === 'accepted') return -Errno.EISCONN;
  if (sock.connect) {
    if (sock.failure !== undefined && sock.role === 'connecting') {
      const f = sock.failure;
      sock.failure = undefined;
      return -f;
    }
    if (sock.role === 'connected') return -Errno.EISCONN;
    return -Errno.EALREADY;
  }
  const addrs = lib.peerInfo.get(hit);
  if (!addrs || addrs.length === 0) return -Errno.EHOSTUNREACH;
  const before = sock.role;
  const undo = (code: number): number => {
    sock.connect = undefined;
    sock.peerHit = undefined;
    sock.role = before;
    return code;
  };
  // Claimed before the first await: a concurrent call sees a connect under way.
  sock.connect = { hit, port };
  sock.peerHit = hit;
  sock.role = 'connecting';
  if (!sock.ref) {
    try {
      await lib.createHost(sock, { udp: false, tcp: false });
    } catch (e) {
      return undo(toErrno(e));
    }
    if (sock.closed) {
      await lib.release(sock);
      return -Errno.EBADF;
    }
  }
  const ref = sock.ref!;
  const host = ref.host;
  try {
    host.peers.remove(hit);
    for (const address of addrs) host.peers.add(hit, { carrier: 'tcp', address, port });
  } catch (e) {
    return undo(toErrno(e));
  }
  if (lib.feedback) {
    ref.driving.add(hit);
    lib.updateStepping(ref);
  }
  const up = new AbortController();
  const connected = (host.isEstablished(hit) ? Promise.resolve(true) : bexStep(host, hit, 'i1-sent', up.signal)).then((ok) => {
    if (ok && sock.role === 'connecting') sock.role = 'connected';
    sock.notify();
  });
  let stream: HostStream;
  try {
    stream = host.openStream(hit, port, { localPort: sock.bindAddr?.port ?? 0 });
  } catch (e) {
    up.abort();
    return undo(toErrno(e));
  }
  stream.once('error', () => up.abort());
  attachStream(sock, stream);
  if (sock.nonblock) {
    // As connect(2) on Linux: in progress, even when loopback would be quicker than this call.
    await yieldToEventLoop();
    return -Errno.EINPROGRESS;
  }
  await connected;
  // (role changed while awaiting; re-read it through a fresh view for the type checker)
  if ((sock.role as HiplSock['role']) === 'connected') return 0;
  const f = sock.failure ?? Errno.ECONNREFUSED;
  sock.failure = undefined;
  return -f;
}

/**
 * Close a socket (C: `hipl_close`): ends its stream, sends CLOSE to its peers, waits at most
 * `closeGraceMs` (see hiplLibInitAll) for the CLOSE_ACK (libhipl: does not wait), and frees the
 * host once no other socket uses it.
 *
 * @returns 0, or `-EBADF` for an unknown id (libhipl: -1).
 */
export async function hiplClose(id: number): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  lib.sockets.delete(id);
  sock.closed = true;
  sock.notify();
  const ref = sock.ref;
  if (sock.role === 'listening') {
    if (ref && sock.listenPort !== undefined) ref.host.unlistenStream(sock.listenPort);
    for (const stream of sock.readyStreams.splice(0)) {
      const child = pendingChildren.get(stream);
      stream.destroy();
      if (child) await lib.release(child);
    }
  }
  if (sock.stream && !sock.stream.destroyed) sock.stream.end();
  if (ref && !sock.isDgram && sock.peerHit && sock.role !== 'listening' && ref.sockets.size > 1) {
    // The listener's host lives on for other connections: close only this peer's association.
    await closeAssociation(ref, sock.peerHit);
  }
  await lib.release(sock);
  return 0;
}

async function closeAssociation(ref: HostRef, peerHit: string): Promise<void> {
  if (!ref.host.engine.association(parseHit(peerHit))) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ref.host.close(peerHit).catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, lib.closeGraceMs);
    }),
  ]);
  if (timer) clearTimeout(timer);
}

/**
 * The local address of a socket (C: `getsockname` on libhipl's descriptor). Not in lhipl.h;
 * useful after binding port 0.
 *
 * @param out filled with the family, address and port.
 * @returns 0, `-EBADF`, or `-EINVAL` for a socket that has no address yet.
 */
export function hiplGetsockname(id: number, out: HiplSockAddr): number {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  const host = sock.ref?.host;
  const local = sock.isDgram ? host?.udpAddress : sock.role === 'listening' || sock.role === 'accepted' ? host?.tcpAddress : undefined;
  if (local) {
    out.family = local.family === 6 ? AF_INET6 : AF_INET;
    out.address = local.address;
    out.port = local.port;
    return 0;
  }
  if (sock.stream) {
    out.family = sock.domain;
    out.address = sock.bindAddr?.address ?? wildcard(sock.domain);
    out.port = sock.stream.localPort;
    return 0;
  }
  if (sock.bindAddr) {
    out.family = sock.domain;
    out.address = sock.bindAddr.address;
    out.port = sock.bindAddr.port;
    return 0;
  }
  return -Errno.EINVAL;
}

/** Close every socket (not in lhipl.h): for the end of a program or a test. Resolves 0. */
export async function hiplLibShutdownAll(): Promise<number> {
  const ids = [...lib.sockets.keys()].sort((a, b) => b - a);
  await Promise.all(ids.map((id) => hiplClose(id)));
  return 0;
}
