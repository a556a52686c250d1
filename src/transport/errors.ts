/**
 * The transport layer's error class and its stable codes.
 * @module
 */

import { HipError } from '../errors.js';

/**
 * Stable codes of {@link HipTransportError}. Programs switch on these; messages may change.
 */
export const TransportErrorCode = {
  /** A UDP socket could not be bound or a TCP listener could not listen (port in use, bad address ...). */
  BIND: 'ERR_TRANSPORT_BIND',
  /** A TCP connection could not be established (refused, unreachable, reset during connect). */
  CONNECT: 'ERR_TRANSPORT_CONNECT',
  /** A TCP connect did not complete within `timeoutMs`. */
  TIMEOUT: 'ERR_TRANSPORT_TIMEOUT',
  /** A TCP connect was cancelled through its `AbortSignal`. */
  ABORTED: 'ERR_TRANSPORT_ABORTED',
  /** The peer broke the TCP framing (a length prefix under 6 bytes); the connection is closed. */
  FRAMING: 'ERR_TRANSPORT_FRAMING',
  /** A message does not fit its carrier: a hipl TCP frame over 65535 bytes, a UDP datagram over the IP limit. */
  TOO_LARGE: 'ERR_TRANSPORT_TOO_LARGE',
  /** The carrier or connection is closed. */
  CLOSED: 'ERR_TRANSPORT_CLOSED',
  /** The operating system refused to send a datagram or a segment (e.g. ENETUNREACH, EMSGSIZE). */
  SEND: 'ERR_TRANSPORT_SEND',
  /** An open socket reported an error (e.g. ECONNRESET on TCP). */
  SOCKET: 'ERR_TRANSPORT_SOCKET',
  /** A peer address, port or option passed by the caller is invalid. Thrown as `HipArgumentError`. */
  BAD_ARGUMENT: 'ERR_TRANSPORT_BAD_ARGUMENT',
} as const;

/** One of the {@link TransportErrorCode} values. */
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/**
 * A socket-level failure: binding, connecting, framing, sending. `details.osCode` holds the
 * operating system's code (`EADDRINUSE`, `ECONNREFUSED` ...) when there is one, and `cause`
 * the original Node error.
 *
 * @example
 * ```ts
 * try { await UdpCarrier.bind({ port: 10500 }); } catch (e) {
 *   if (e instanceof HipTransportError && e.code === 'ERR_TRANSPORT_BIND') console.log(e.details?.osCode);
 * }
 * ```
 */
export class HipTransportError extends HipError {
  constructor(code: TransportErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(code, message, details);
    if (cause !== undefined) this.cause = cause;
  }
}

/** Wrap a Node error (with its `code`, `errno`, `syscall`) into a {@link HipTransportError}. */
export function fromNodeError(
  code: TransportErrorCode,
  what: string,
  err: unknown,
  details?: Record<string, unknown>,
): HipTransportError {
  const e = err as (Error & { code?: unknown; syscall?: unknown }) | undefined;
  const osCode = typeof e?.code === 'string' ? e.code : undefined;
  const msg = e instanceof Error ? e.message : String(err);
  return new HipTransportError(code, `${what}: ${msg}`, { ...details, ...(osCode ? { osCode } : {}) }, err);
}
