/**
 * HiplServer: accepts byte streams from peers named by HIT, in the shape of net.Server.
 * @module
 */
import { HipArgumentError, HipError } from '../errors.js';
import type { HipHost } from '../host/host.js';
import { HostStream as HiplStream } from '../host/stream-mux.js';
import type { HiplLocalPort, HiplOwner } from './datagram.js';
import { NodeEmitter } from './emitter.js';

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
export class HiplServer extends NodeEmitter<HiplServerEvents> {
  private port: number | undefined;
  private closed = false;
  private isRefed = true;
  private readonly host: HipHost;

  /** @internal */
  constructor(
    private readonly owner: HiplOwner,
    onConnection?: (stream: HiplStream) => void,
  ) {
    super();
    this.host = owner.core;
    owner.track(this);
    if (onConnection) this.on('connection', onConnection);
  }

  /** @internal Whether the server keeps the process alive. */
  get refed(): boolean {
    return this.isRefed && !this.closed;
  }

  /** Keep the process alive while the server is open (the default), as net.Server's `ref()`. */
  ref(): this {
    this.isRefed = true;
    this.owner.refChanged();
    return this;
  }

  /** Let the process exit while the server is open, as net.Server's `unref()`. */
  unref(): this {
    this.isRefed = false;
    this.owner.refChanged();
    return this;
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

  /** Stop accepting streams; open streams stay (closing the host ends them). */
  close(callback?: () => void): void {
    if (callback) this.once('close', callback);
    if (this.closed) return;
    this.closed = true;
    if (this.port !== undefined) this.host.unlistenStream(this.port);
    this.owner.untrack(this);
    this.emit('close');
  }
}
