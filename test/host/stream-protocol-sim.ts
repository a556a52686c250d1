/**
 * An in-memory network for stream-protocol tests: two StreamConnections (client `a`, server
 * `b` created from the first SYN, as a host would), a fake clock, and a seeded PRNG that drops,
 * duplicates, delays (hence reorders) and optionally corrupts segments. Every segment really
 * goes through encodeSegment/decodeSegment with the two HITs, so checksums are exercised.
 */
import { hexToBytes } from '../../src/bytes.js';
import { HipProtocolError } from '../../src/errors.js';
import {
  StreamConnection,
  decodeSegment,
  encodeSegment,
  resetForUnmatched,
  type Segment,
  type StreamConfig,
  type StreamEvent,
} from '../../src/host/stream-protocol.js';

export const HIT_A = hexToBytes('2001 0020 0000 0000 0000 0000 0000 0001');
export const HIT_B = hexToBytes('2001 0020 0000 0000 0000 0000 0000 0002');

/** mulberry32: small, seedable, good enough to shuffle a test network. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random payload. */
export function payload(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

export type Side = 'a' | 'b';

export interface WireRecord {
  t: number;
  from: Side;
  seg: Segment;
  /** False when the network dropped it (loss or the drop hook). */
  delivered: boolean;
}

export interface SimOptions {
  seed?: number;
  loss?: number;
  dup?: number;
  corrupt?: number;
  minDelay?: number;
  maxDelay?: number;
  /** Drop this segment (in addition to random loss). `n` counts earlier matches of nothing: use closures. */
  drop?: (seg: Segment, from: Side, t: number) => boolean;
  config?: Partial<StreamConfig>;
  configB?: Partial<StreamConfig>;
  issA?: number;
  issB?: number;
  /** No server listens: SYNs are answered with resetForUnmatched. */
  noListener?: boolean;
  /** Remove the SACK blocks from every segment on the wire, as a peer without SACK would send. */
  stripSack?: boolean;
  /** The path MSS of `a` (StreamConnectionOptions.pathMss); `pathMssB` for `b`, which defaults to it. */
  pathMss?: number;
  pathMssB?: number;
  /** Remove the MSS option from `b`'s SYN+ACK, as a peer that announces none would send it. */
  stripMssB?: boolean;
}

interface Endpoint {
  conn: StreamConnection | undefined;
  events: StreamEvent[];
  received: Uint8Array[];
  receivedBytes: number;
  toSend: Uint8Array;
  sent: number;
  chunk: number;
  endWhenDone: boolean;
  ended: boolean;
  paused: boolean;
  writeReturnedFalse: number;
  /** Called on each event, e.g. to end after the peer's end. */
  onEvent?: (e: StreamEvent, sim: Sim) => void;
  closedAt: number | undefined;
}

interface InFlight {
  at: number;
  order: number;
  to: Side;
  bytes: Uint8Array;
}

export class Sim {
  now = 0;
  readonly wire: WireRecord[] = [];
  readonly ep: Record<Side, Endpoint>;
  private readonly random: () => number;
  private queue: InFlight[] = [];
  private order = 0;
  private readonly opts: Required<Pick<SimOptions, 'loss' | 'dup' | 'corrupt' | 'minDelay' | 'maxDelay'>> & SimOptions;

  constructor(opts: SimOptions = {}) {
    this.opts = { loss: 0, dup: 0, corrupt: 0, minDelay: 10, maxDelay: 10, ...opts };
    this.random = rng(opts.seed ?? 1);
    const blank = (): Endpoint => ({
      conn: undefined,
      events: [],
      received: [],
      receivedBytes: 0,
      toSend: new Uint8Array(0),
      sent: 0,
      chunk: 16384,
      endWhenDone: false,
      ended: false,
      paused: false,
      writeReturnedFalse: 0,
      closedAt: undefined,
    });
    this.ep = { a: blank(), b: blank() };
    this.ep.a.conn = new StreamConnection({
      localPort: 40000,
      remotePort: 22,
      initialSeq: opts.issA ?? 1000,
      role: 'client',
      config: opts.config,
      ...(opts.pathMss === undefined ? {} : { pathMss: opts.pathMss }),
    });
  }

  get a(): StreamConnection {
    return this.ep.a.conn!;
  }

  get b(): StreamConnection {
    if (!this.ep.b.conn) throw new Error('server connection not created yet');
    return this.ep.b.conn;
  }

  /** Queue `data` for `side`'s application to write (in chunks, honouring backpressure), then end if asked. */
  send(side: Side, data: Uint8Array, opts: { end?: boolean; chunk?: number } = {}): void {
    const e = this.ep[side];
    e.toSend = data;
    e.sent = 0;
    e.endWhenDone = opts.end ?? false;
    if (opts.chunk !== undefined) e.chunk = opts.chunk;
  }

  on(side: Side, fn: (e: StreamEvent, sim: Sim) => void): void {
    this.ep[side].onEvent = fn;
  }

  received(side: Side): Uint8Array {
    const e = this.ep[side];
    return Buffer.concat(e.received);
  }

  types(side: Side): string[] {
    return this.ep[side].events.map((e) => e.type);
  }

  open(): void {
    this.a.open(this.now);
    this.appWrite('a');
    this.pump();
  }

  /** Run until nothing is scheduled (or `until` holds, or the time limit). Returns the stop time. */
  run(opts: { until?: () => boolean; maxTime?: number; maxSteps?: number } = {}): number {
    const maxTime = opts.maxTime ?? 600_000;
    let steps = 0;
    const maxSteps = opts.maxSteps ?? 5_000_000;
    for (;;) {
      if (opts.until?.()) return this.now;
      const next = this.nextTime();
      if (next === undefined || next > maxTime) return this.now;
      if (++steps > maxSteps) throw new Error('simulation did not settle');
      this.now = Math.max(this.now, next);
      this.step();
    }
  }

  /** Hand `side`'s application a pause (stop polling events) or resume it. */
  setPaused(side: Side, paused: boolean): void {
    this.ep[side].paused = paused;
    if (!paused) this.pump();
  }

  private nextTime(): number | undefined {
    let t: number | undefined;
    const consider = (x: number | undefined): void => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    consider(this.queue[0]?.at);
    consider(this.ep.a.conn?.nextTimeout());
    consider(this.ep.b.conn?.nextTimeout());
    return t;
  }

  private step(): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= this.now) {
      const p = this.queue.shift()!;
      this.deliver(p);
      this.pump();
    }
    for (const side of ['a', 'b'] as const) {
      const c = this.ep[side].conn;
      const t = c?.nextTimeout();
      if (c && t !== undefined && t <= this.now) c.handleTimeout(this.now);
    }
    this.pump();
  }

  private deliver(p: InFlight): void {
    const [src, dst] = p.to === 'b' ? [HIT_A, HIT_B] : [HIT_B, HIT_A];
    const e = this.ep[p.to];
    let seg: Segment;
    try {
      seg = decodeSegment(p.bytes, src, dst);
    } catch (err) {
      if (err instanceof HipProtocolError && err.code === 'ERR_STREAM_BAD_CHECKSUM') {
        e.conn?.countBadChecksum();
        return;
      }
      throw err;
    }
    if (e.conn === undefined) {
      if (p.to !== 'b') return;
      if (this.opts.noListener || !seg.flags.syn || seg.flags.ack) {
        const rst = resetForUnmatched(seg);
        if (rst) this.transmit('b', rst);
        return;
      }
      e.conn = new StreamConnection({
        localPort: seg.dstPort,
        remotePort: seg.srcPort,
        initialSeq: this.opts.issB ?? 5000,
        role: 'server',
        config: this.opts.configB ?? this.opts.config,
        ...((this.opts.pathMssB ?? this.opts.pathMss) === undefined ? {} : { pathMss: this.opts.pathMssB ?? this.opts.pathMss }),
      });
      e.conn.accept(seg, this.now);
      this.appWrite('b');
      return;
    }
    e.conn.handleSegment(seg, this.now);
  }

  /** Drain both machines: events first (they may reopen windows), then segments. */
  pump(): void {
    for (let again = true; again; ) {
      again = false;
      for (const side of ['a', 'b'] as const) {
        const e = this.ep[side];
        const c = e.conn;
        if (!c) continue;
        if (!e.paused) {
          for (let ev; (ev = c.pollEvent()); ) {
            e.events.push(ev);
            if (ev.type === 'data') {
              e.received.push(ev.data);
              e.receivedBytes += ev.data.length;
            }
            if (ev.type === 'closed' || ev.type === 'reset' || ev.type === 'error') e.closedAt = this.now;
            if (ev.type === 'drain') this.appWrite(side);
            e.onEvent?.(ev, this);
            again = true;
          }
        }
        for (let s; (s = c.pollSegment()); ) {
          this.transmit(side, s);
          again = true;
        }
      }
    }
  }

  /** Let `side`'s application write what it has, stopping when write() says so. */
  appWrite(side: Side): void {
    const e = this.ep[side];
    const c = e.conn;
    if (!c || c.state === 'closed') return;
    while (e.sent < e.toSend.length) {
      const n = Math.min(e.chunk, e.toSend.length - e.sent);
      const ok = c.write(e.toSend.subarray(e.sent, e.sent + n), this.now);
      e.sent += n;
      if (!ok) {
        e.writeReturnedFalse++;
        return;
      }
    }
    if (e.endWhenDone && !e.ended) {
      e.ended = true;
      c.end(this.now);
    }
  }

  private transmit(from: Side, seg: Segment): void {
    const [src, dst] = from === 'a' ? [HIT_A, HIT_B] : [HIT_B, HIT_A];
    if (this.opts.stripSack) delete seg.sack;
    if (this.opts.stripMssB && from === 'b') delete seg.mss;
    const bytes = encodeSegment(seg, src, dst);
    const o = this.opts;
    const lost = (o.drop?.(seg, from, this.now) ?? false) || this.random() < o.loss;
    this.wire.push({ t: this.now, from, seg, delivered: !lost });
    if (lost) return;
    const copies = this.random() < o.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let b = bytes;
      if (this.random() < o.corrupt) {
        b = bytes.slice();
        const pos = Math.floor(this.random() * b.length);
        b[pos] = b[pos]! ^ (1 + Math.floor(this.random() * 255));
      }
      const delay = o.minDelay + this.random() * (o.maxDelay - o.minDelay);
      this.enqueue({ at: this.now + delay, order: this.order++, to: from === 'a' ? 'b' : 'a', bytes: b });
    }
  }

  private enqueue(p: InFlight): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > p.at || (this.queue[i - 1]!.at === p.at && this.queue[i - 1]!.order > p.order))) i--;
    this.queue.splice(i, 0, p);
  }
}

/** The segments of one side on the wire that carry data. */
export function dataSegments(sim: Sim, from: Side): WireRecord[] {
  return sim.wire.filter((w) => w.from === from && w.seg.data.length > 0);
}

/** Pure ACKs (no data, no SYN/FIN/RST) sent by one side. */
export function pureAcks(sim: Sim, from: Side): WireRecord[] {
  return sim.wire.filter(
    (w) => w.from === from && w.seg.data.length === 0 && w.seg.flags.ack && !w.seg.flags.syn && !w.seg.flags.fin && !w.seg.flags.rst,
  );
}
