/**
 * HiplSocket: datagrams to and from peers named by HIT, in the shape of node:dgram.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { HipArgumentError, HipError } from '../errors.js';
import type { HipHost } from '../host/host.js';

/** The port a socket or server is bound to. */
export interface HiplLocalPort {
  /** The HIP-level port (not a UDP port). */
  port: number;
}

/** Where a datagram came from. */
export interface HiplRemoteInfo {
  /** The sender's HIT. */
  hit: string;
  /** The sender's port. */
  port: number;
}

/** Events of a {@link HiplSocket}. */
export interface HiplSocketEvents {
  /** A datagram arrived (node:dgram: `'message'` with `(msg, rinfo)`). */
  message: [data: Buffer, from: HiplRemoteInfo];
  /** The socket is bound. */
  listening: [];
  /** A send failed after it was accepted (e.g. the BEX failed), or the socket is unusable. */
  error: [err: HipError];
  /** The socket is closed. */
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
export class HiplSocket extends EventEmitter<HiplSocketEvents> {
  private port: number | undefined;
  private closed = false;

  /** @internal */
  constructor(private readonly host: HipHost) {
    super();
  }

  /**
   * Bind to a port (0 picks a free one). Resolves the port.
   *
   * @throws HipArgumentError `ERR_HIP_PORT_IN_USE`, `ERR_HIP_INVALID_PORT`, `ERR_HIP_SOCKET_BOUND`.
   */
  async bind(port = 0): Promise<number> {
    this.assertOpen();
    if (this.port !== undefined) throw new HipArgumentError('ERR_HIP_SOCKET_BOUND', `already bound to port ${this.port}`);
    this.port = this.host.bindDatagramPort(port, (data, info) => {
      if (!this.closed) this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.byteLength), { hit: info.hit, port: info.port });
    });
    this.emit('listening');
    return this.port;
  }

  /** The bound port, or undefined before bind. */
  address(): HiplLocalPort | undefined {
    return this.port === undefined ? undefined : { port: this.port };
  }

  /**
   * Send `data` to `hit`:`port`, binding a free port first if needed. Resolves once sent (after
   * the BEX if one had to run).
   *
   * @throws HipArgumentError `ERR_HIP_INVALID_HIT`, `ERR_HIP_INVALID_PORT`, `ERR_HIP_NO_LOCATOR`
   *   (no address known for the HIT: add one to `host.peers`); HipProtocolError
   *   `ERR_HIP_BEX_FAILED`, `ERR_HIP_QUEUE_FULL`, `ERR_HIP_SOCKET_CLOSED`.
   */
  async send(data: Uint8Array | string, hit: string, port: number): Promise<void> {
    this.assertOpen();
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', 'data must be a Uint8Array or a string');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HipArgumentError('ERR_HIP_INVALID_PORT', `not a port: ${port}`);
    if (this.port === undefined) await this.bind(0);
    await this.host.sendDatagram(hit, this.port!, port, bytes);
  }

  /** Stop receiving and release the port. The host and its associations stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.port !== undefined) this.host.unbindDatagramPort(this.port);
    this.emit('close');
  }

  private assertOpen(): void {
    if (this.closed) throw new HipError('ERR_HIP_SOCKET_CLOSED', 'the socket is closed');
  }
}
