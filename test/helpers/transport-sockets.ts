/**
 * Small helpers for tests on real loopback sockets: waiting for events with a deadline,
 * closing everything a test opened, and finding out whether ::1 works here.
 */

import { createSocket } from 'node:dgram';

/** Resolve with the arguments of the next `event`, or reject after `ms`. */
export function nextEvent<A extends unknown[]>(target: object, event: string, ms = 5000): Promise<A> {
  // Typed emitters (eventemitter3, node:events) differ in their method generics; one loose view fits all.
  const emitter = target as {
    once(event: string, fn: (...args: A) => void): unknown;
    off(event: string, fn: (...args: A) => void): unknown;
  };
  return new Promise<A>((resolve, reject) => {
    const fn = (...args: A): void => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, fn);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    emitter.once(event, fn);
  });
}

/** Poll `cond` until it holds, or reject after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // setImmediate lets pending I/O callbacks run without the 1 ms floor of a timer.
    await new Promise((r) => setImmediate(r));
  }
}

/** Wait a little, for asserting that nothing (more) arrives. */
export function settle(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Things to close after each test, in reverse order of registration. */
export class Closer {
  readonly #fns: Array<() => unknown> = [];

  /** Register a close function; returns `value` for chaining. */
  add<T>(value: T, close: (v: T) => unknown): T {
    this.#fns.push(() => close(value));
    return value;
  }

  /** Run every close function (errors ignored) and forget them. */
  async closeAll(): Promise<void> {
    const fns = this.#fns.splice(0).reverse();
    for (const fn of fns) {
      try {
        await fn();
      } catch {
        // already closed
      }
    }
  }
}

/** True when a UDP socket can bind ::1 (IPv6 loopback is configured). */
export async function ipv6LoopbackAvailable(): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = createSocket('udp6');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(0, '::1', () => {
      s.close();
      resolve(true);
    });
  });
}

/**
 * Whether the IPv6 tests must be skipped: only when ::1 is missing and we are not in CI (in
 * CI a missing ::1 should fail loudly rather than pass quietly). Prints why when skipping.
 */
export async function skipIpv6(): Promise<boolean> {
  if (process.env.CI === 'true') return false;
  if (await ipv6LoopbackAvailable()) return false;
  console.warn('transport tests: ::1 is not available on this machine; skipping the IPv6 cases (set CI=true to fail instead)');
  return true;
}
