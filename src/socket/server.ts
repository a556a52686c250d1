/**
 * HiplServer: accepts byte streams from peers named by HIT, in the shape of net.Server.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { HipArgumentError, HipError } from '../errors.js';
import type { HipHost } from '../host/host.js';
import { HostStream as HiplStream } from '../host/stream-mux.js';
import type { HiplLocalPort } from './datagram.js';

// The stream class is the host's; the public name is HiplStream (one name per concept).
export { HiplStream };

/** Events of a {@link HiplServer}. */
export interface HiplServerEvents {
  /** A peer opened a stream (net.Server: `'connection'`). */
  connection: [stream: HiplStream];
  /** The server listens. */
  listening: [];
  /** The server stopped listening. */
  close: [];
  /** A failure not tied to one stream. */
  error: [err: HipError];
}

/**
 * Accepts streams on a port of its host. Streams come from any peer that completes a BEX with
 * the host; check `stream.remoteHit` (or set the engine's `policy`) to choose whom to serve.
 *
 * @example
 * ```ts
 * const server = host.createServer((stream) => stream.pipe(stream)); // echo
 * await server.listen(7);
 * ```
 */
export class HiplServer extends EventEmitter<HiplServerEvents> {
  private port: number | undefined;
  private closed = false;

  /** @internal */
  constructor(
    private readonly host: HipHost,
    onConnection?: (stream: HiplStream) => void,
  ) {
    super();
    if (onConnection) this.on('connection', onConnection);
  }

  /**
   * Listen on a stream port (0 picks a free one). Resolves the port. Over TCP carriers a
   * libhipl (HIPv1) peer's connection arrives on the port of the host's TCP listener.
   *
   * @throws HipArgumentError `ERR_HIP_PORT_IN_USE`, `ERR_HIP_INVALID_PORT`, `ERR_HIP_SERVER_LISTENING`.
   */
  async listen(port = 0): Promise<number> {
    if (this.closed) throw new HipError('ERR_HIP_SERVER_CLOSED', 'the server is closed');
    if (this.port !== undefined) throw new HipArgumentError('ERR_HIP_SERVER_LISTENING', `already listening on port ${this.port}`);
    this.port = this.host.listenStream(port, (stream) => {
      if (this.closed) stream.destroy();
      else this.emit('connection', stream);
    });
    this.emit('listening');
    return this.port;
  }

  /** The port listened on, or undefined. */
  address(): HiplLocalPort | undefined {
    return this.port === undefined ? undefined : { port: this.port };
  }

  /** Stop accepting streams; open streams stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.port !== undefined) this.host.unlistenStream(this.port);
    this.emit('close');
  }
}
