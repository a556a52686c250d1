/**
 * Making TCP connections for HIP: {@link TcpListener} accepts them (and can tell which framing
 * the peer speaks), {@link tcpConnect} opens them.
 * @module
 */

import { type Server, type Socket, connect as netConnect, createServer, isIP } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { HipArgumentError } from '../errors.js';
import { HipTransportError, TransportErrorCode, fromNodeError } from './errors.js';
import { type CarrierPeer, checkDestination, checkPort, peerFromNode } from './peer.js';
import { TcpConnection } from './tcp-connection.js';
import type { Framing } from './tcp-framing.js';
import { resolveBindAddress } from './udp-carrier.js';

/** Default time an accepted connection may stay silent before its framing is known. */
export const DEFAULT_DETECT_TIMEOUT_MS = 30_000;

/** Default cap on accepted connections not yet verified (see {@link TcpListenOptions.maxUnverified}). */
export const DEFAULT_MAX_UNVERIFIED = 128;

/** Default time an accepted connection has to get verified (its base exchange done). */
export const DEFAULT_VERIFY_TIMEOUT_MS = 30_000;

/** Default time an unverified connection may stay silent once it has sent something. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** Options of {@link TcpListener.listen}. */
export interface TcpListenOptions {
  /** Local address; defaults to `'0.0.0.0'` for family 4 and `'::'` for family 6. */
  address?: string;
  /** Local port; 0 (the default) picks an ephemeral one. */
  port?: number;
  /** IP version; defaults to the family of `address`, else 4. */
  family?: 4 | 6;
  /** On a family-6 listener, refuse IPv4 (IPV6_V6ONLY). Default false. */
  ipv6Only?: boolean;
  /**
   * The framing of accepted connections. `'auto'` (the default) waits for the first 2 bytes:
   * a hipl frame starts with a non-zero length, a libhipl control message with the zero
   * marker, so two zero bytes mean libhipl.
   */
  framing?: Framing | 'auto';
  /** Passed to each {@link TcpConnection}: see {@link TcpConnectionOptions.controlPauseMs}. */
  controlPauseMs?: number;
  /** Passed to each {@link TcpConnection}: see {@link TcpConnectionOptions.partialHoldMs}. */
  partialHoldMs?: number;
  /** With `'auto'` framing, drop a connection that sends fewer than 2 bytes in this time. Default 30 s. */
  detectTimeoutMs?: number;
  /**
   * At most this many accepted connections are held before the owner vouches for them
   * ({@link TcpConnection.markVerified}); one more closes the oldest of them. Default 128.
   */
  maxUnverified?: number;
  /** A connection not verified this long after it was accepted is closed. Default 30 000 ms. */
  verifyTimeoutMs?: number;
  /**
   * A connection not yet verified that has sent something and then nothing for this long is
   * closed. Before its first byte only `verifyTimeoutMs` (and `detectTimeoutMs`) apply: a libhipl
   * peer connects and sends its I1 only with the application's first write. Default 10 000 ms.
   */
  idleTimeoutMs?: number;
}

/** Counters of a {@link TcpListener}'s admission of strangers. */
export interface TcpListenerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections open and not yet verified (now). */
  unverified: number;
  /** Unverified connections closed to make room under `maxUnverified`. */
  evicted: number;
  /** Connections closed for not being verified within `verifyTimeoutMs`. */
  verifyTimeouts: number;
  /** Unverified connections closed for being silent `idleTimeoutMs`. */
  idleTimeouts: number;
}

/** Events of a {@link TcpListener}. */
export interface TcpListenerEvents {
  /** A connection was accepted; with `'auto'` framing, once its framing is known. */
  connection: [conn: TcpConnection];
  /** The listening socket reported an error after it started listening. */
  error: [err: Error];
  /** The listener is closed. */
  close: [];
}

/**
 * A listening TCP socket that hands out {@link TcpConnection}s.
 *
 * With `'auto'` framing a connection is announced only once its first 2 bytes have arrived and
 * told its framing; a HIP peer always speaks first (I1), so this costs nothing. Connections
 * that close or stay silent (`detectTimeoutMs`) before that are dropped unannounced.
 *
 * @example
 * ```ts
 * const listener = await TcpListener.listen({ port: 22300 });
 * listener.on('connection', (conn) => {
 *   console.log(conn.remote, conn.framing); // 'hipl' or 'libhipl'
 *   conn.on('hip', (packet) => engine.receive(packet, conn));
 * });
 * ```
 */
export class TcpListener extends EventEmitter<TcpListenerEvents> {
  /** The local address and port being listened on. */
  readonly local: CarrierPeer;

  readonly #server: Server;
  readonly #opts: TcpListenOptions;
  readonly #connections = new Set<TcpConnection>();
  /** Accepted sockets whose framing is not known yet. */
  readonly #detecting = new Map<Socket, NodeJS.Timeout>();
  /** Accepted sockets not yet verified, oldest first, with their verification deadline. */
  readonly #unverified = new Map<Socket, NodeJS.Timeout>();
  /** Admission counters. */
  readonly stats: TcpListenerStats = { accepted: 0, unverified: 0, evicted: 0, verifyTimeouts: 0, idleTimeouts: 0 };
  #refed = true;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, opts: TcpListenOptions) {
    super();
    this.#server = server;
    this.#opts = opts;
    const a = server.address();
    this.local =
      a && typeof a === 'object'
        ? peerFromNode(a.address, a.port, a.family)
        : { address: opts.address ?? '0.0.0.0', port: opts.port ?? 0, family: 4 };
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (err) => this.emit('error', fromNodeError(TransportErrorCode.SOCKET, 'TCP listener error', err)));
  }

  /**
   * Start listening.
   *
   * @throws {@link HipTransportError} `ERR_TRANSPORT_BIND` (rejected) when the address cannot be
   *   bound; `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for bad options.
   */
  static listen(opts: TcpListenOptions = {}): Promise<TcpListener> {
    let address: string;
    try {
      ({ address } = resolveBindAddress(opts.address, opts.family));
      checkPort(opts.port ?? 0, 0);
      const f = opts.framing ?? 'auto';
      if (f !== 'auto' && f !== 'hipl' && f !== 'libhipl') {
        throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, "framing must be 'auto', 'hipl' or 'libhipl'", {
          framing: f,
        });
      }
      checkTimeout(opts.detectTimeoutMs, 'detectTimeoutMs');
      checkTimeout(opts.verifyTimeoutMs, 'verifyTimeoutMs');
      checkTimeout(opts.idleTimeoutMs, 'idleTimeoutMs');
      const max = opts.maxUnverified;
      if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
        throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'maxUnverified must be an integer of at least 1', {
          maxUnverified: max,
        });
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<TcpListener>((resolve, reject) => {
      // Half-open: a peer's FIN must not drop what we still have to say (a CLOSE_ACK, say).
      const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
      const onError = (err: Error): void => {
        server.close();
        reject(
          fromNodeError(TransportErrorCode.BIND, `cannot listen on TCP ${address}:${opts.port ?? 0}`, err, {
            address,
            port: opts.port ?? 0,
          }),
        );
      };
      server.once('error', onError);
      server.listen({ host: address, port: opts.port ?? 0, ipv6Only: opts.ipv6Only === true, exclusive: true }, () => {
        server.off('error', onError);
        resolve(new TcpListener(server, opts));
      });
    });
  }

  /** The connections accepted and still open (framing known). */
  get connections(): ReadonlySet<TcpConnection> {
    return this.#connections;
  }

  /**
   * Stop accepting, destroy every connection it accepted, and resolve once all is closed.
   * Idempotent. With `lingering`, accepted connections already {@link TcpConnection.ending}
   * are left to send what they queued and their FIN and to close by themselves (their owner
   * bounds how long), and it resolves once the listener stops accepting.
   */
  close(opts: { lingering?: boolean } = {}): Promise<void> {
    if (!this.#closing) {
      this.#closing = new Promise<void>((resolve) => {
        for (const [socket, timer] of this.#detecting) {
          clearTimeout(timer);
          socket.destroy();
        }
        this.#detecting.clear();
        for (const timer of this.#unverified.values()) clearTimeout(timer);
        for (const c of this.#connections) if (!(opts.lingering === true && c.ending)) c.destroy();
        this.#server.close(() => {
          this.emit('close');
          resolve();
        });
        if (opts.lingering === true) resolve();
      });
    }
    return this.#closing;
  }

  /** Let the listener keep the process alive (the default). */
  ref(): void {
    this.#refed = true;
    this.#server.ref();
  }

  /** Let the process exit while the listener is open; accepted connections keep their own ref. */
  unref(): void {
    this.#refed = false;
    this.#server.unref();
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#admit(socket);
    const framing = this.#opts.framing ?? 'auto';
    if (framing !== 'auto') {
      this.#announce(socket, framing, undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(() => socket.destroy(), this.#opts.detectTimeoutMs ?? DEFAULT_DETECT_TIMEOUT_MS);
    if (!this.#refed) timer.unref();
    this.#detecting.set(socket, timer);
    const forget = (): void => {
      clearTimeout(timer);
      this.#detecting.delete(socket);
      socket.off('data', onData);
      socket.off('close', forget);
      socket.off('error', ignore);
    };
    const ignore = (): void => {};
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < 2) return;
      socket.pause();
      forget();
      const first = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.#announce(socket, first[0] === 0 && first[1] === 0 ? 'libhipl' : 'hipl', first);
    };
    socket.on('data', onData);
    socket.on('close', forget);
    // Errors before the connection is announced have nobody to tell; 'close' follows.
    socket.on('error', ignore);
    socket.resume();
  }

  #announce(socket: Socket, framing: Framing, initialData: Uint8Array | undefined): void {
    const conn = new TcpConnection(socket, {
      framing,
      ...(this.#opts.controlPauseMs !== undefined ? { controlPauseMs: this.#opts.controlPauseMs } : {}),
      ...(this.#opts.partialHoldMs !== undefined ? { partialHoldMs: this.#opts.partialHoldMs } : {}),
      ...(initialData ? { initialData } : {}),
    });
    this.#connections.add(conn);
    conn.once('close', () => this.#connections.delete(conn));
    conn.once('verified', () => this.#release(socket));
    this.emit('connection', conn);
  }

  /**
   * Hold a stranger's connection under the admission rules (issue 8): a slot among at most
   * `maxUnverified` (the oldest gives way), a deadline to get verified, and an idle deadline.
   */
  #admit(socket: Socket): void {
    this.stats.accepted++;
    if (this.#unverified.size >= (this.#opts.maxUnverified ?? DEFAULT_MAX_UNVERIFIED)) {
      const oldest = this.#unverified.keys().next().value as Socket;
      this.#release(oldest);
      this.stats.evicted++;
      oldest.destroy();
    }
    const deadline = setTimeout(() => {
      if (!this.#unverified.has(socket)) return;
      this.#release(socket);
      this.stats.verifyTimeouts++;
      socket.destroy();
    }, this.#opts.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS);
    if (!this.#refed) deadline.unref();
    this.#unverified.set(socket, deadline);
    this.stats.unverified = this.#unverified.size;
    socket.setTimeout(this.#opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    socket.on('timeout', () => {
      // Silence before the first byte is left to the verification deadline (see idleTimeoutMs).
      if (!this.#unverified.has(socket) || socket.bytesRead === 0) return;
      this.#release(socket);
      this.stats.idleTimeouts++;
      socket.destroy();
    });
    socket.once('close', () => this.#release(socket));
  }

  /** Lift the admission rules from a socket (verified, closed or evicted). */
  #release(socket: Socket): void {
    const deadline = this.#unverified.get(socket);
    if (deadline === undefined) return;
    clearTimeout(deadline);
    this.#unverified.delete(socket);
    this.stats.unverified = this.#unverified.size;
    if (!socket.destroyed) socket.setTimeout(0);
  }
}

/** Options of {@link tcpConnect}. */
export interface TcpConnectOptions {
  /** The peer's IP address (no host names: HIP locators are addresses). */
  address: string;
  /** The peer's port. */
  port: number;
  /** The framing to speak; default `'hipl'`. Use `'libhipl'` for a HIPL libhipl peer. */
  framing?: Framing;
  /** Local address to connect from. */
  localAddress?: string;
  /** Local port to connect from. */
  localPort?: number;
  /** Cancels the attempt; the promise then rejects with `ERR_TRANSPORT_ABORTED`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds with `ERR_TRANSPORT_TIMEOUT`. Default: the OS timeout. */
  timeoutMs?: number;
  /** Passed to the {@link TcpConnection}: see {@link TcpConnectionOptions.controlPauseMs}. */
  controlPauseMs?: number;
  /** Passed to the {@link TcpConnection}: see {@link TcpConnectionOptions.partialHoldMs}. */
  partialHoldMs?: number;
}

/**
 * Open a TCP connection for HIP.
 *
 * @throws {@link HipTransportError} (rejected) `ERR_TRANSPORT_CONNECT` when the connection fails
 *   (`details.osCode` e.g. `'ECONNREFUSED'`), `ERR_TRANSPORT_TIMEOUT`, `ERR_TRANSPORT_ABORTED`;
 *   `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const conn = await tcpConnect({ address: '::1', port: 22300, timeoutMs: 5000 });
 * conn.sendHip(i1);
 * ```
 */
export function tcpConnect(opts: TcpConnectOptions): Promise<TcpConnection> {
  let family: 4 | 6;
  try {
    if (opts === null || typeof opts !== 'object') {
      throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'tcpConnect needs an options object', {});
    }
    const kind = isIP(typeof opts.address === 'string' ? opts.address : '');
    if (kind === 0) {
      throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'address is not an IP address', { address: opts.address });
    }
    family = kind as 4 | 6;
    checkDestination({ address: opts.address, port: opts.port, family });
    if (opts.localAddress !== undefined && isIP(opts.localAddress) === 0) {
      throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'localAddress is not an IP address', {
        localAddress: opts.localAddress,
      });
    }
    if (opts.localPort !== undefined) checkPort(opts.localPort, 0);
    const f = opts.framing ?? 'hipl';
    if (f !== 'hipl' && f !== 'libhipl') {
      throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, "framing must be 'hipl' or 'libhipl'", { framing: f });
    }
    checkTimeout(opts.timeoutMs, 'timeoutMs');
  } catch (e) {
    return Promise.reject(e);
  }
  const where = { address: opts.address, port: opts.port };
  const signal = opts.signal;
  if (signal?.aborted) {
    return Promise.reject(new HipTransportError(TransportErrorCode.ABORTED, 'TCP connect aborted', where, signal.reason));
  }
  return new Promise<TcpConnection>((resolve, reject) => {
    const socket = netConnect({
      host: opts.address,
      port: opts.port,
      family,
      noDelay: true,
      allowHalfOpen: true,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: HipTransportError): void => {
      settle();
      // Keep a late socket error from surfacing as an unhandled 'error'.
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      settle();
      resolve(
        new TcpConnection(socket, {
          framing: opts.framing ?? 'hipl',
          ...(opts.controlPauseMs !== undefined ? { controlPauseMs: opts.controlPauseMs } : {}),
          ...(opts.partialHoldMs !== undefined ? { partialHoldMs: opts.partialHoldMs } : {}),
        }),
      );
    };
    const onError = (err: Error): void =>
      fail(fromNodeError(TransportErrorCode.CONNECT, `TCP connect to ${opts.address}:${opts.port} failed`, err, where));
    const onAbort = (): void =>
      fail(new HipTransportError(TransportErrorCode.ABORTED, 'TCP connect aborted', where, signal?.reason));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          fail(
            new HipTransportError(TransportErrorCode.TIMEOUT, `TCP connect timed out after ${opts.timeoutMs} ms`, {
              ...where,
              timeoutMs: opts.timeoutMs,
            }),
          ),
        opts.timeoutMs,
      );
    }
  });
}

function checkTimeout(v: number | undefined, name: string): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, `${name} must be a non-negative number`, { [name]: v });
  }
}
