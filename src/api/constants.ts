/**
 * The numbers a libhipl program uses: address families, socket types, protocols, message flags,
 * errno values, libhipl's own BEX feedback codes and log levels.
 *
 * Values are those of Linux (the only platform libhipl runs on), fixed here rather than read from
 * `os.constants` so a return code means the same thing on every platform hipl runs on.
 * @module
 */

/** IPv4 address family (`AF_INET`). */
export const AF_INET = 2;
/** IPv6 address family (`AF_INET6`). libhipl refused it ("No IPv6 support yet"); hipl supports it. */
export const AF_INET6 = 10;

/** Stream socket type (`SOCK_STREAM`): a TCP connection to one peer. */
export const SOCK_STREAM = 1;
/** Datagram socket type (`SOCK_DGRAM`): UDP datagrams, each naming its peer by HIT and port. */
export const SOCK_DGRAM = 2;

/** TCP protocol number (`IPPROTO_TCP`). */
export const IPPROTO_TCP = 6;
/** UDP protocol number (`IPPROTO_UDP`). */
export const IPPROTO_UDP = 17;

/** `recvfrom` flag: return the next datagram or bytes without removing them. */
export const MSG_PEEK = 0x2;
/** `sendto`/`recvfrom` flag: do not wait, as if the socket were non-blocking for this call. */
export const MSG_DONTWAIT = 0x40;

/**
 * libhipl's "the base exchange is still running" code: send and receive calls resolve
 * `-EWAITBEX` while BEX feedback is on and the association is not yet established.
 */
export const EWAITBEX = 139000;
/** libhipl's "this call completed the base exchange" code, resolved (negated) exactly once. */
export const EBEXESTABLISHED = 139001;

/** Size of the buffer a C caller gives `hipl_recvfrom` for the peer name; a HIT text always fits. */
export const HIPL_MAX_PEERNAME = 128;

/** Log level: every message, including each BEX step and each packet sent or received. */
export const HIPL_LIB_LOG_DEBUG = 0;
/** Log level: BEX steps, established and closed associations. */
export const HIPL_LIB_LOG_INFO = 1;
/** Log level: failures only. */
export const HIPL_LIB_LOG_ERROR = 2;
/** Log level: nothing. */
export const HIPL_LIB_LOG_NONE = 3;

/** One of the `HIPL_LIB_LOG_*` levels (C: `enum hipl_lib_loglv`). */
export type HiplLibLogLevel = typeof HIPL_LIB_LOG_DEBUG | typeof HIPL_LIB_LOG_INFO | typeof HIPL_LIB_LOG_ERROR | typeof HIPL_LIB_LOG_NONE;

/**
 * The errno values the libhipl-style functions resolve (negated), with Linux's numbers.
 *
 * @example
 * ```ts
 * const n = await hiplRecvfrom(id, buf, buf.length, MSG_DONTWAIT, peer);
 * if (n === -Errno.EAGAIN) { ... nothing yet ... }
 * ```
 */
export const Errno = Object.freeze({
  /** Operation not permitted. */
  EPERM: 1,
  /** Interrupted. */
  EINTR: 4,
  /** Input/output error. */
  EIO: 5,
  /** Not a libhipl socket id, or one already closed. */
  EBADF: 9,
  /** Nothing to receive (non-blocking), or an accept with no connection waiting. Same as EWOULDBLOCK. */
  EAGAIN: 11,
  /** Out of memory. */
  ENOMEM: 12,
  /** Permission denied (e.g. a privileged port). */
  EACCES: 13,
  /** Invalid argument: a bad HIT string, address, port, length or option. */
  EINVAL: 22,
  /** Writing to a stream whose peer is gone. */
  EPIPE: 32,
  /** A datagram larger than the carrier can take. */
  EMSGSIZE: 90,
  /** Protocol does not match the socket type (e.g. SOCK_DGRAM with IPPROTO_TCP). */
  EPROTONOSUPPORT: 93,
  /** The operation does not apply to this socket type (e.g. listen on a datagram socket), or an unsupported flag. */
  EOPNOTSUPP: 95,
  /** Address family not supported, or an address of the wrong family. */
  EAFNOSUPPORT: 97,
  /** The local address and port are in use. */
  EADDRINUSE: 98,
  /** The local address is not one of this machine's. */
  EADDRNOTAVAIL: 99,
  /** Network unreachable. */
  ENETUNREACH: 101,
  /** The base exchange or connection was aborted. */
  ECONNABORTED: 103,
  /** The association or stream was reset by the peer. */
  ECONNRESET: 104,
  /** Too much data queued while the base exchange runs. */
  ENOBUFS: 105,
  /** The socket is already connected. */
  EISCONN: 106,
  /** A stream socket that is not connected. */
  ENOTCONN: 107,
  /** The base exchange timed out. */
  ETIMEDOUT: 110,
  /** The peer refused the connection or the base exchange. */
  ECONNREFUSED: 111,
  /** No address is known for the peer's HIT (add one with hiplAddPeerInfo). */
  EHOSTUNREACH: 113,
  /** A connection is already in progress on this socket. */
  EALREADY: 114,
  /** A non-blocking connect is in progress. */
  EINPROGRESS: 115,
  /** The call was cancelled. */
  ECANCELED: 125,
});

/** Name of an {@link Errno} value. */
export type ErrnoName = keyof typeof Errno;

/** The name of an errno number (positive or negated), e.g. `errnoName(-22) === 'EINVAL'`. */
export function errnoName(code: number): string | undefined {
  const n = Math.abs(code);
  if (n === EWAITBEX) return 'EWAITBEX';
  if (n === EBEXESTABLISHED) return 'EBEXESTABLISHED';
  for (const [name, value] of Object.entries(Errno)) if (value === n) return name;
  return undefined;
}
