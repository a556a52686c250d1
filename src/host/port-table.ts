/**
 * The inner ports of a host (datagram ports, stream listening ports): which are taken, and a
 * free one when the caller asks for port 0.
 * @module
 */
import { HipArgumentError } from '../errors.js';

/** First port handed out for port 0 (the IANA dynamic range). */
const DYNAMIC_FIRST = 49152;

/** Port → handler, with validation and free-port selection. */
export class PortTable<T> {
  private readonly entries = new Map<number, T>();

  /** @param what names the ports in error messages, e.g. "datagram port". */
  constructor(private readonly what: string) {}

  /** Take `port` (0: a free one from 49152 up) for `value`. Returns the port. */
  bind(port: number, value: T, isFree: (p: number) => boolean = () => true): number {
    const p = port === 0 ? this.free(isFree) : port;
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new HipArgumentError('ERR_HIP_INVALID_PORT', `not a port: ${port}`);
    if (this.entries.has(p)) throw new HipArgumentError('ERR_HIP_PORT_IN_USE', `${this.what} ${p} is already in use`);
    this.entries.set(p, value);
    return p;
  }

  /** Release a port. */
  unbind(port: number): void {
    this.entries.delete(port);
  }

  /** The value bound to a port. */
  get(port: number): T | undefined {
    return this.entries.get(port);
  }

  /** Whether a port is bound. */
  has(port: number): boolean {
    return this.entries.has(port);
  }

  /** A port from 49152 up that is not bound here and passes `isFree`. */
  free(isFree: (p: number) => boolean = () => true): number {
    for (let p = DYNAMIC_FIRST; p <= 65535; p++) if (!this.entries.has(p) && isFree(p)) return p;
    throw new HipArgumentError('ERR_HIP_PORT_IN_USE', `no free ${this.what}`);
  }
}
