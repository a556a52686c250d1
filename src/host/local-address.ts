/**
 * Which local address packets to a peer really leave from, for the pcap tap and the keylog. A
 * socket bound to a wildcard (`0.0.0.0`, `::`) does not say: the kernel picks the source per
 * packet from its routes. A connected UDP socket asks the same question (a route lookup; nothing
 * is sent), so each peer address is looked up once and remembered.
 * @module
 */
import { createSocket } from 'node:dgram';

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/** True for an address a socket binds to mean "any local address". */
export function isWildcard(address: string): boolean {
  return WILDCARDS.has(address);
}

/**
 * The source address the operating system would use to reach `address` (IPv4 or IPv6), or
 * undefined when it has no route there.
 */
export function routeSource(address: string, family: 4 | 6): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (v: string | undefined) => {
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve(v);
    };
    s.once('error', () => done(undefined));
    s.unref();
    // Port 9 (discard) is only the route lookup's destination: connect() on UDP sends nothing.
    s.connect(9, address, () => {
      try {
        done(s.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

/** Remembered route sources by peer address; a lookup runs once per address. */
export class LocalAddressBook {
  readonly #known = new Map<string, string>();
  readonly #pending = new Map<string, Promise<string | undefined>>();
  /** At most this many peer addresses are remembered (the oldest are forgotten first). */
  static readonly LIMIT = 4096;

  /** The source address for a peer address, if already looked up. */
  get(address: string): string | undefined {
    return this.#known.get(address);
  }

  /** Look the source address for a peer address up (once; later calls share the answer). */
  resolve(address: string, family: 4 | 6): Promise<string | undefined> {
    const known = this.#known.get(address);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.#pending.get(address);
    if (!p) {
      p = routeSource(address, family).then((src) => {
        this.#pending.delete(address);
        if (src !== undefined) {
          if (this.#known.size >= LocalAddressBook.LIMIT) this.#known.delete(this.#known.keys().next().value as string);
          this.#known.set(address, src);
        }
        return src;
      });
      this.#pending.set(address, p);
    }
    return p;
  }
}
