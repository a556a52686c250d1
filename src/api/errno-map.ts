/**
 * Turns the typed errors of the layers below into the negative errno values a libhipl caller
 * expects, so no failure reaches such a caller as an exception.
 * @module
 */
import { HipError } from '../errors.js';
import { Errno, type ErrnoName } from './constants.js';

const BY_HIP_CODE: Readonly<Record<string, ErrnoName>> = {
  ERR_HIP_INVALID_HIT: 'EINVAL',
  ERR_HIP_INVALID_ADDRESS: 'EINVAL',
  ERR_HIP_INVALID_PORT: 'EINVAL',
  ERR_HIP_INVALID_ARGUMENT: 'EINVAL',
  ERR_TRANSPORT_BAD_ARGUMENT: 'EINVAL',
  ERR_HIP_PORT_IN_USE: 'EADDRINUSE',
  ERR_HIP_NO_LOCATOR: 'EHOSTUNREACH',
  ERR_HIP_SELF: 'EINVAL',
  ERR_HIP_CONNECT_TIMEOUT: 'ETIMEDOUT',
  ERR_HIP_NO_CARRIER: 'ENETUNREACH',
  ERR_HIP_QUEUE_FULL: 'ENOBUFS',
  ERR_HIP_ASSOCIATION_LIMIT: 'ENOBUFS',
  ERR_HIP_CLOSED: 'ECONNRESET',
  ERR_HIP_STREAM_RESET: 'ECONNRESET',
  ERR_HIP_STREAM_REFUSED: 'ECONNREFUSED',
  ERR_HIP_HOST_CLOSED: 'EBADF',
  ERR_HIP_ABORTED: 'ECANCELED',
  ERR_HIP_DATAGRAM_TOO_LARGE: 'EMSGSIZE',
  ERR_TRANSPORT_TOO_LARGE: 'EMSGSIZE',
  ERR_TRANSPORT_TIMEOUT: 'ETIMEDOUT',
  ERR_TRANSPORT_ABORTED: 'ECANCELED',
  ERR_TRANSPORT_CLOSED: 'EPIPE',
  ERR_TRANSPORT_CONNECT: 'ECONNREFUSED',
  ERR_TRANSPORT_BIND: 'EADDRINUSE',
  ERR_IDENTITY_UNSUPPORTED: 'EAFNOSUPPORT',
};

const BEX_FAILURE: Readonly<Record<string, ErrnoName>> = {
  timeout: 'ETIMEDOUT',
  'peer-notify': 'ECONNREFUSED',
  unreachable: 'EHOSTUNREACH',
};

/**
 * The errno (positive) that best describes an error: the operating system's own code when a
 * socket call failed, else one chosen per hipl error code; `EIO` when nothing fits.
 */
export function errnoOf(err: unknown): number {
  const os = osCodeOf(err);
  if (os && os in Errno) return Errno[os as ErrnoName];
  if (err instanceof HipError) {
    if (err.code === 'ERR_HIP_BEX_FAILED') {
      const reason = typeof err.details?.reason === 'string' ? err.details.reason : '';
      return Errno[BEX_FAILURE[reason] ?? 'ECONNREFUSED'];
    }
    const name = BY_HIP_CODE[err.code];
    if (name) return Errno[name];
  }
  return Errno.EIO;
}

function osCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; details?: { osCode?: unknown } };
  if (err instanceof HipError) return typeof e.details?.osCode === 'string' ? e.details.osCode : undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}
