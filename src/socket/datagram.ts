/**
 * HiplSocket: datagrams to and from peers named by HIT, in the shape of node:dgram.
 * @module
 */
import { HipArgumentError, HipError } from '../errors.js';
import type { HipHost } from '../host/host.js';
import { NodeEmitter } from './emitter.js';

/** The port a socket or server is bound to. */
export interface HiplLocalPort {
  /** The HIP-level port (not a UDP port). */
  port: number;
}

/** Where a datagram came from (node:dgram's `rinfo`, with the sender's HIT beside its locator). */
export interface HiplRemoteInfo {
  /** The sender's HIT. */
  hit: string;
  /** The sender's (HIP-level) port. */
  port: number;
  /** The sender's IP address: the locator its association runs over. */
  address: string;
  /** `'IPv4'` or `'IPv6'`, of `address`. */
  family: 'IPv4' | 'IPv6';
  /** Bytes of the datagram. */
  size: number;
}

/**
 * What a socket or server needs from the {@link HiplHost} that made it: the host underneath, and
 * bookkeeping so that closing the host closes it and its ref state keeps the process alive.
 * @internal
 */
export interface HiplOwner {
  /** The host underneath. */
  readonly core: HipHost;
  /** The socket, server or stream is open: close it with the host. */
  track(user: HiplUser): void;
  /** It closed. */
  untrack(user: HiplUser): void;
  /** Its ref state changed. */
  refChanged(): void;
  /**
   * In libhipl mode, the UDP carrier's port: clear-text datagrams carry no HIP ports, so a
   * datagram socket must be bound to it. Undefined otherwise.
   */
  readonly libhiplPort: number | undefined;
}

/** A socket or server of a host, as the host sees it. @internal */
export interface HiplUser {
  /** Whether it keeps the process alive. */
  readonly refed: boolean;
  /** Close it (the host is closing). */
  close(): void;
}

/** Events of a {@link HiplSocket}. */
export interface HiplSocketEvents {
  /** A datagram arrived (node:dgram: `'message'` with `(msg, rinfo)`). */
  message: [data: Buffer, from: HiplRemoteInfo];
  /** The socket is bound. */
  listening: [];
  /** A send failed after it was accepted (e.g. the BEX failed), or the socket is unusable. */
  error: [err: HipError];
  /** The socket is closed (by `close()` or because its host closed). */
  close: [];
}

/**
 * A datagram socket over HIP: send to `hit`:`port`, receive with the sender's HIT. The first
 * send to a HIT runs the base exchange; datagrams sent meanwhile are queued and delivered, in
 * order, once it is done. Ports are HIP-level ports, not UDP ports: every socket of a host
 * shares the host's UDP carrier.
 *
 * @example
 * ```ts
 * const sock = host.createSocket('udp');
 * await sock.bind(7);
 * sock.on('message', (data, { hit, port }) => sock.send(data, hit, port)); // echo
 * ```
 */
export class HiplSocket extends NodeEmitter<HiplSocketEvents> {
  private port: number | undefined;
  private closed = false;
  private isRefed = true;
  private readonly host: HipHost;

  /** @internal */
  constructor(private readonly owner: HiplOwner) {
    super();
    this.host = owner.core;
    owner.track(this);
  }

  /** @internal Whether the socket keeps the process alive. */
  get refed(): boolean {
    return this.isRefed && !this.closed;
  }

  /** Keep the process alive while the socket is open (the default), as dgram's `ref()`. */
  ref(): this {
    this.isRefed = true;
    this.owner.refChanged();
    return this;
  }

  /**
   * Let the process exit while the socket is open, as dgram's `unref()`. The host's carriers
   * stay referenced while any referenced socket or server of the host is open.
   */
  unref(): this {
    this.isRefed = false;
    this.owner.refChanged();
    return this;
  }

  /**
   * Bind to a port (0 picks a free one). Resolves the port. On a `libhipl` host the port is the
   * UDP carrier's (0 picks it), since libhipl's clear-text data carries no HIP ports.
   *
   * @throws HipArgumentError `ERR_HIP_PORT_IN_USE`, `ERR_HIP_INVALID_PORT`, `ERR_HIP_SOCKET_BOUND`,
   *   `ERR_HIP_LIBHIPL_PORT` (another port on a libhipl host).
   */
  async bind(port = 0): Promise<number> {
    this.assertOpen();
    if (this.port !== undefined) throw new HipArgumentError('ERR_HIP_SOCKET_BOUND', `already bound to port ${this.port}`);
    const fixed = this.owner.libhiplPort;
    if (fixed !== undefined) {
      // libhipl's data travels in clear on the carrier, without HIP ports: replies arrive at the
      // carrier's port, so a socket anywhere else would never see them.
      if (port !== 0 && port !== fixed) {
        throw new HipArgumentError('ERR_HIP_LIBHIPL_PORT', `a libhipl host's datagram socket uses the UDP carrier port ${fixed} (libhipl data carries no HIP ports): bind(${fixed}) or bind(), not bind(${port})`);
      }
      port = fixed;
    }
    this.port = this.host.bindDatagramPort(port, (data, info) => {
      if (!this.closed) {
        this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.byteLength), { hit: info.hit, port: info.port, address: info.address, family: info.family === 6 ? 'IPv6' : 'IPv4', size: data.byteLength });
      }
    });
    this.emit('listening');
    return this.port;
  }

  /** The bound port, or undefined before bind. */
  address(): HiplLocalPort | undefined {
    return this.port === undefined ? undefined : { port: this.port };
  }

  /**
   * Send `data` to `hit`:`port`, binding a free port first if needed. Sends after the BEX if one
   * has to run (datagrams given meanwhile are queued, in order).
   *
   * In node:dgram's shape: with a `callback`, the outcome goes to it (`null` or the error).
   * Without one, the returned Promise resolves once sent or rejects; it never becomes an
   * unhandled rejection when ignored, and the failure is also emitted as `'error'` when the
   * socket has an `'error'` listener.
   *
   * @throws HipArgumentError `ERR_HIP_INVALID_HIT`, `ERR_HIP_INVALID_PORT`, `ERR_HIP_NO_LOCATOR`
   *   (no address known for the HIT: add one to `host.peers`); HipProtocolError
   *   `ERR_HIP_BEX_FAILED`, `ERR_HIP_CONNECT_TIMEOUT`, `ERR_HIP_QUEUE_FULL`,
   *   `ERR_HIP_SOCKET_CLOSED` (as rejection, callback argument or event; never synchronously).
   * @example
   * ```ts
   * sock.send('ping', peerHit, 7, (err) => { if (err) console.error(err.code); });
   * await sock.send('pong', peerHit, 7);
   * ```
   */
  send(data: Uint8Array | string, hit: string, port: number, callback?: (err: HipError | null) => void): Promise<void> {
    const done = this.sendNow(data, hit, port);
    const sent = done.then(
      () => callback?.(null),
      (e: unknown) => {
        const err = e instanceof HipError ? e : new HipError('ERR_HIP_SEND', String(e));
        if (callback) callback(err);
        else if (this.listenerCount('error') > 0) this.emit('error', err);
      },
    );
    if (callback) return sent;
    // Marked handled: ignoring the Promise never crashes the process; awaiting it still rejects.
    done.catch(() => undefined);
    return done;
  }

  private async sendNow(data: Uint8Array | string, hit: string, port: number): Promise<void> {
    this.assertOpen();
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', 'data must be a Uint8Array or a string');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HipArgumentError('ERR_HIP_INVALID_PORT', `not a port: ${port}`);
    if (this.port === undefined) await this.bind(0);
    await this.host.sendDatagram(hit, this.port!, port, bytes);
  }

  /** Stop receiving and release the port. The host and its associations stay. */
  close(callback?: () => void): void {
    if (callback) this.once('close', callback);
    if (this.closed) return;
    this.closed = true;
    if (this.port !== undefined) this.host.unbindDatagramPort(this.port);
    this.owner.untrack(this);
    this.emit('close');
  }

  private assertOpen(): void {
    if (this.closed) throw new HipError('ERR_HIP_SOCKET_CLOSED', 'the socket is closed');
  }
}
