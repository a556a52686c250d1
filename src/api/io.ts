/**
 * Data calls of the libhipl-style API: hiplSendto and hiplRecvfrom, with libhipl's BEX
 * feedback (each call advances the base exchange by at most one received packet).
 * @module
 */
import { isHit, parseHit } from '../crypto/hit.js';
import { canonicalHit } from '../host/peer-table.js';
import { EBEXESTABLISHED, Errno, EWAITBEX, MSG_DONTWAIT, MSG_PEEK } from './constants.js';
import { tryStepBex } from './host-adapter.js';
import { hasBexChild, startUdpHost } from './sockets.js';
import { lib, toErrno, type HiplSock } from './state.js';
import { bexStep, nextChange, yieldToEventLoop } from './wait.js';

/**
 * Where a received message came from (C: the `peername` buffer and `port` of
 * `hipl_recvfrom`), filled in by {@link hiplRecvfrom}.
 */
export interface HiplPeer {
  /** The peer's HIT as IPv6 text. */
  hit: string;
  /** The peer's port. */
  port: number;
}

/** `MSG_NOSIGNAL`: accepted and ignored (there are no signals to suppress). */
const MSG_NOSIGNAL = 0x4000;
const SEND_FLAGS = MSG_DONTWAIT | MSG_NOSIGNAL;
const RECV_FLAGS = MSG_DONTWAIT | MSG_PEEK;

function validFlags(flags: unknown, allowed: number): flags is number {
  return typeof flags === 'number' && Number.isInteger(flags) && flags >= 0 && (flags & ~allowed) === 0;
}

function validLen(len: unknown, max: number): len is number {
  return typeof len === 'number' && Number.isInteger(len) && len >= 0 && len <= max;
}

/**
 * Send data to a peer (C: `hipl_sendto`). A datagram socket names the peer by HIT and port on
 * every call (or uses the one given to hiplConnect when `peername` is null); a stream socket
 * sends to its connected peer and ignores both.
 *
 * The first send to a HIT with no association starts the BEX. With BEX feedback off it resolves
 * once the BEX is done and the data sent. With feedback on it resolves `-EWAITBEX` (I1 sent),
 * and each later call processes at most one received control packet and resolves `-EWAITBEX`,
 * or `-EBEXESTABLISHED` for the call that completes the BEX.
 *
 * Unlike libhipl, data given to the calls that resolve `-EWAITBEX` / `-EBEXESTABLISHED` is not
 * lost: it is queued and sent, in order, as soon as the association is established.
 *
 * @param msg bytes, or a string sent as UTF-8.
 * @param len bytes of `msg` to send (`msg.length` for all; for a string, its UTF-8 length).
 * @param flags 0, or `MSG_DONTWAIT`.
 * @returns bytes sent; `-EWAITBEX`/`-EBEXESTABLISHED` (feedback on); `-EBADF`; `-EINVAL` bad
 *   HIT, port, buffer or length; `-ENOTCONN` unconnected stream socket; `-EOPNOTSUPP` unknown
 *   flag; `-EHOSTUNREACH` no address known for the HIT; `-ETIMEDOUT`/`-ECONNREFUSED` BEX failed;
 *   `-ENOBUFS` too much data queued during the BEX; `-EPIPE` stream already closed.
 * @example
 * ```ts
 * const n = await hiplSendto(id, 'Hello Sailor!', 13, 0, peerHit, 22300);
 * ```
 */
export async function hiplSendto(
  id: number,
  msg: Uint8Array | string,
  len: number,
  flags: number,
  peername: string | null,
  port: number,
): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  let hit: string | undefined;
  let dstPort = port;
  if (sock.isDgram) {
    if (peername === null || peername === undefined) {
      if (!sock.defaultPeer) return -Errno.EINVAL;
      hit = sock.defaultPeer.hit;
      dstPort = sock.defaultPeer.port;
    } else {
      if (typeof peername !== 'string' || !isHit(peername)) return -Errno.EINVAL;
      hit = canonicalHit(peername);
    }
    if (typeof dstPort !== 'number' || !Number.isInteger(dstPort) || dstPort < 1 || dstPort > 65535) return -Errno.EINVAL;
  } else if (!sock.stream && sock.role !== 'accepted') {
    return -Errno.ENOTCONN;
  }
  const bytes = typeof msg === 'string' ? new TextEncoder().encode(msg) : msg instanceof Uint8Array ? msg : undefined;
  if (!bytes || !validLen(len, bytes.length)) return -Errno.EINVAL;
  if (!validFlags(flags, SEND_FLAGS)) return -Errno.EOPNOTSUPP;
  const data = bytes.slice(0, len);
  return hit !== undefined ? sendDatagram(sock, data, hit, dstPort) : sendStream(sock, data);
}

async function sendDatagram(sock: HiplSock, data: Uint8Array, hit: string, dstPort: number): Promise<number> {
  // A failure nobody has seen yet comes first, and only once.
  if (sock.failure !== undefined) return takeFailure(sock);
  const started = await startUdpHost(sock);
  if (started < 0) return started;
  const ref = sock.ref!;
  const host = ref.host;
  const srcPort = sock.datagramPort!;
  if (host.isEstablished(hit)) {
    sock.peers.add(hit);
    try {
      await host.sendDatagram(hit, srcPort, dstPort, data);
    } catch (e) {
      return failedSend(sock, e);
    }
    return data.length;
  }
  const running = host.engine.association(parseHit(hit)) !== undefined;
  if (!running) {
    const addrs = lib.peerInfo.get(hit);
    try {
      if (addrs && addrs.length > 0) {
        // The carrier port is the application's port, as in libhipl: this send's port.
        host.peers.remove(hit);
        for (const address of addrs) host.peers.add(hit, { carrier: 'udp', address, port: dstPort });
      } else if (!host.peers.get(hit)) {
        return -Errno.EHOSTUNREACH;
      }
    } catch (e) {
      return toErrno(e);
    }
  }
  sock.peers.add(hit);
  if (!lib.feedback) {
    // Blocking send: wait for the BEX, then send once.
    try {
      await host.sendDatagram(hit, srcPort, dstPort, data);
    } catch (e) {
      return failedSend(sock, e);
    }
    return data.length;
  }
  // Feedback on: this call returns -EWAITBEX, so (as in libhipl and POSIX) it sends nothing,
  // now or later. The program sends again once it saw -EBEXESTABLISHED.
  if (!running) {
    sock.peerHit ??= hit;
    ref.driving.add(hit);
    lib.updateStepping(ref);
    let failed: unknown;
    const connecting = host.connect(hit).then(
      () => true,
      (e: unknown) => {
        failed = e;
        return false;
      },
    );
    const stop = new AbortController();
    const ok = await Promise.race([bexStep(host, hit, 'i1-sent', stop.signal), connecting]);
    stop.abort();
    if (!ok || failed !== undefined) {
      ref.driving.delete(hit);
      lib.updateStepping(ref);
      if (failed !== undefined) return failedSend(sock, failed);
      return sock.failure !== undefined ? takeFailure(sock) : -Errno.ECONNREFUSED;
    }
    return -EWAITBEX;
  }
  return feedbackStep(sock, hit);
}

/**
 * The errno of a send that failed. A failed BEX is also stored on the socket by the host's
 * 'failed' event; returning it here reports it, so it is not handed out a second time.
 */
function failedSend(sock: HiplSock, e: unknown): number {
  const errno = toErrno(e);
  if (sock.failure === -errno) sock.failure = undefined;
  return errno;
}

async function sendStream(sock: HiplSock, data: Uint8Array): Promise<number> {
  const ref = sock.ref;
  if (!ref) return -Errno.ENOTCONN;
  const established = () => sock.peerHit !== undefined && ref.host.isEstablished(sock.peerHit);
  if (sock.failure !== undefined) return takeFailure(sock);
  // Feedback on: a call that returns -EWAITBEX / -EBEXESTABLISHED sends nothing (libhipl).
  if (lib.feedback && !established()) return feedbackStep(sock, sock.peerHit);
  while (!established() && sock.failure === undefined && !sock.closed && !sock.eof) await nextChange([sock]);
  if (sock.closed) return -Errno.EBADF;
  if (sock.failure !== undefined) return takeFailure(sock);
  if (!sock.stream) {
    // An accepted socket whose stream is on its way: it takes the bytes when it comes.
    sock.pendingWrites.push(data);
    return data.length;
  }
  const stream = sock.stream;
  if (stream.destroyed || stream.writableEnded) return -Errno.EPIPE;
  const err = await new Promise<unknown>((resolve) => stream.write(data, (e) => resolve(e ?? undefined)));
  if (err) return toErrno(err);
  return data.length;
}

function takeFailure(sock: HiplSock): number {
  const f = sock.failure ?? Errno.EIO;
  sock.failure = undefined;
  return -f;
}

/**
 * One BEX feedback step: process at most one waiting control packet of the socket's host, then
 * say where the BEX with `peerHit` (default: the socket's peer) stands.
 */
async function feedbackStep(sock: HiplSock, peerHit?: string): Promise<number> {
  const ref = sock.ref!;
  const host = ref.host;
  const target = () => peerHit ?? sock.peerHit;
  const established = () => {
    const t = target();
    return t !== undefined && host.isEstablished(t);
  };
  if (sock.failure !== undefined) return takeFailure(sock);
  if (!established()) {
    let steps;
    try {
      steps = await tryStepBex(host);
    } catch (e) {
      return toErrno(e);
    }
    if (steps) lib.learnPeer(sock, steps);
    // Nothing was waiting: give I/O a turn so a caller looping on -EWAITBEX makes progress.
    else await yieldToEventLoop();
  }
  if (sock.failure !== undefined) return takeFailure(sock);
  lib.log.debug(`socket ${sock.id}: feedback step with ${target() ?? 'an unknown peer'}: ${established() ? 'established' : 'waiting'}`);
  if (established()) {
    const t = target()!;
    ref.driving.delete(t);
    lib.updateStepping(ref);
    return -EBEXESTABLISHED;
  }
  return -EWAITBEX;
}

/**
 * Receive data (C: `hipl_recvfrom`): one datagram, or the bytes a stream has, up to `len`.
 *
 * With BEX feedback on and no association yet, each call processes at most one received control
 * packet and resolves `-EWAITBEX` (also when none was waiting: libhipl reads non-blocking
 * then), or `-EBEXESTABLISHED` for the call that completes the BEX. With feedback off it waits
 * through the BEX for data.
 *
 * A datagram longer than `len` is cut to `len` bytes (as recvfrom(2) does; libhipl fails with
 * -1 and drops it).
 *
 * @param buf where the data goes.
 * @param len most bytes to receive, at most `buf.length`.
 * @param flags 0, `MSG_DONTWAIT`, `MSG_PEEK`.
 * @param peer filled with the sender's HIT and port.
 * @returns bytes received; 0 when the peer closed the association (CLOSE) or ended the stream;
 *   `-EWAITBEX`/`-EBEXESTABLISHED` (feedback on); `-EAGAIN` non-blocking with nothing to
 *   receive; `-EBADF`; `-EINVAL`; `-ENOTCONN` unconnected or listening stream socket;
 *   `-EOPNOTSUPP` unknown flag; `-ECONNRESET` ...
 * @example
 * ```ts
 * const buf = new Uint8Array(1024);
 * const peer = { hit: '', port: 0 };
 * const n = await hiplRecvfrom(id, buf, buf.length, 0, peer);
 * if (n > 0) console.log(new TextDecoder().decode(buf.subarray(0, n)), 'from', peer.hit, peer.port);
 * ```
 */
export async function hiplRecvfrom(id: number, buf: Uint8Array, len: number, flags: number, peer?: HiplPeer | null): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  if (!sock.isDgram && !sock.stream && sock.role !== 'accepted') return -Errno.ENOTCONN;
  if (!(buf instanceof Uint8Array) || !validLen(len, buf.length)) return -Errno.EINVAL;
  if (!validFlags(flags, RECV_FLAGS)) return -Errno.EOPNOTSUPP;
  const nonblock = sock.nonblock || (flags & MSG_DONTWAIT) !== 0;
  const peek = (flags & MSG_PEEK) !== 0;
  if (sock.isDgram) {
    const started = await startUdpHost(sock);
    if (started < 0) return started;
  }
  for (;;) {
    if (sock.closed) return -Errno.EBADF;
    const got = sock.isDgram ? takeDatagram(sock, buf, len, peek, peer) : takeStreamBytes(sock, buf, len, peek, peer);
    if (got !== undefined) return got;
    if (lib.feedback && inBex(sock)) return feedbackStep(sock);
    if (sock.failure !== undefined) return takeFailure(sock);
    if (nonblock) {
      await yieldToEventLoop();
      return -Errno.EAGAIN;
    }
    await nextChange([sock]);
  }
}

/** Whether the socket's own association is not established yet. */
export function inBex(sock: HiplSock): boolean {
  const ref = sock.ref;
  if (!ref) return true;
  return sock.peerHit === undefined || !ref.host.isEstablished(sock.peerHit);
}

function takeDatagram(sock: HiplSock, buf: Uint8Array, len: number, peek: boolean, peer: HiplPeer | null | undefined): number | undefined {
  const d = sock.rx[0];
  if (d === undefined) return undefined;
  if (!peek) sock.rx.shift();
  if ('eof' in d) {
    // The association with this peer closed (its CLOSE): 0, as libhipl returns, naming the peer.
    if (peer) {
      peer.hit = d.hit;
      peer.port = 0;
    }
    return 0;
  }
  const n = Math.min(len, d.data.length);
  buf.set(d.data.subarray(0, n));
  if (peer) {
    peer.hit = d.hit;
    peer.port = d.port;
  }
  return n;
}

function takeStreamBytes(sock: HiplSock, buf: Uint8Array, len: number, peek: boolean, peer: HiplPeer | null | undefined): number | undefined {
  const stream = sock.stream;
  if (!stream) return undefined;
  if (!sock.rxLeft || sock.rxLeft.length === 0) {
    const chunk: unknown = stream.read();
    if (chunk instanceof Uint8Array) sock.rxLeft = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  const left = sock.rxLeft;
  if (left && left.length > 0) {
    const n = Math.min(len, left.length);
    buf.set(left.subarray(0, n));
    if (!peek) sock.rxLeft = left.subarray(n);
    if (peer) {
      peer.hit = stream.remoteHit;
      peer.port = stream.remotePort;
    }
    return n;
  }
  if (sock.failure !== undefined) {
    sock.eof = true;
    return takeFailure(sock);
  }
  if (sock.eof) return 0;
  return undefined;
}

/** Whether hiplRecvfrom (or hiplAccept, for a listener) would return without waiting. */
export function isReadable(sock: HiplSock, pollTick: boolean): boolean {
  if (sock.closed) return false;
  if (sock.failure !== undefined) return true;
  const control = lib.controlWaiting(sock);
  const controlReady = control === 'yes' || (control === 'unknown' && pollTick);
  if (sock.isDgram) return sock.rx.length > 0 || (controlReady && inBex(sock));
  if (sock.role === 'listening') {
    if (sock.readyStreams.length > 0) return true;
    return lib.feedback && controlReady && !hasBexChild(sock);
  }
  const stream = sock.stream;
  if (stream && ((sock.rxLeft?.length ?? 0) > 0 || stream.readableLength > 0 || sock.eof)) return true;
  return controlReady && inBex(sock);
}

/** Whether hiplSendto would not have to wait for a connection. */
export function isWritable(sock: HiplSock): boolean {
  if (sock.closed) return false;
  if (sock.isDgram) return true;
  if (sock.failure !== undefined) return true;
  return sock.role === 'connected' || sock.role === 'accepted';
}
