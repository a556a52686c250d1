/**
 * An in-process lossy UDP proxy for integration tests: clients send to the relay, the relay
 * forwards each client's datagrams to one target from a socket of its own (so the target sees
 * one distinct source port per client and replies to it), and relays the replies back to the
 * client. On the way it can drop, duplicate and delay datagrams, deterministically for a seed.
 *
 * For each datagram, in this order:
 *   1. `dropFirst(bytes, direction)` is asked first; true drops it (no random draw is skipped,
 *      so the loss pattern for a seed does not depend on the hook). Make the hook stateful to
 *      drop only the first match: see {@link dropOnce}.
 *   2. it is lost with probability `loss`;
 *   3. it is sent twice with probability `duplicate`;
 *   4. each copy is delayed by a uniform random 0..`reorderMs` ms (0: sent at once), which
 *      reorders datagrams that arrive within that window.
 *
 * Each direction draws from its own seeded generator, three draws per datagram, so the fate of
 * the n-th datagram in a direction depends only on the seed, n and the options.
 */

import { createSocket, type Socket } from 'node:dgram';
import type { CarrierPeer } from '../../src/transport/index.js';

/** Which way a datagram is going. */
export type RelayDirection = 'toTarget' | 'toClient';

/** Options of {@link startUdpRelay}. */
export interface UdpRelayOptions {
  /** Where client datagrams are forwarded. */
  target: CarrierPeer;
  /** Probability 0..1 that a datagram is dropped. Default 0. */
  loss?: number;
  /** Seed of the pseudo-random generators. Default 'hipl'. */
  seed?: string;
  /** Asked first for each datagram; return true to drop it. */
  dropFirst?: (bytes: Uint8Array, direction: RelayDirection) => boolean;
  /** Probability 0..1 that a datagram is sent twice. Default 0. */
  duplicate?: number;
  /** Upper bound of a random per-copy delay in ms. Default 0 (no delay, order kept). */
  reorderMs?: number;
  /** Address the relay listens on; default the loopback address of the target's family. */
  bindAddress?: string;
}

/** Counters of one direction. */
export interface RelayDirectionStats {
  /** Datagrams that reached the relay. */
  received: number;
  /** Copies sent on (duplicates count twice). */
  forwarded: number;
  /** Datagrams dropped by `dropFirst`. */
  droppedByHook: number;
  /** Datagrams dropped by random loss. */
  droppedByLoss: number;
  /** Datagrams sent twice. */
  duplicated: number;
  /** Index (0-based, per direction) of every dropped datagram, hook or loss. */
  droppedIndexes: number[];
}

/** Counters of a relay. */
export interface UdpRelayStats {
  toTarget: RelayDirectionStats;
  toClient: RelayDirectionStats;
  /** Distinct clients seen. */
  clients: number;
}

/** A running relay. */
export interface UdpRelay {
  /** Where clients should send. */
  address: CarrierPeer;
  /** Live counters. */
  stats: UdpRelayStats;
  /** Close every socket and cancel pending delayed sends. */
  close(): Promise<void>;
}

/** Wrap a predicate so that it is true only for the first datagram it matches. */
export function dropOnce(pred: (bytes: Uint8Array, direction: RelayDirection) => boolean): UdpRelayOptions['dropFirst'] {
  let done = false;
  return (bytes, direction) => {
    if (done || !pred(bytes, direction)) return false;
    done = true;
    return true;
  };
}

/** xmur3 string hash: turns the seed text into 32-bit generator state. */
function hashSeed(text: string): () => number {
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
}

/** sfc32: a small, fast generator with a 128-bit state; returns floats in [0, 1). */
export function seededRandom(seed: string): () => number {
  const s = hashSeed(seed);
  let a = s();
  let b = s();
  let c = s();
  let d = s();
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function emptyStats(): RelayDirectionStats {
  return { received: 0, forwarded: 0, droppedByHook: 0, droppedByLoss: 0, duplicated: 0, droppedIndexes: [] };
}

function checkProbability(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in 0..1, got ${String(v)}`);
  return v;
}

function bind(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(type);
    s.once('error', reject);
    s.bind(0, address, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/**
 * Start a relay in front of `target`.
 *
 * @example
 * ```ts
 * const relay = await startUdpRelay({ target: server.local, loss: 0.2, seed: 'bex-1' });
 * await client.connect(relay.address); // the client talks to the relay
 * await relay.close();
 * ```
 */
export async function startUdpRelay(opts: UdpRelayOptions): Promise<UdpRelay> {
  const loss = checkProbability('loss', opts.loss);
  const duplicate = checkProbability('duplicate', opts.duplicate);
  const reorderMs = opts.reorderMs ?? 0;
  if (!(reorderMs >= 0)) throw new RangeError('reorderMs must be >= 0');
  const seed = opts.seed ?? 'hipl';
  const type = opts.target.family === 6 ? 'udp6' : 'udp4';
  const loopback = opts.target.family === 6 ? '::1' : '127.0.0.1';
  const front = await bind(type, opts.bindAddress ?? loopback);
  const fa = front.address();
  const stats: UdpRelayStats = { toTarget: emptyStats(), toClient: emptyStats(), clients: 0 };
  const rng: Record<RelayDirection, () => number> = {
    toTarget: seededRandom(`${seed}:toTarget`),
    toClient: seededRandom(`${seed}:toClient`),
  };
  const timers = new Set<NodeJS.Timeout>();
  const upstreams = new Map<string, Promise<Socket>>();
  let closed = false;

  /** Apply the faults to one datagram and send the surviving copies with `send`. */
  const pass = (bytes: Buffer, direction: RelayDirection, send: (b: Buffer) => void): void => {
    const st = stats[direction];
    const index = st.received++;
    const r = rng[direction];
    // Always three draws, so the generator position is a function of the index alone.
    const lossDraw = r();
    const dupDraw = r();
    const delayDraw = r();
    if (opts.dropFirst?.(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), direction)) {
      st.droppedByHook++;
      st.droppedIndexes.push(index);
      return;
    }
    if (lossDraw < loss) {
      st.droppedByLoss++;
      st.droppedIndexes.push(index);
      return;
    }
    const copies = dupDraw < duplicate ? 2 : 1;
    if (copies === 2) st.duplicated++;
    for (let i = 0; i < copies; i++) {
      // The duplicate gets its delay from the next draw of the same number, to stay deterministic.
      const delay = reorderMs > 0 ? Math.floor(((delayDraw + i * 0.5) % 1) * reorderMs) : 0;
      const go = (): void => {
        if (closed) return;
        st.forwarded++;
        send(bytes);
      };
      if (delay === 0) go();
      else {
        const t = setTimeout(() => {
          timers.delete(t);
          go();
        }, delay);
        timers.add(t);
      }
    }
  };

  const upstreamFor = (client: { address: string; port: number }): Promise<Socket> => {
    const key = `${client.address}|${client.port}`;
    let up = upstreams.get(key);
    if (!up) {
      stats.clients++;
      up = bind(type, loopback).then((sock) => {
        sock.on('message', (reply, rinfo) => {
          // Only the target's replies go back; anything else reaching this socket is noise.
          if (rinfo.port !== opts.target.port) return;
          pass(reply, 'toClient', (b) => front.send(b, client.port, client.address, () => {}));
        });
        sock.on('error', () => {});
        if (closed) sock.close();
        return sock;
      });
      upstreams.set(key, up);
    }
    return up;
  };

  front.on('message', (msg, rinfo) => {
    const client = { address: rinfo.address, port: rinfo.port };
    // Decide the datagram's fate now, in arrival order, even though the upstream socket may
    // still be binding.
    pass(msg, 'toTarget', (b) => {
      void upstreamFor(client).then((sock) => {
        if (!closed) sock.send(b, opts.target.port, opts.target.address, () => {});
      });
    });
    void upstreamFor(client);
  });
  front.on('error', () => {});

  return {
    address: { address: fa.address, port: fa.port, family: fa.family === 'IPv6' ? 6 : 4 },
    stats,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const socks = await Promise.all(upstreams.values());
      await Promise.all(
        [front, ...socks].map(
          (s) =>
            new Promise<void>((r) => {
              try {
                s.close(() => r());
              } catch {
                r(); // closed already (it finished binding after close() began)
              }
            }),
        ),
      );
    },
  };
}
