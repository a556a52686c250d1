/**
 * Library-wide calls of the libhipl-style API: initialisation, the BEX feedback switch,
 * non-blocking mode, the HIT-to-address table, and the default identity.
 * @module
 */
import { isIP } from 'node:net';
import type { EngineOptions } from '../core/config.js';
import { isHit } from '../crypto/hit.js';
import type { HostIdentity } from '../crypto/identity.js';
import type { HostOptions } from '../host/host.js';
import { canonicalHit } from '../host/peer-table.js';
import { Errno, HIPL_LIB_LOG_DEBUG, HIPL_LIB_LOG_NONE, type HiplLibLogLevel } from './constants.js';
import type { HiplLogSink } from './log.js';
import { lib, toErrno } from './state.js';

/** Options of {@link hiplLibInitAll} that libhipl's C function does not have. */
export interface HiplLibOptions {
  /**
   * libhipl's clear-text mode for every socket created afterwards: HIPv1 as libhipl speaks it,
   * for talking to a real libhipl program. Needs an RSA identity (generated if `identity` is
   * not given) and, like libhipl, sends application data in CLEAR TEXT: INSECURE. Default
   * false: HIPv2 with ESP-protected data.
   */
  libhiplClearText?: boolean;
  /**
   * Old form of {@link libhiplClearText}: 1 for it, 2 for HIPv2.
   * @deprecated Use `libhiplClearText`.
   * @internal
   */
  version?: 1 | 2;
  /** Default identity of every socket (libhipl: the host's default HIT). Default: generated once. */
  identity?: HostIdentity;
  /** Protocol engine options of every host (puzzle, suites, retransmission ...). */
  engine?: EngineOptions;
  /** Host options of every host: `pcap`, `keylog`, `queueLimitBytes`, `stream` ... */
  host?: Pick<HostOptions, 'pcap' | 'keylog' | 'queueLimitBytes' | 'replayWindow' | 'stream' | 'provider'>;
  /** Where log lines go. Default: stderr. */
  log?: HiplLogSink;
  /**
   * NAT mode for every host (HIPL: `hipconf daemon nat plain-udp`): UDP-ENCAPSULATION,
   * keepalives on idle paths, liveness probes, moves announced to peers. Sockets keep the ports
   * they bind (as in libhipl, a socket's port is its carrier's). Default false.
   */
  natMode?: HostOptions['natMode'];
  /** How long {@link hiplClose} waits for the peer's CLOSE_ACK. Default 250 ms (libhipl: does not wait). */
  closeGraceMs?: number;
}

/**
 * Initialise the library (C: `hipl_lib_init_all`). Call it first; calling it again changes the
 * level and options for sockets created afterwards.
 *
 * @param logLevel one of `HIPL_LIB_LOG_DEBUG`, `_INFO`, `_ERROR`, `_NONE`.
 * @returns 0, or `-EINVAL` for an unknown level or unusable options (libhipl: -1).
 * @example
 * ```ts
 * await hiplLibInitAll(HIPL_LIB_LOG_NONE);
 * ```
 */
export async function hiplLibInitAll(logLevel: HiplLibLogLevel, options: HiplLibOptions = {}): Promise<number> {
  if (!Number.isInteger(logLevel) || logLevel < HIPL_LIB_LOG_DEBUG || logLevel > HIPL_LIB_LOG_NONE) return -Errno.EINVAL;
  if (options.version !== undefined && options.version !== 1 && options.version !== 2) return -Errno.EINVAL;
  if (options.libhiplClearText !== undefined && typeof options.libhiplClearText !== 'boolean') return -Errno.EINVAL;
  if (options.closeGraceMs !== undefined && (!Number.isFinite(options.closeGraceMs) || options.closeGraceMs < 0)) return -Errno.EINVAL;
  const version = options.libhiplClearText === undefined ? (options.version ?? lib.version) : options.libhiplClearText ? 1 : 2;
  try {
    // HIPv1 HITs exist only for RSA keys: refuse a default identity libhipl could not talk to.
    options.identity?.hit(version);
  } catch {
    return -Errno.EINVAL;
  }
  if (version !== lib.version && !options.identity) lib.identity = undefined;
  lib.version = version;
  if (options.identity) lib.identity = options.identity;
  if (options.engine) lib.engine = options.engine;
  if (options.host) lib.hostOptions = options.host;
  if (options.log) lib.log.sink = options.log;
  if (options.natMode !== undefined) lib.hostOptions = { ...lib.hostOptions, natMode: options.natMode };
  if (options.closeGraceMs !== undefined) lib.closeGraceMs = options.closeGraceMs;
  lib.configure(logLevel);
  try {
    lib.defaultIdentity();
  } catch (e) {
    return toErrno(e);
  }
  return 0;
}

/**
 * Turn BEX feedback on or off (C: `hipl_lib_set_bex_feedback`). On: every send or receive call
 * on a socket whose association is not yet established processes at most one received HIP
 * control packet and resolves `-EWAITBEX`, or `-EBEXESTABLISHED` for the call that completes the
 * BEX. Off (default): those calls resolve once the BEX is done.
 */
export function hiplLibSetBexFeedback(on: boolean): void {
  lib.ensureInit();
  lib.feedback = on === true;
  lib.updateAllStepping();
  for (const s of lib.sockets.values()) s.notify();
}

/** Whether BEX feedback is on (C: `hipl_lib_bex_feedback`). */
export function hiplLibBexFeedback(): boolean {
  return lib.feedback;
}

/**
 * Non-blocking mode of one socket (C: `hipl_lib_set_nonblock`): receive and accept calls with
 * nothing to return resolve `-EAGAIN`, and a connect resolves `-EINPROGRESS`, instead of waiting.
 *
 * @returns 0, or `-EBADF` for an unknown id.
 */
export async function hiplLibSetNonblock(id: number, on: boolean): Promise<number> {
  const sock = lib.sockets.get(id);
  if (!sock) return -Errno.EBADF;
  sock.nonblock = on === true;
  return 0;
}

/**
 * C: `hipl_lib_get_sockfd`. There are no file descriptors here: the id itself is what
 * {@link hiplSelect} waits on, so this returns the id (or -1 for an unknown one, as libhipl
 * does), letting ported code keep its shape.
 */
export function hiplLibGetSockfd(id: number): number {
  return lib.sockets.has(id) ? id : -1;
}

/**
 * Map a peer's HIT to an IP address (C: `hipl_add_peer_info`). Sends to that HIT go to this
 * address at the port the send names. Several calls add several addresses; the first is tried.
 *
 * @param hit the peer's HIT as IPv6 text.
 * @param addr an IPv4 or IPv6 address.
 * @returns 0, or `-EINVAL` for a string that is not a HIT or an address (libhipl: -1).
 * @example
 * ```ts
 * await hiplAddPeerInfo('2001:2c:9e5a:fb8:e1b2:7c09:5a6c:3b6e', '127.0.0.1');
 * ```
 */
export async function hiplAddPeerInfo(hit: string, addr: string): Promise<number> {
  if (typeof hit !== 'string' || typeof addr !== 'string') return -Errno.EINVAL;
  if (!isHit(hit) || isIP(addr) === 0) return -Errno.EINVAL;
  lib.ensureInit();
  const key = canonicalHit(hit);
  const list = lib.peerInfo.get(key) ?? [];
  if (!list.includes(addr)) list.push(addr);
  lib.peerInfo.set(key, list);
  return 0;
}

/**
 * The HIT of the default identity (what libhipl's test gets from `hip_get_default_hit`): for
 * HIPv2 an ORCHIDv2 HIT, for HIPv1 (libhipl) an ORCHIDv1 one. Not in lhipl.h.
 */
export function hiplGetDefaultHit(): string {
  lib.ensureInit();
  return lib.defaultIdentity().hitString(lib.version);
}
