/**
 * A reliable, ordered byte stream over the unreliable ESP datagram service, as a sans-IO state
 * machine: no sockets, no timers, no clock and no randomness inside. The host feeds it
 * received segments, user calls and the current time, then drains {@link StreamConnection.pollSegment}
 * (segments to seal into ESP) and {@link StreamConnection.pollEvent} (what the user sees), and
 * calls {@link StreamConnection.handleTimeout} at {@link StreamConnection.nextTimeout}.
 *
 * The segments are TCP-shaped (see `stream-segment.ts`) and the behaviour follows TCP where it
 * matters: three-way handshake, cumulative acknowledgements, out-of-order buffering, RTO with
 * RFC 6298 estimation and exponential backoff, NewReno congestion control (RFC 5681/6582: a
 * 10-segment initial window, slow start, congestion avoidance, halving on a loss, one segment
 * after a timeout), receiver flow control and half close.
 *
 * Loss recovery follows RFC 9002 (QUIC) where TCP has only byte numbers: the receiver reports
 * what it holds above a hole in SACK blocks (RFC 2018, `stream-sack.ts`), and the sender numbers
 * every transmission (a packet number, retransmissions get a new one), so a segment is lost
 * once one sent three transmissions later, or 9/8 of a round trip later, has been acknowledged;
 * a lost retransmission is found the same way, with no timeout. Lost segments are resent as the
 * congestion window allows, at most one window reduction per round trip, and data leaves paced
 * (`stream-pacer.ts`). A peer that sends no SACK blocks gets the older TCP behaviour: fast
 * retransmit on three duplicate ACKs and NewReno partial ACKs. Left out on purpose: urgent
 * data, simultaneous open and TIME_WAIT (ESP already keeps segments of another association out).
 *
 * Over a reliable carrier (a TCP connection, `reliableCarrier: true`) TCP below already
 * retransmits and orders, so the machine shrinks to framing plus flow control: no timers, no
 * loss detection, no congestion window or pacing; only the peer's window and the send buffer
 * limit it. Sent data is still kept until acknowledged, without timers, because the carrier
 * itself can be lost and replaced (TCP resume): {@link StreamConnection.carrierReplaced} then
 * sends everything unacknowledged again on the new one.
 * @module
 */

import { HipArgumentError, HipProtocolError } from '../errors.js';
import { Pacer } from './stream-pacer.js';
import { sackBlocks, sackCovers } from './stream-sack.js';
import { SendQueue } from './stream-send-queue.js';
import { SEGMENT_HEADER_BYTES, WINDOW_SCALE, type Segment } from './stream-segment.js';

export {
  INNER_TCP,
  MAX_SACK_BLOCKS,
  SEGMENT_HEADER_BYTES,
  WINDOW_SCALE,
  decodeSegment,
  encodeSegment,
  segmentChecksum,
  type SackBlock,
  type Segment,
  type SegmentCodecOptions,
  type SegmentFlags,
} from './stream-segment.js';

/** Tuning of the connection behind each {@link hipl!HiplStream}. Every field has a default; pass only what you change. */
export interface StreamConfig {
  /**
   * Largest number of data bytes per segment on a path not known to carry more, and what is sent
   * to a peer that announces no MSS in its SYN. Default 1200, so a segment fits in ESP over UDP
   * under a 1280-byte path MTU. (A connection may be told a larger one for its path,
   * the connection option `pathMss`: the host does so for a loopback peer, see
   * `loopbackMss`.)
   */
  mss: number;
  /**
   * Data bytes per segment when the peer's address is a loopback address (127.0.0.0/8, ::1) and
   * the carrier is UDP: the path is this machine's loopback interface, which carries datagrams
   * of up to 64 KiB whole, so a stream sends far fewer, larger ESP packets there, as Linux TCP
   * takes its MSS from the interface MTU (65483 on lo). Both ends must see a loopback path: each
   * announces what it accepts in its SYN (the MSS option) and sends at most what the other
   * announced. Set it to `mss` to send `mss`-sized segments on loopback too. Default 32768 (the
   * size that measured best; see README "Performance"); at most 65390, what one UDP datagram
   * over IPv4 carries with the largest ESP overhead and segment header.
   */
  loopbackMss: number;
  /**
   * Most segments in flight (sent, not yet acknowledged) at once. Default 1024: above the
   * default receive window (1 MiB in 1200-byte segments), so flow and congestion control
   * decide, not this; 64 segments held a 20 ms path to 4 MB/s.
   */
  sendWindowSegments: number;
  /**
   * Receive buffer in bytes: out-of-order data plus received data not yet taken out with
   * `StreamConnection.pollEvent`. The window field advertises
   * `min(65535, floor(free / 16))`, in units of `WINDOW_SCALE` = 16 bytes. Default 1 MiB.
   */
  receiveBufferBytes: number;
  /** Retransmission timeout before the first round-trip measurement. Default 200 ms. */
  initialRtoMs: number;
  /**
   * Floor of the measured retransmission timeout, which is `srtt + max(1, 4 * rttvar) + ackDelayMs`
   * (RFC 6298 plus the peer's ACK delay, which is taken to be ours). Default 200 ms, as Linux
   * TCP: a Node event loop under load answers tens of milliseconds late, and a shorter floor
   * then resends whole windows that were never lost (and collapses the congestion window).
   * Single losses are repaired by fast retransmit long before it.
   */
  minRtoMs: number;
  /** Ceiling of the retransmission timeout, backoff included. Default 4000 ms. */
  maxRtoMs: number;
  /**
   * Retransmission timeouts in a row without progress before the connection fails with
   * `ERR_STREAM_TIMEOUT`. Default 12.
   */
  maxRetries: number;
  /**
   * High-water mark of the send buffer (queued plus unacknowledged bytes): above it
   * `StreamConnection.write` returns false, and a `drain` event follows once it is
   * below again. Default 256 KiB. It bounds what one round trip can carry: over a path
   * with a 20 ms round trip, 256 KiB allow at most ~13 MB/s.
   */
  sendBufferBytes: number;
  /** Longest delay of an acknowledgement for in-order data (see `ackEverySegments`). 0 acknowledges every segment at once. Default 10 ms. */
  ackDelayMs: number;
  /**
   * In-order data segments acknowledged by one ACK: the ACK leaves at once after this many,
   * or `ackDelayMs` after the first of them. Out-of-order data and filled holes are always
   * acknowledged at once (with SACK blocks). Default 2, as TCP and QUIC.
   */
  ackEverySegments: number;
  /**
   * How long a connection that sent the last ACK of a close keeps answering a retransmitted
   * FIN (the lost-last-ACK case, what TIME_WAIT does in TCP). Default `4 * maxRtoMs`, which
   * outlasts two lost ACKs in a row at the longest backoff.
   */
  lingerMs: number;
  /**
   * The carrier below ESP is itself reliable and ordered (a TCP connection): segments are never
   * lost, duplicated or reordered while it lives, so the machine arms no retransmission or
   * persist timer, does not linger after close, has no congestion window and ignores
   * `sendWindowSegments`; only the peer's window (flow control) limits what is sent, and
   * `write()` reports backpressure once `sendBufferBytes` are queued or unacknowledged. Sent
   * data is kept until acknowledged so that `StreamConnection.carrierReplaced` can send it
   * again when the carrier was lost and replaced. Once acknowledged, the bytes of a segment are
   * reused for later writes: send (seal or copy) a polled segment before passing the
   * connection the next segment. Both ends must agree (the host sets it from the carrier of
   * the association). Default false.
   */
  reliableCarrier: boolean;
}

/** What a {@link StreamConnection} reports to its user, in order. */
export type StreamEvent =
  | {
      /** The handshake completed. */
      type: 'connected';
    }
  | {
      /** Bytes of the peer's stream, in order, each byte once. */
      type: 'data';
      /** The bytes; the machine keeps no reference to them. */
      data: Uint8Array;
    }
  | {
      /** The peer closed its direction (FIN), after all its data. */
      type: 'end';
    }
  | {
      /** Both directions are closed and acknowledged, or {@link StreamConnection.reset} was called. Terminal. */
      type: 'closed';
    }
  | {
      /** The peer aborted the connection (RST). Terminal. */
      type: 'reset';
      /** `connection refused` (reset during the handshake) or `connection reset by peer`. */
      reason: string;
    }
  | {
      /** The connection failed. Terminal. */
      type: 'error';
      /** Stable code, e.g. `ERR_STREAM_TIMEOUT`. */
      code: string;
      /** Human-readable detail. */
      message: string;
    }
  | {
      /** The send buffer fell below its high-water mark after a `write` had returned false. */
      type: 'drain';
    };

/** The `reason` of a `reset` event that answered our SYN: nothing listens on the peer's port. */
export const REFUSED = 'connection refused';

/** The phase of a connection, as TCP would name it in broad strokes. */
export type StreamState = 'syn-sent' | 'syn-received' | 'established' | 'fin-wait' | 'closing' | 'closed';

/** Counters of a {@link StreamConnection}; they only grow. */
export interface StreamStats {
  /** Segments handed out by {@link StreamConnection.pollSegment}. */
  segmentsSent: number;
  /** Segments for this port pair passed to the machine (accept and handleSegment). */
  segmentsReceived: number;
  /** Segments sent again: SYN, SYN+ACK and data or FIN after a timeout, three duplicate ACKs or a partial ACK. */
  retransmissions: number;
  /** Received segments whose data (or SYN, or FIN) had all been received before. */
  duplicates: number;
  /** Received data segments that arrived ahead of a gap. */
  outOfOrder: number;
  /** Segments dropped for a bad checksum, as told by {@link StreamConnection.countBadChecksum}. */
  badChecksums: number;
  /** Segments declared lost from the peer's SACK blocks (packet or time threshold), not by a timeout. */
  lostBySack: number;
  /** Times a data segment waited for the pacer. */
  pacingDelays: number;
  /** Received segments dropped because their data was larger than the MSS this end announced. */
  oversized: number;
}

/** Options of the {@link StreamConnection} constructor. */
export interface StreamConnectionOptions {
  /** This end's port. */
  localPort: number;
  /** The peer's port. */
  remotePort: number;
  /** Initial send sequence number, 0..2^32-1, from the host's random source. */
  initialSeq: number;
  /** `client` sends the SYN ({@link StreamConnection.open}); `server` answers one ({@link StreamConnection.accept}). */
  role: 'client' | 'server';
  /** Tuning; missing fields take their defaults. */
  config?: Partial<StreamConfig>;
  /**
   * The most data bytes per segment the path to the peer carries, as this end knows it. Default
   * `config.mss`. It is announced in the SYN (what this end accepts: larger segments are
   * dropped and counted in `oversized`) and bounds what this end sends, together with what the
   * peer announced ({@link StreamConnection.setPathMss} lowers it when the path changes).
   */
  pathMss?: number;
}

/**
 * Largest segment data that fits one UDP datagram over IPv4 (65507 bytes) with the largest ESP
 * overhead of any suite (57 bytes: SPI, sequence number, a 16-byte IV, 15 bytes of padding,
 * trailer, a 16-byte ICV) and the largest segment header (60 bytes).
 */
export const MAX_UDP_SEGMENT_DATA = 65507 - 57 - 60;

const DEFAULTS: Omit<StreamConfig, 'lingerMs'> = {
  mss: 1200,
  loopbackMss: 32768,
  sendWindowSegments: 1024,
  receiveBufferBytes: 1024 * 1024,
  initialRtoMs: 200,
  minRtoMs: 200,
  maxRtoMs: 4000,
  maxRetries: 12,
  sendBufferBytes: 256 * 1024,
  ackDelayMs: 10,
  ackEverySegments: 2,
  reliableCarrier: false,
};

/**
 * Check a stream configuration without building anything, so a host refuses a bad one at
 * creation rather than when the first stream opens.
 *
 * @throws `HipArgumentError` `ERR_STREAM_BAD_CONFIG` naming the field.
 */
export function checkStreamConfig(partial: Partial<StreamConfig> | undefined): void {
  resolveConfig(partial);
}

/**
 * Resolved configurations by the object they came from: every connection of a host passes the
 * same one, and a per-connection copy of ~20 fields (with its own hidden class) was a tenth of
 * an idle association's heap. Callers must not change a config object after passing it (the
 * host's are frozen copies of its options).
 */
const resolved = new WeakMap<object, Readonly<StreamConfig>>();
const DEFAULT_KEY = {};

/**
 * The configuration a connection resolves from `partial` (defaults filled in), made once per
 * config object: what the host reads to pick a connection's path MSS.
 *
 * @throws `HipArgumentError` `ERR_STREAM_BAD_CONFIG` naming the field.
 */
export function resolvedStreamConfig(partial: Partial<StreamConfig> | undefined): Readonly<StreamConfig> {
  const key = partial ?? DEFAULT_KEY;
  let cfg = resolved.get(key);
  if (!cfg) resolved.set(key, (cfg = Object.freeze(resolveConfig(partial))));
  return cfg;
}

/** Fill in defaults and check ranges. */
function resolveConfig(partial: Partial<StreamConfig> | undefined): StreamConfig {
  const p = partial ?? {};
  const merged = { ...DEFAULTS, ...stripUndefined(p) };
  const cfg: StreamConfig = { ...merged, lingerMs: p.lingerMs ?? 4 * merged.maxRtoMs };
  const need = (name: keyof StreamConfig, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = cfg[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new HipArgumentError('ERR_STREAM_BAD_CONFIG', `stream config ${name} must be an integer ${min}..${max}`, {
        field: name,
        value: v,
      });
    }
  };
  need('mss', 1, 0xffff - SEGMENT_HEADER_BYTES);
  need('loopbackMss', 1, MAX_UDP_SEGMENT_DATA);
  need('sendWindowSegments', 1);
  need('receiveBufferBytes', 1);
  need('initialRtoMs', 1);
  need('minRtoMs', 1);
  need('maxRtoMs', cfg.minRtoMs);
  need('maxRetries', 0);
  need('sendBufferBytes', 1);
  need('ackDelayMs', 0);
  need('ackEverySegments', 1);
  need('lingerMs', 0);
  if (typeof cfg.reliableCarrier !== 'boolean') {
    throw new HipArgumentError('ERR_STREAM_BAD_CONFIG', 'stream config reliableCarrier must be a boolean', { field: 'reliableCarrier', value: cfg.reliableCarrier });
  }
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** `a + n` in 32-bit sequence space. */
function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance from `b` to `a` in 32-bit sequence space (RFC 1982 style comparison). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** A segment this end sent or will send, kept until acknowledged. */
interface Outgoing {
  seq: number;
  data: Uint8Array;
  syn: boolean;
  fin: boolean;
  psh: boolean;
  /** Time of the latest (re)transmission. */
  sentAt: number;
  /** Sent more than once: its ACK gives no round-trip sample (Karn). */
  retransmitted: boolean;
  /** Waiting in the outbox. */
  queued: boolean;
  /** Fully acknowledged: drop it if it is still in the outbox. */
  done: boolean;
  /** Packet number of the latest transmission: grows with every (re)transmission, never reused. */
  pn: number;
  /** Covered by a SACK block: the peer holds it, it no longer counts as in flight. */
  sacked: boolean;
  /** Declared lost, waiting in the lost queue for room in the congestion window. */
  lost: boolean;
}

function seqLength(r: Outgoing): number {
  return r.data.length + (r.syn ? 1 : 0) + (r.fin ? 1 : 0);
}

const EMPTY = new Uint8Array(0);

/** Initial congestion window in segments (RFC 6928; RFC 9002 starts QUIC the same way). */
const INITIAL_WINDOW_SEGMENTS = 10;

/** Events that are not part of the byte stream, so a reader that takes no data still gets them. */
function isSignal(e: StreamEvent): boolean {
  return e.type === 'connected' || e.type === 'drain' || e.type === 'reset' || e.type === 'error';
}

/**
 * One end of a stream between two HITs, identified by (local port, remote port). Pure state:
 * every method that may send takes `now` (milliseconds on any monotonic clock).
 *
 * After each call, drain {@link pollEvent} first (taking data out of the receive buffer may
 * reopen the window and queue a window update), then {@link pollSegment}, then re-arm the timer
 * from {@link nextTimeout}. A connection may be forgotten once {@link state} is `closed` and
 * {@link nextTimeout} is `undefined`.
 *
 * The machine keeps references to the `data` of segments passed in (decodeSegment returns fresh
 * copies) and copies what {@link write} is given. With `reliableCarrier` it reuses the memory
 * of acknowledged data: a polled segment must be sent before the next segment is handed in.
 *
 * @example
 * ```ts
 * const c = new StreamConnection({ localPort: 40000, remotePort: 22, initialSeq: rand32(), role: 'client' });
 * c.open(now);
 * c.write(new TextEncoder().encode('hello'), now);
 * c.end(now);
 * for (let s; (s = c.pollSegment()); ) sendEsp(encodeSegment(s, myHit, peerHit));
 * // on each decrypted payload: c.handleSegment(decodeSegment(payload, peerHit, myHit), now)
 * // at c.nextTimeout(): c.handleTimeout(now)
 * ```
 */
export class StreamConnection {
  /** This end's port. */
  readonly localPort: number;
  /** The peer's port. */
  readonly remotePort: number;
  /** Who sends the SYN. */
  readonly role: 'client' | 'server';
  /** The effective configuration (defaults filled in). */
  readonly config: Readonly<StreamConfig>;

  private readonly iss: number;
  /** What this end accepts per segment: announced in the SYN, enforced on receipt. */
  private readonly receiveMss: number;
  /** What the path carries as this end knows it (the host lowers it when the path changes). */
  private pathMss: number;
  /** What the peer announced in its SYN; `undefined` before it, or when it announced nothing. */
  private peerMss: number | undefined;
  /** Data bytes per segment sent: the path's limit and the peer's. */
  private sendMss: number;
  private readonly counters: StreamStats = {
    segmentsSent: 0,
    segmentsReceived: 0,
    retransmissions: 0,
    duplicates: 0,
    outOfOrder: 0,
    badChecksums: 0,
    lostBySack: 0,
    pacingDelays: 0,
    oversized: 0,
  };
  private readonly events: StreamEvent[] = [];
  /** Events in {@link events} that a paused reader still takes (see {@link pollEvent}). */
  private signalEvents = 0;

  private started = false;
  private established = false;
  private closedFlag = false;

  // ---- send side ----
  private sndUna: number;
  private sndNxt: number;
  /** Peer's window in bytes. */
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private readonly inflight: Outgoing[] = [];
  private inflightBytes = 0;
  private outbox: Outgoing[] = [];
  private readonly sendQueue: SendQueue;
  private localEnded = false;
  private finSent = false;
  private finAcked = false;
  private needDrain = false;
  private rstPending = false;
  /** Ready-made segments that answer a segment rather than carry our stream (resets). */
  private replies: Segment[] = [];

  // ---- receive side ----
  private irsKnown = false;
  private irs = 0;
  private rcvNxt = 0;
  /** Out-of-order data, ascending by distance from rcvNxt. */
  private ooo: { seq: number; data: Uint8Array }[] = [];
  private oooBytes = 0;
  /** In-order bytes queued as `data` events, not yet polled. */
  private undelivered = 0;
  private remoteFinSeq: number | undefined;
  private remoteEnded = false;
  private segsUnacked = 0;
  private ackNow = false;
  /**
   * Pure duplicate ACKs owed for out-of-order or repeated data. They go out as pure ACKs even
   * when data could carry the number, since only pure ACKs count towards the peer's fast
   * retransmit; counted so that a batch of segments handled before polling still yields them.
   */
  private dupAcksOwed = 0;
  private lastAdvertisedBytes = 0;
  /** The peer's FIN came after ours was sent, so our ACK of it may need repeating after close. */
  private mayNeedLinger = false;

  // ---- timers and retransmission ----
  private rtxAt: number | undefined;
  private ackAt: number | undefined;
  private lingerAt: number | undefined;
  /** Retransmission timeout from the RTT estimator (or the initial value), before backoff. */
  private baseRto: number;
  /** Timeouts since the last ACK that took new data: the RTO is doubled this many times. */
  private backoff = 0;
  private srtt: number | undefined;
  private rttvar = 0;
  private retries = 0;
  private dupAcks = 0;
  /** Duplicate ACKs that came a round trip after the hole at sndUna was last resent. */
  private lateDupAcks = 0;
  private inRecovery = false;
  private recover = 0;
  /** Congestion window in bytes: at most this much new data in flight (unused over a reliable carrier). */
  private cwnd: number;
  /** Slow-start threshold in bytes. */
  private ssthresh = Infinity;
  /** In fast recovery (entered on three duplicate ACKs): the window does not grow until it ends. */
  private fastRecovery = false;

  // ---- SACK-based recovery (RFC 9002 style), used once the peer has sent a SACK block ----
  private peerSacks = false;
  /** Packet number of the next transmission. */
  private nextPn = 0;
  /** Largest packet number the peer has acknowledged (cumulatively or by SACK), -1 before any. */
  private largestAckedPn = -1;
  /** Bytes of in-flight segments the peer has SACKed. */
  private sackedBytes = 0;
  /** Bytes of segments declared lost and not yet sent again. */
  private lostBytes = 0;
  /** Segments declared lost, resent from here as the congestion window allows. */
  private lostQueue: Outgoing[] = [];
  /** Losses of transmissions numbered below this belong to the current recovery period: no second reduction. */
  private recoveryStartPn = 0;
  /** When the oldest unacknowledged transmission below {@link largestAckedPn} crosses the time threshold. */
  private lossAt: number | undefined;
  /**
   * Lost segments that may go even though the halved window is still full (RFC 6675 5: the
   * first hole is resent at once, not half a round trip later when the pipe has drained).
   */
  private fastRetransmits = 0;
  /** When the pacer lets the next data segment go. */
  private paceAt: number | undefined;
  private readonly pacer: Pacer;
  /** Sequence number of the latest out-of-order arrival: its SACK block goes first. */
  private recentOooSeq: number | undefined;

  /**
   * @throws HipArgumentError `ERR_STREAM_BAD_ARGUMENT` for a port or sequence number out of
   *   range or an unknown role; `ERR_STREAM_BAD_CONFIG` for a config field out of range.
   */
  constructor(opts: StreamConnectionOptions) {
    const int = (v: unknown, max: number, name: string): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
        throw new HipArgumentError('ERR_STREAM_BAD_ARGUMENT', `${name} must be an integer 0..${max}`, { [name]: v });
      }
      return v;
    };
    this.localPort = int(opts.localPort, 0xffff, 'localPort');
    this.remotePort = int(opts.remotePort, 0xffff, 'remotePort');
    this.iss = int(opts.initialSeq, 0xffffffff, 'initialSeq');
    if (opts.role !== 'client' && opts.role !== 'server') {
      throw new HipArgumentError('ERR_STREAM_BAD_ARGUMENT', "role must be 'client' or 'server'", { role: opts.role });
    }
    this.role = opts.role;
    this.config = resolvedStreamConfig(opts.config);
    this.receiveMss = this.pathMss = int(opts.pathMss ?? this.config.mss, 0xffff - SEGMENT_HEADER_BYTES, 'pathMss');
    if (this.pathMss === 0) throw new HipArgumentError('ERR_STREAM_BAD_ARGUMENT', 'pathMss must be at least 1', { pathMss: 0 });
    // Until the peer's SYN says otherwise, send what any peer takes (an older one announces nothing).
    this.sendMss = Math.min(this.pathMss, this.config.mss);
    this.baseRto = Math.min(this.config.initialRtoMs, this.config.maxRtoMs);
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * this.sendMss;
    this.pacer = new Pacer(this.sendMss);
    this.sendQueue = new SendQueue(this.pathMss);
  }

  /** Data bytes per segment this end sends now: its path's limit and the MSS the peer announced. */
  get maxSegmentBytes(): number {
    return this.sendMss;
  }

  /**
   * The path to the peer changed (the host moved the association to another locator) and
   * carries at most `mss` data bytes per segment. New segments are cut to the new size at once,
   * and segments in flight that are larger are split, so that what is resent fits the new path
   * too; the congestion window, counted in the old path's segments, is cut to an initial window
   * of the new size. A larger `mss` than the connection started with is capped there (what the
   * peer announced, and what this end's SYN promised, stay as they were).
   *
   * @throws HipArgumentError `ERR_STREAM_BAD_ARGUMENT` unless `mss` is an integer >= 1.
   */
  setPathMss(mss: number): void {
    if (!Number.isInteger(mss) || mss < 1) throw new HipArgumentError('ERR_STREAM_BAD_ARGUMENT', 'pathMss must be an integer >= 1', { pathMss: mss });
    const before = this.sendMss;
    this.pathMss = Math.min(mss, this.receiveMss);
    this.updateSendMss();
    if (this.sendMss >= before) return;
    this.cwnd = Math.min(this.cwnd, INITIAL_WINDOW_SEGMENTS * this.sendMss);
    this.splitInflight();
  }

  /** {@link sendMss} from the path's limit and the peer's announcement; the pacer's bucket is counted in it. */
  private updateSendMss(): void {
    this.sendMss = Math.min(this.pathMss, this.peerMss ?? this.config.mss);
    this.pacer.segmentBytes = this.sendMss;
  }

  /** The MSS option of the peer's SYN (0, which allows nothing, counts as no option). */
  private learnPeerMss(seg: Segment): void {
    if (seg.mss === undefined || seg.mss === 0) return;
    this.peerMss = seg.mss;
    const before = this.sendMss;
    this.updateSendMss();
    // The initial window is counted in segments of the size both ends agreed on.
    if (this.cwnd === INITIAL_WINDOW_SEGMENTS * before) this.cwnd = INITIAL_WINDOW_SEGMENTS * this.sendMss;
    if (this.sendMss < before) this.splitInflight();
  }

  /**
   * Cut every unacknowledged segment larger than {@link sendMss} into pieces of that size, in
   * place: a piece keeps the state of its segment (when it was sent, its packet number, whether
   * it waits in the outbox, is SACKed or declared lost), the SYN flag stays on the first piece
   * and the FIN moves to the last, so the byte counts and the queues stay as they were.
   */
  private splitInflight(): void {
    const limit = this.sendMss;
    if (!this.inflight.some((r) => r.data.length > limit)) return;
    const pieces = new Map<Outgoing, Outgoing[]>();
    const flight: Outgoing[] = [];
    for (const r of this.inflight) {
      flight.push(r);
      if (r.data.length <= limit) continue;
      const rest: Outgoing[] = [];
      for (let off = limit; off < r.data.length; off += limit) {
        const data = r.data.subarray(off, off + limit);
        const seq = seqAdd(r.seq, (r.syn ? 1 : 0) + off);
        rest.push({ ...r, seq, data, syn: false, fin: false, psh: false });
      }
      rest[rest.length - 1]!.fin = r.fin;
      rest[rest.length - 1]!.psh = r.psh;
      r.data = r.data.subarray(0, limit);
      r.fin = false;
      r.psh = false;
      flight.push(...rest);
      pieces.set(r, rest);
    }
    this.inflight.splice(0, this.inflight.length, ...flight);
    const expand = (list: Outgoing[]): Outgoing[] => list.flatMap((r) => [r, ...(pieces.get(r) ?? [])]);
    this.outbox = expand(this.outbox);
    this.lostQueue = expand(this.lostQueue);
  }

  /** Congestion window in bytes (NewReno); the sender keeps at most this much new data in flight. */
  get congestionWindow(): number {
    return this.cwnd;
  }

  /** Smoothed round-trip time in ms (RFC 6298), or `undefined` before the first sample. */
  get smoothedRttMs(): number | undefined {
    return this.srtt;
  }

  /**
   * Where the connection is: `syn-sent` / `syn-received` until the handshake completes
   * (from construction, by role), `established` while this end may still write (the peer may
   * have ended already), `fin-wait` after {@link end} until the peer's FIN arrives, `closing`
   * when both FINs are known but ours is not yet acknowledged, `closed` at the end (graceful,
   * reset or failed).
   */
  get state(): StreamState {
    if (this.closedFlag) return 'closed';
    if (!this.established) return this.role === 'client' ? 'syn-sent' : 'syn-received';
    if (!this.localEnded) return 'established';
    if (!this.remoteEnded) return 'fin-wait';
    return 'closing';
  }

  /**
   * The handshake has begun ({@link open} or {@link accept} was called). Before, a client may
   * already be written to: its bytes wait and the first segment's worth rides on the SYN.
   */
  get opened(): boolean {
    return this.started;
  }

  /** Bytes written and not yet acknowledged by the peer (unsent plus in flight). */
  get bufferedBytes(): number {
    return this.pendingBytes + this.inflightBytes;
  }

  /** Counters for tests and diagnostics. */
  get stats(): Readonly<StreamStats> {
    return this.counters;
  }

  /**
   * Client: start the handshake by queueing the SYN.
   *
   * @throws HipProtocolError `ERR_STREAM_BAD_STATE` on a server, or when called twice.
   */
  open(now: number): void {
    if (this.role !== 'client' || this.started || this.closedFlag) {
      throw new HipProtocolError('ERR_STREAM_BAD_STATE', 'open() is for a client that has not started yet', {
        role: this.role,
      });
    }
    this.started = true;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sendSyn(now);
  }

  /**
   * The reliable carrier below was lost and replaced (a TCP connection that broke and was
   * dialed again): whatever was sent on the old one may never have arrived, and neither may
   * the peer's acknowledgements and window updates. Queue every unacknowledged segment again,
   * in order, ahead of new data, and an acknowledgement that tells the peer our window. Over a
   * reliable carrier this is the only way lost segments come back. Does nothing without
   * `reliableCarrier` (the retransmission machinery recovers there).
   */
  carrierReplaced(now: number): void {
    if (!this.config.reliableCarrier || this.closedFlag || !this.started) return;
    for (const r of this.inflight) {
      r.retransmitted = true;
      r.sentAt = now;
      r.queued = true;
      this.counters.retransmissions++;
    }
    // Everything in the outbox is also in flight (tracked when queued), so the resend order is
    // simply the flight's, which is sequence order.
    this.outbox = this.inflight.slice();
    if (this.irsKnown) this.ackNow = true;
    this.flush(now);
  }

  /**
   * Server: answer the SYN that created this connection with a SYN+ACK. Data on the SYN (a
   * client's first write, see {@link pollSegment}) is taken as far as the receive buffer allows
   * and acknowledged by the SYN+ACK; a FIN on the SYN is ignored (sent again later). The
   * connection is `established` at once (`connected` is reported): the peer is authenticated
   * by ESP, so what the server writes leaves right behind the SYN+ACK, without waiting for the
   * client's ACK of it.
   *
   * @throws HipProtocolError `ERR_STREAM_BAD_STATE` on a client or when called twice;
   *   `ERR_STREAM_BAD_SEGMENT` when `syn` is not a plain SYN for this port pair.
   */
  accept(syn: Segment, now: number): void {
    if (this.role !== 'server' || this.started || this.closedFlag) {
      throw new HipProtocolError('ERR_STREAM_BAD_STATE', 'accept() is for a server that has not started yet', {
        role: this.role,
      });
    }
    if (!syn.flags.syn || syn.flags.ack || syn.flags.rst || syn.srcPort !== this.remotePort || syn.dstPort !== this.localPort) {
      throw new HipProtocolError('ERR_STREAM_BAD_SEGMENT', 'accept() needs a SYN without ACK/RST for this port pair', {
        srcPort: syn.srcPort,
        dstPort: syn.dstPort,
      });
    }
    this.counters.segmentsReceived++;
    this.started = true;
    this.learnIrs(syn.seq);
    this.learnPeerMss(syn);
    this.sndWnd = syn.window * WINDOW_SCALE;
    this.sndWl1 = syn.seq;
    this.sndWl2 = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    if (syn.data.length > this.receiveMss) {
      // More than we announce (the peer cannot know yet): not taken; it comes again in segments of the size agreed.
      this.counters.oversized++;
    } else if (syn.data.length > 0) {
      // The peer is authenticated by ESP, so data may come before the handshake completes:
      // the stream's first bytes need no extra round trip.
      const take = Math.min(syn.data.length, this.config.receiveBufferBytes);
      this.deliver(syn.data.subarray(0, take));
    }
    this.sendSyn(now);
    // For the same reason the server may send at once, behind its SYN+ACK, instead of waiting
    // for the client's ACK of it: an answer to the first bytes leaves one round trip earlier.
    this.becomeEstablished();
  }

  /** Process one inbound segment addressed to this port pair; others are ignored. */
  handleSegment(seg: Segment, now: number): void {
    if (seg.srcPort !== this.remotePort || seg.dstPort !== this.localPort) return;
    this.counters.segmentsReceived++;
    if (this.closedFlag) {
      this.afterClose(seg, now);
      return;
    }
    if (!this.started) return;
    if (seg.data.length > this.receiveMss) {
      // Larger than our SYN allowed: dropped like a datagram too large for the path would be.
      this.counters.oversized++;
      return;
    }
    if (seg.flags.rst) {
      this.onRst(seg);
      return;
    }
    if (!this.irsKnown) {
      this.inSynSent(seg, now);
      return;
    }
    if (seg.flags.syn) {
      this.onSynAgain(seg, now);
      return;
    }
    // Every segment after the SYN carries an ACK (RFC 9293 3.10.7.4, fifth check).
    if (!seg.flags.ack) return;
    if (!this.processAck(seg, now)) return;
    if (!this.established) {
      if (this.sndUna !== seqAdd(this.iss, 1)) return;
      this.becomeEstablished();
    }
    this.processData(seg, now);
    this.checkClosed(now);
    this.flush(now);
  }

  /**
   * Queue bytes for sending. Returns false when the send buffer is at or above
   * `sendBufferBytes` afterwards (the bytes are still queued), like `stream.write`; wait for
   * the `drain` event before writing more.
   *
   * With `opts.more` (as `MSG_MORE`: the caller has more bytes at once) the bytes are only
   * queued; they are cut into segments at the next write without it, {@link end} or
   * {@link sendQueued}, so a burst of writes leaves in full-size segments.
   *
   * @throws HipProtocolError `ERR_STREAM_WRITE_AFTER_END` after {@link end},
   *   `ERR_STREAM_CLOSED` once closed; HipArgumentError `ERR_STREAM_BAD_ARGUMENT` if `data`
   *   is not a Uint8Array.
   */
  write(data: Uint8Array, now: number, opts?: { more?: boolean }): boolean {
    if (!(data instanceof Uint8Array)) {
      throw new HipArgumentError('ERR_STREAM_BAD_ARGUMENT', 'write() takes a Uint8Array');
    }
    if (this.closedFlag) throw new HipProtocolError('ERR_STREAM_CLOSED', 'write() on a closed stream');
    if (this.localEnded) throw new HipProtocolError('ERR_STREAM_WRITE_AFTER_END', 'write() after end()');
    if (data.length > 0) {
      this.sendQueue.push(data);
      if (opts?.more !== true) this.flush(now);
    }
    const ok = this.bufferedBytes < this.config.sendBufferBytes;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Cut what `write(..., { more: true })` queued into segments, as far as the windows allow. */
  sendQueued(now: number): void {
    this.flush(now);
  }

  /** Close this direction: a FIN follows the queued data. Repeated calls and calls after close do nothing. */
  end(now: number): void {
    if (this.closedFlag || this.localEnded) return;
    this.localEnded = true;
    this.flush(now);
  }

  /**
   * Abort: drop everything queued, queue a RST (if the handshake had started) and report
   * `closed`. Nothing happens if already closed.
   */
  reset(now: number): void {
    void now;
    if (this.closedFlag) return;
    const started = this.started;
    this.abort();
    this.rstPending = started;
    this.emitEvent({ type: 'closed' });
  }

  /** Run the timers that are due at `now` (early calls are harmless). */
  handleTimeout(now: number): void {
    if (this.closedFlag) {
      if (this.lingerAt !== undefined && now >= this.lingerAt) this.lingerAt = undefined;
      return;
    }
    if (this.ackAt !== undefined && now >= this.ackAt) {
      this.ackAt = undefined;
      this.ackNow = true;
    }
    if (this.rtxAt !== undefined && now >= this.rtxAt) {
      this.rtxAt = undefined;
      this.onRetransmitTimeout(now);
    }
    if (this.lossAt !== undefined && now >= this.lossAt) {
      this.lossAt = undefined;
      this.detectLosses(now);
    }
    if (this.paceAt !== undefined && now >= this.paceAt) this.paceAt = undefined;
    this.flush(now);
  }

  /** When {@link handleTimeout} should next run, or `undefined` when no timer is armed. */
  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const x of [this.rtxAt, this.ackAt, this.lingerAt, this.lossAt, this.paceAt]) {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    }
    return t;
  }

  /** Record a segment for this port pair that `decodeSegment` rejected with `ERR_STREAM_BAD_CHECKSUM`. */
  countBadChecksum(): void {
    this.counters.badChecksums++;
  }

  /**
   * The next segment to send, or `undefined`. Acknowledgement number and window are filled in
   * now, so a segment polled late still carries fresh values.
   */
  pollSegment(): Segment | undefined {
    const first = this.outbox[0];
    if (first?.syn && this.role === 'client' && !this.irsKnown && !first.retransmitted && first.data.length === 0 && this.pendingBytes > 0 && !this.rstPending && this.replies.length === 0) {
      // What was written before the SYN leaves rides on it (up to one segment), so the first
      // bytes reach the peer with the SYN instead of a round trip later.
      const data = this.sendQueue.take(Math.min(this.sendMss, this.pendingBytes));
      first.data = data;
      this.sndNxt = seqAdd(this.sndNxt, data.length);
      this.inflightBytes += data.length;
    }
    const reply = this.replies.shift();
    if (reply !== undefined) {
      this.counters.segmentsSent++;
      return reply;
    }
    if (this.rstPending) {
      this.rstPending = false;
      return this.build({
        seq: this.sndNxt,
        data: EMPTY,
        flags: { syn: false, ack: this.irsKnown, fin: false, rst: true, psh: false },
      });
    }
    if (this.dupAcksOwed > 0 && this.irsKnown) {
      const owed = this.dupAcksOwed - 1;
      const seg = this.pureAck();
      this.dupAcksOwed = owed;
      return seg;
    }
    while (this.outbox.length > 0) {
      const r = this.outbox.shift()!;
      r.queued = false;
      if (r.done) continue;
      return this.build({
        seq: r.seq,
        data: r.data,
        flags: { syn: r.syn, ack: this.irsKnown, fin: r.fin, rst: false, psh: r.psh },
      });
    }
    if (this.ackNow && this.irsKnown) return this.pureAck();
    return undefined;
  }

  /**
   * The next event for the user, or `undefined`. Taking `data` out frees receive buffer space.
   *
   * A reader that cannot take more data now (Node's `push()` returned false) passes
   * `{ data: false }`: then only the events that are not part of the byte stream come out
   * (`connected`, `drain`, `reset`, `error`), while `data`, `end` and `closed` stay queued in
   * order. Data left queued counts against the receive buffer, so the advertised window
   * closes and the peer's writer stops: that is the stream's flow control.
   */
  pollEvent(opts?: { data?: boolean }): StreamEvent | undefined {
    let e: StreamEvent | undefined;
    if (opts?.data === false) {
      if (this.signalEvents === 0) return undefined;
      const i = this.events.findIndex(isSignal);
      e = this.events.splice(i, 1)[0];
    } else {
      e = this.events.shift();
    }
    if (e !== undefined && isSignal(e)) this.signalEvents--;
    if (e?.type === 'data') {
      this.undelivered -= e.data.length;
      // Receiver-side silly-window avoidance: announce a reopened window only when it had
      // become small and has grown by at least two segments.
      if (this.established && !this.closedFlag && !this.remoteEnded) {
        const win = this.windowField() * WINDOW_SCALE;
        const { receiveBufferBytes } = this.config;
        if (this.lastAdvertisedBytes < receiveBufferBytes / 2 && win - this.lastAdvertisedBytes >= Math.min(2 * this.receiveMss, receiveBufferBytes / 2)) {
          this.ackNow = true;
        }
      }
    }
    return e;
  }

  // ---------------------------------------------------------------------------------------
  // inbound

  private inSynSent(seg: Segment, now: number): void {
    // Our SYN may carry data: the peer acknowledges all of it, or only the SYN.
    if (seg.flags.ack && (seqDiff(seg.ack, seqAdd(this.iss, 1)) < 0 || seqDiff(seg.ack, this.sndNxt) > 0)) {
      // An ACK for some other connection on this port pair (the peer still has a stale one):
      // a reset with the sequence number it expects makes it let go (RFC 9293 3.10.7.3).
      this.replies.push({
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq: seg.ack,
        ack: 0,
        flags: { syn: false, ack: false, fin: false, rst: true, psh: false },
        window: 0,
        data: EMPTY,
      });
      return;
    }
    // Only a SYN+ACK for our SYN moves a client on; simultaneous open is not supported.
    if (!seg.flags.syn || !seg.flags.ack) return;
    this.learnIrs(seg.seq);
    this.learnPeerMss(seg);
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.processAck(seg, now);
    this.becomeEstablished();
    // The server sends without waiting for this ACK (see accept): it only releases the SYN+ACK
    // there, so it goes as a delayed ACK, on our next data or with the ACK of the server's
    // first answer, rather than as an ESP packet of its own.
    if (this.config.ackDelayMs === 0) this.ackNow = true;
    else this.ackAt ??= now + this.config.ackDelayMs;
    this.flush(now);
  }

  /** A SYN once the peer's initial sequence number is known: a retransmission or a duplicate. */
  private onSynAgain(seg: Segment, now: number): void {
    if (seg.seq === this.irs) this.counters.duplicates++;
    const synAck = this.inflight[0];
    if (this.role === 'server' && synAck?.syn === true && !seg.flags.ack && seg.seq === this.irs) {
      // Our SYN+ACK was lost (it is still unacknowledged): send it again now rather than
      // waiting for the timer.
      this.retransmit(synAck, now);
      if (!this.config.reliableCarrier) this.rtxAt = now + this.rto;
      return;
    }
    // A duplicate SYN+ACK means our ACK was lost; anything else gets our current ACK too.
    this.ackNow = true;
  }

  private onRst(seg: Segment): void {
    let acceptable: boolean;
    if (!this.irsKnown) {
      // It must acknowledge our SYN, and at most what rode on it (RFC 9293 3.10.7.3:
      // SND.UNA < SEG.ACK =< SND.NXT): the answer to a SYN with data acknowledges the data too.
      acceptable = seg.flags.ack && seqDiff(seg.ack, seqAdd(this.iss, 1)) >= 0 && seqDiff(seg.ack, this.sndNxt) <= 0;
    } else {
      const off = seqDiff(seg.seq, this.rcvNxt);
      acceptable = off >= 0 && off <= Math.max(this.config.receiveBufferBytes, 1);
    }
    if (!acceptable) return;
    const reason = this.established ? 'connection reset by peer' : REFUSED;
    this.abort();
    this.emitEvent({ type: 'reset', reason });
  }

  /**
   * Apply the ACK field. Returns false when the segment must be dropped (it acknowledges
   * something never sent).
   */
  private processAck(seg: Segment, now: number): boolean {
    const a = seg.ack;
    if (seqDiff(a, this.sndNxt) > 0) {
      this.ackNow = true;
      return false;
    }
    const older = seqDiff(a, this.sndUna) < 0;
    if (older) return true;
    const prevWnd = this.sndWnd;
    // Window update only from a segment at least as new as the last one used (RFC 9293 SND.WL1/WL2).
    const d1 = seqDiff(seg.seq, this.sndWl1);
    if (d1 > 0 || (d1 === 0 && seqDiff(a, this.sndWl2) >= 0)) {
      this.sndWnd = seg.window * WINDOW_SCALE;
      this.sndWl1 = seg.seq;
      this.sndWl2 = a;
    }
    if (this.config.reliableCarrier) {
      // Nothing to time: an ACK releases what it covers (kept only for a carrier replacement).
      if (seqDiff(a, this.sndUna) > 0) {
        this.releaseAcked(a);
        this.sndUna = a;
        this.retries = 0;
        if (this.finSent && a === this.sndNxt) this.finAcked = true;
        this.drainIfRoom();
      }
      return true;
    }
    if (seg.sack !== undefined && seg.sack.length > 0 && !this.peerSacks && this.established) {
      // From now on the SACK scoreboard finds losses; a NewReno recovery under way ends here.
      this.peerSacks = true;
      this.inRecovery = false;
      this.fastRecovery = false;
      this.dupAcks = 0;
    }
    if (this.peerSacks) return this.processSackAck(seg, now);
    if (a === this.sndUna) {
      if (this.inflight.length === 0) {
        // Zero-window probing with the peer answering: it is alive, just full.
        if (this.sndWnd === 0) this.retries = 0;
        return true;
      }
      // A pure ACK that opens the window is the reader making room, not a sign of a hole
      // (RFC 5681's duplicate ACK leaves the window as it was; out-of-order data may shrink it).
      const opensWindow = seg.window * WINDOW_SCALE > prevWnd;
      if (seg.data.length === 0 && !seg.flags.fin && !seg.flags.syn && this.established && !opensWindow) {
        if (this.sndWnd === 0) this.retries = 0;
        this.dupAcks++;
        const hole = this.inflight[0]!;
        if (this.dupAcks === 3 && !this.inRecovery) {
          this.inRecovery = true;
          this.fastRecovery = true;
          this.recover = this.sndNxt;
          // Multiplicative decrease (RFC 5681 3.2, without window inflation, as RFC 9002 does).
          this.ssthresh = Math.max(Math.floor(this.inflightBytes / 2), 2 * this.sendMss);
          this.cwnd = this.ssthresh;
          this.retransmit(hole, now);
          this.rtxAt = now + this.rto;
        } else if (this.inRecovery && hole.retransmitted && this.srtt !== undefined) {
          // Duplicate ACKs still arriving a round trip after the hole was resent were sent by
          // segments that left after it, so the resent copy was lost too: send it again now
          // rather than after a (backed-off) RTO.
          if (now - hole.sentAt > this.srtt + 2 * this.rttvar + 1 && ++this.lateDupAcks >= 2) {
            this.retransmit(hole, now);
            this.rtxAt = now + this.rto;
          }
        }
      }
      return true;
    }

    // RTT sample: the ACK was triggered by the last of the covered segments to arrive, so if
    // the newest one went out only once (Karn) and no covered segment went out later than it,
    // then `now - newest.sentAt` is one round trip. Requiring every covered segment to be
    // clean, as RFC 6298 is often read, starves the estimator on a lossy path where nearly
    // every cumulative ACK also covers a retransmitted hole; taking the newest regardless of
    // the others inflates it by the time holes took to fill.
    let newest: Outgoing | undefined;
    let lastSent = -Infinity;
    const ackedBytes = seqDiff(a, this.sndUna);
    while (this.inflight.length > 0) {
      const r = this.inflight[0]!;
      const end = seqAdd(r.seq, seqLength(r));
      if (seqDiff(end, a) <= 0) {
        this.inflight.shift();
        r.done = true;
        this.inflightBytes -= r.data.length;
        newest = r;
        lastSent = Math.max(lastSent, r.sentAt);
        if (r.fin) this.finAcked = true;
        continue;
      }
      this.trimFront(r, a);
      break;
    }
    this.sndUna = a;
    this.retries = 0;
    // Progress ends the backoff at once: with Karn's rule alone a lossy path that keeps
    // retransmitting would rarely yield a clean sample and would stay at the longest RTO.
    this.backoff = 0;
    this.dupAcks = 0;
    this.lateDupAcks = 0;
    if (newest !== undefined) {
      if (!newest.retransmitted && newest.sentAt >= lastSent) {
        this.sampleRtt(now - newest.sentAt);
      } else if (this.srtt === undefined && newest.sentAt >= lastSent) {
        // No clean sample yet (the handshake was retransmitted): time the latest transmission.
        // If an earlier copy triggered the ACK this underestimates; minRtoMs bounds the harm,
        // and staying at initialRtoMs through a lossy transfer would cost far more.
        this.sampleRtt(now - newest.sentAt);
      }
    }
    if (this.inRecovery) {
      if (seqDiff(a, this.recover) >= 0) {
        this.inRecovery = false;
        this.fastRecovery = false;
      } else if (this.inflight.length > 0) {
        // A partial ACK points at the next hole: fill it now rather than after another RTO.
        this.retransmit(this.inflight[0]!, now);
      }
    }
    if (!this.fastRecovery) this.growWindow(ackedBytes);
    this.rtxAt = this.inflight.length > 0 ? now + this.rto : undefined;
    this.drainIfRoom();
    return true;
  }

  /** 'drain' once, when a writer told to wait (write() returned false) has room again. */
  private drainIfRoom(): void {
    if (this.needDrain && this.bufferedBytes < this.config.sendBufferBytes) {
      this.needDrain = false;
      this.emitEvent({ type: 'drain' });
    }
  }

  /** The peer took the part of `r` before `a` (its buffer was short): keep only the rest. */
  private trimFront(r: (typeof this.inflight)[number], a: number): void {
    if (seqDiff(a, r.seq) <= 0) return;
    let k = seqDiff(a, r.seq);
    if (r.syn) {
      r.syn = false;
      k--;
    }
    r.data = r.data.subarray(k);
    this.inflightBytes -= k;
    r.seq = a;
  }

  /** Reliable carrier: drop the segments that `a` acknowledges from the flight; trim one it covers in part. */
  private releaseAcked(a: number): void {
    let n = 0;
    const flight = this.inflight;
    while (n < flight.length) {
      const r = flight[n]!;
      if (seqDiff(seqAdd(r.seq, seqLength(r)), a) <= 0) {
        r.done = true;
        this.inflightBytes -= r.data.length;
        // Nothing resends it any more: its block can take new writes.
        this.sendQueue.recycle(r.data);
        n++;
        continue;
      }
      this.trimFront(r, a);
      break;
    }
    if (n > 0) flight.splice(0, n);
  }

  /** Bytes in flight as congestion control counts them: sent, not acknowledged, not SACKed, not declared lost. */
  private get pipe(): number {
    return this.inflightBytes - this.sackedBytes - this.lostBytes;
  }

  /**
   * An ACK from a peer that sends SACK blocks: take the cumulative ACK and the blocks, time the
   * newest newly acknowledged transmission, declare losses (RFC 9002 6.1) and grow the window
   * by what was newly acknowledged outside a recovery period.
   */
  private processSackAck(seg: Segment, now: number): boolean {
    const a = seg.ack;
    let newest: Outgoing | undefined;
    let grow = 0;
    const acked = (r: Outgoing, bytes: number): void => {
      if (newest === undefined || r.pn > newest.pn) newest = r;
      if (r.pn >= this.recoveryStartPn) grow += bytes;
    };
    const advanced = seqDiff(a, this.sndUna) > 0;
    while (advanced && this.inflight.length > 0) {
      const r = this.inflight[0]!;
      const end = seqAdd(r.seq, seqLength(r));
      if (seqDiff(end, a) <= 0) {
        this.inflight.shift();
        r.done = true;
        this.inflightBytes -= r.data.length;
        if (r.sacked) this.sackedBytes -= r.data.length;
        else acked(r, r.data.length);
        if (r.lost) this.unmarkLost(r);
        if (r.fin) this.finAcked = true;
        continue;
      }
      if (seqDiff(a, r.seq) > 0) {
        // The peer took part of this segment (its buffer was short): keep only the rest.
        let k = seqDiff(a, r.seq);
        if (r.syn) {
          r.syn = false;
          k--;
        }
        if (r.lost) this.lostBytes -= k;
        r.data = r.data.subarray(k);
        this.inflightBytes -= k;
        r.seq = a;
        acked(r, k);
      }
      break;
    }
    const blocks = seg.sack;
    if (blocks !== undefined && blocks.length > 0) {
      for (const r of this.inflight) {
        if (r.sacked || r.queued || !sackCovers(blocks, r.seq, r.data.length)) continue;
        r.sacked = true;
        this.sackedBytes += r.data.length;
        if (r.lost) this.unmarkLost(r);
        acked(r, r.data.length);
      }
    }
    if (advanced) {
      this.sndUna = a;
      this.retries = 0;
      this.backoff = 0;
    } else if (this.inflight.length === 0 && this.sndWnd === 0) {
      // Zero-window probing with the peer answering: it is alive, just full.
      this.retries = 0;
    }
    if (newest !== undefined) {
      this.largestAckedPn = Math.max(this.largestAckedPn, newest.pn);
      // RFC 9002 5.1: the newest acknowledged transmission gives the sample, unless it was a
      // retransmission (Karn: the ACK may be for the first copy).
      if (!newest.retransmitted) this.sampleRtt(now - newest.sentAt);
      this.detectLosses(now);
      if (grow > 0) this.growWindow(grow);
      this.rtxAt = this.inflight.length > 0 ? now + this.rto : undefined;
    }
    this.drainIfRoom();
    return true;
  }

  /**
   * RFC 9002 6.1: a transmission is lost when one sent at least three transmissions later has
   * been acknowledged, or when it is older than 9/8 of a round trip and a later one has been
   * acknowledged; for the youngest of the latter the loss timer is armed.
   */
  private detectLosses(now: number): void {
    if (!this.peerSacks || this.largestAckedPn < 0) return;
    const rtt = this.srtt ?? this.baseRto;
    const delay = Math.max(1, (9 / 8) * rtt);
    let at: number | undefined;
    let congestion = false;
    for (const r of this.inflight) {
      if (r.sacked || r.lost || r.queued || r.pn > this.largestAckedPn) continue;
      if (this.largestAckedPn - r.pn >= 3 || r.sentAt + delay <= now) {
        this.markLost(r);
        this.counters.lostBySack++;
        if (r.pn >= this.recoveryStartPn) congestion = true;
      } else if (at === undefined || r.sentAt + delay < at) {
        at = r.sentAt + delay;
      }
    }
    this.lossAt = at;
    if (congestion) {
      // One reduction per round trip: losses of what was sent before this point belong to it.
      // Halve what was really flying (RFC 5681's FlightSize): a window that grew past what flow
      // control or sendWindowSegments let out says nothing about the path.
      this.recoveryStartPn = this.nextPn;
      this.ssthresh = Math.max(Math.floor(Math.min(this.cwnd, this.inflightBytes) / 2), 2 * this.sendMss);
      this.cwnd = this.ssthresh;
      this.fastRetransmits = 1;
    }
  }

  private markLost(r: Outgoing): void {
    r.lost = true;
    this.lostBytes += r.data.length;
    this.lostQueue.push(r);
  }

  /** Undo {@link markLost}: the segment was acknowledged or is being resent (it stays in the queue, which skips it). */
  private unmarkLost(r: Outgoing): void {
    r.lost = false;
    this.lostBytes -= r.data.length;
  }

  /** Resend declared-lost segments, oldest declaration first, as the congestion window and the pacer allow. */
  private resendLost(now: number): void {
    let i = 0;
    for (; i < this.lostQueue.length; i++) {
      const r = this.lostQueue[i]!;
      if (!r.lost || r.done) continue;
      const len = r.data.length;
      const overWindow = this.pipe > 0 && this.pipe + len > this.cwnd;
      if (overWindow && this.fastRetransmits === 0) break;
      if (!this.paced(len, now)) break;
      if (overWindow) this.fastRetransmits--;
      this.unmarkLost(r);
      this.retransmit(r, now);
      this.pacer.onSend(len);
    }
    this.lostQueue.splice(0, i);
  }

  /** Ask the pacer whether `bytes` of data may leave now; if not, arm the pacing timer. */
  private paced(bytes: number, now: number): boolean {
    if (this.pacer.canSend(bytes, now, this.cwnd, this.srtt)) return true;
    if (this.paceAt === undefined) {
      this.counters.pacingDelays++;
      this.paceAt = this.pacer.nextSendTime(bytes, now, this.cwnd, this.srtt!);
    }
    return false;
  }

  /** Additive increase: slow start below ssthresh (at most two segments per ACK, RFC 3465), then about one segment per round trip. */
  private growWindow(acked: number): void {
    const mss = this.sendMss;
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, 2 * mss);
    else this.cwnd += Math.max(1, Math.floor((mss * acked) / this.cwnd));
    // A window far beyond what flow control lets fly only delays the reaction to a loss.
    this.cwnd = Math.min(this.cwnd, Math.max(this.config.sendWindowSegments * mss, this.config.receiveBufferBytes) * 2);
  }

  private processData(seg: Segment, now: number): void {
    const len = seg.data.length;
    const hasFin = seg.flags.fin;
    if (len === 0 && !hasFin) return;
    if (this.remoteEnded) {
      // Everything the peer will send has arrived: this is a retransmission.
      this.counters.duplicates++;
      this.ackNow = true;
      return;
    }
    let off = seqDiff(seg.seq, this.rcvNxt);
    const end = off + len;
    if (end < 0 || (end === 0 && !hasFin)) {
      this.counters.duplicates++;
      this.oweDupAck();
      return;
    }
    let data = seg.data;
    if (off < 0) {
      data = data.subarray(-off);
      off = 0;
    }
    const free = Math.max(0, this.config.receiveBufferBytes - this.held());
    if (off === 0) {
      const take = Math.min(data.length, free);
      if (take > 0) this.deliver(data.subarray(0, take));
      if (take < data.length) {
        // Buffer full: the rest (and any FIN) comes again once the window reopens.
        this.ackNow = true;
      } else if (hasFin) {
        this.remoteFinSeq = this.rcvNxt;
      }
      const filled = this.ooo.length > 0;
      this.drainOutOfOrder();
      if (filled || this.config.ackDelayMs === 0) {
        this.ackNow = true;
      } else if (take > 0) {
        this.segsUnacked++;
        if (this.segsUnacked >= this.config.ackEverySegments) this.ackNow = true;
        else if (this.ackAt === undefined) this.ackAt = now + this.config.ackDelayMs;
      }
    } else {
      this.counters.outOfOrder++;
      this.oweDupAck();
      if (off + data.length <= free) {
        this.storeOutOfOrder(seg.seq, data, hasFin);
        this.recentOooSeq = seg.seq;
      }
    }
    if (this.remoteFinSeq !== undefined && this.rcvNxt === this.remoteFinSeq) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.remoteEnded = true;
      this.mayNeedLinger = this.finSent;
      // Nothing the peer sent past its FIN is part of the stream.
      this.ooo = [];
      this.oooBytes = 0;
      this.ackNow = true;
      this.emitEvent({ type: 'end' });
    }
  }

  private storeOutOfOrder(seq: number, data: Uint8Array, fin: boolean): void {
    if (fin) this.remoteFinSeq = seqAdd(seq, data.length);
    if (data.length === 0) return;
    const off = seqDiff(seq, this.rcvNxt);
    let i = 0;
    while (i < this.ooo.length && seqDiff(this.ooo[i]!.seq, this.rcvNxt) < off) i++;
    const same = this.ooo[i];
    if (same !== undefined && same.seq === seq && same.data.length >= data.length) {
      this.counters.duplicates++;
      return;
    }
    this.ooo.splice(i, 0, { seq, data });
    this.oooBytes += data.length;
  }

  private drainOutOfOrder(): void {
    while (this.ooo.length > 0 && seqDiff(this.ooo[0]!.seq, this.rcvNxt) <= 0) {
      const e = this.ooo.shift()!;
      this.oooBytes -= e.data.length;
      const skip = seqDiff(this.rcvNxt, e.seq);
      if (skip < e.data.length) this.deliver(e.data.subarray(skip));
    }
  }

  private oweDupAck(): void {
    // More than three in one batch tell the peer nothing new.
    this.dupAcksOwed = Math.min(this.dupAcksOwed + 1, 3);
  }

  private deliver(data: Uint8Array): void {
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    this.undelivered += data.length;
    this.emitEvent({ type: 'data', data });
  }

  /**
   * After a graceful close, while lingering: everything the peer sends now is a retransmission
   * (its FIN, or older data when our cumulative ACK got lost), so answer with our final ACK.
   */
  private afterClose(seg: Segment, now: number): void {
    if (this.lingerAt === undefined || seg.flags.rst || seg.flags.syn) return;
    if (seg.data.length === 0 && !seg.flags.fin) return;
    this.counters.duplicates++;
    this.ackNow = true;
    this.lingerAt = now + this.config.lingerMs;
  }

  // ---------------------------------------------------------------------------------------
  // outbound and timers

  /** Send what the windows allow: new data, then the FIN; arm the retransmission timer. */
  private flush(now: number): void {
    if (this.closedFlag || !this.established) return;
    const mss = this.sendMss;
    const { sendWindowSegments } = this.config;
    const reliable = this.config.reliableCarrier;
    const wasIdle = this.inflight.length === 0;
    if (this.lostQueue.length > 0) this.resendLost(now);
    let last: Outgoing | undefined;
    while (this.pendingBytes > 0 && (reliable || this.inflight.length < sendWindowSegments) && !this.finSent) {
      const usable = this.sndWnd - seqDiff(this.sndNxt, this.sndUna);
      const room = reliable ? Infinity : this.cwnd - this.pipe;
      const n = Math.min(mss, this.pendingBytes, usable, room);
      if (n <= 0) break;
      // Sender-side silly-window avoidance: no small window-limited segments while others fly.
      if (n < mss && n < this.pendingBytes && seqDiff(this.sndNxt, this.sndUna) > 0) break;
      if (!reliable && !this.paced(n, now)) break;
      last = this.sendNew(this.sendQueue.take(n), now);
    }
    if (this.localEnded && !this.finSent && this.pendingBytes === 0) {
      this.finSent = true;
      if (last !== undefined && last.queued) {
        last.fin = true;
      } else {
        last = this.track({ seq: this.sndNxt, data: EMPTY, syn: false, fin: true, psh: false }, now);
      }
      this.sndNxt = seqAdd(this.sndNxt, 1);
    }
    this.drainIfRoom();
    // A reliable carrier loses nothing and delivers every window update while it lives (a
    // replaced one is handled by carrierReplaced): no timers.
    if (reliable) return;
    if (this.inflight.length > 0) {
      // A timer armed while idle was the persist timer; the first segment in flight restarts it.
      if (wasIdle || this.rtxAt === undefined) this.rtxAt = now + this.rto;
    } else if (this.pendingBytes > 0 && this.rtxAt === undefined) {
      // Data waits for a window the peer has closed: the timer doubles as the persist timer.
      this.rtxAt = now + this.rto;
    }
  }

  private sendNew(data: Uint8Array, now: number): Outgoing {
    const r = this.track({ seq: this.sndNxt, data, syn: false, fin: false, psh: this.pendingBytes === 0 }, now);
    this.sndNxt = seqAdd(this.sndNxt, data.length);
    this.inflightBytes += data.length;
    if (!this.config.reliableCarrier) this.pacer.onSend(data.length);
    return r;
  }

  private track(fields: Pick<Outgoing, 'seq' | 'data' | 'syn' | 'fin' | 'psh'>, now: number): Outgoing {
    const r: Outgoing = { seq: fields.seq, data: fields.data, syn: fields.syn, fin: fields.fin, psh: fields.psh, sentAt: now, retransmitted: false, queued: true, done: false, pn: this.nextPn++, sacked: false, lost: false };
    this.inflight.push(r);
    this.outbox.push(r);
    return r;
  }

  /** Queue our SYN (client) or SYN+ACK (server: the ACK flag follows from knowing the peer's ISN). */
  private sendSyn(now: number): void {
    this.track({ seq: this.iss, data: EMPTY, syn: true, fin: false, psh: false }, now);
    if (!this.config.reliableCarrier) this.rtxAt = now + this.rto;
  }

  private retransmit(r: Outgoing, now: number): void {
    r.retransmitted = true;
    r.sentAt = now;
    r.pn = this.nextPn++;
    this.lateDupAcks = 0;
    this.counters.retransmissions++;
    if (!r.queued) {
      r.queued = true;
      this.outbox.push(r);
    }
  }

  private onRetransmitTimeout(now: number): void {
    if (this.retries >= this.config.maxRetries) {
      this.fail('ERR_STREAM_TIMEOUT', `no answer from the peer after ${this.retries} retransmissions`);
      return;
    }
    this.retries++;
    this.backoff++;
    const oldest = this.inflight[0];
    if (oldest !== undefined && this.peerSacks && this.established) {
      // Everything the peer has not SACKed is taken for lost and resent oldest first, one
      // segment at first and more as ACKs open the window (RFC 5681 3.1, RFC 6675 5.1).
      if (this.backoff === 1) this.ssthresh = Math.max(Math.floor(Math.min(this.cwnd, this.inflightBytes) / 2), 2 * this.sendMss);
      this.cwnd = this.sendMss;
      this.recoveryStartPn = this.nextPn;
      for (const r of this.inflight) if (!r.sacked && !r.lost && !r.queued) this.markLost(r);
      if (!oldest.sacked && oldest.lost) {
        // The timer's own retransmission goes now, whatever the window and the pacer say.
        this.unmarkLost(oldest);
        this.retransmit(oldest, now);
        this.pacer.onSend(oldest.data.length);
      }
    } else if (oldest !== undefined) {
      this.retransmit(oldest, now);
      if (this.established) {
        // A timeout: the path may have changed a lot; start again from one segment (RFC 5681
        // 3.1), and halve the threshold only for the first timeout of a series.
        if (this.backoff === 1) this.ssthresh = Math.max(Math.floor(this.inflightBytes / 2), 2 * this.sendMss);
        this.cwnd = this.sendMss;
        this.fastRecovery = false;
        // Holes after this one are filled one per partial ACK (NewReno style).
        this.inRecovery = true;
        this.recover = this.sndNxt;
        this.dupAcks = 0;
      }
    } else if (this.established && this.pendingBytes > 0 && !this.finSent) {
      // Zero-window probe: one byte past the window; the peer keeps it if it has room by now
      // and answers with its window either way.
      this.sendNew(this.sendQueue.take(1), now);
    }
    if (this.inflight.length > 0) this.rtxAt = now + this.rto;
  }

  private sampleRtt(r: number): void {
    const sample = Math.max(0, r);
    if (this.srtt === undefined) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    const { minRtoMs, maxRtoMs } = this.config;
    // RFC 6298 plus the peer's ACK delay, as QUIC's PTO does: samples taken while ACKs came
    // back at once must not make a lone segment's delayed ACK look like a loss.
    const est = this.srtt + Math.max(1, 4 * this.rttvar) + this.config.ackDelayMs;
    this.baseRto = Math.min(maxRtoMs, Math.max(minRtoMs, Math.ceil(est)));
  }

  /** The current retransmission timeout, backoff included. */
  private get rto(): number {
    return Math.min(this.config.maxRtoMs, this.baseRto * 2 ** Math.min(this.backoff, 30));
  }

  private becomeEstablished(): void {
    this.established = true;
    this.retries = 0;
    this.emitEvent({ type: 'connected' });
  }

  private checkClosed(now: number): void {
    if (this.closedFlag || !this.finAcked || !this.remoteEnded) return;
    this.closedFlag = true;
    this.rtxAt = undefined;
    this.ackAt = undefined;
    this.lossAt = undefined;
    this.paceAt = undefined;
    this.outbox = [];
    if (this.mayNeedLinger && !this.config.reliableCarrier) this.lingerAt = now + this.config.lingerMs;
    this.emitEvent({ type: 'closed' });
  }

  private fail(code: string, message: string): void {
    this.abort();
    this.rstPending = true;
    this.emitEvent({ type: 'error', code, message });
  }

  /** Drop all state that could send or time out. */
  private abort(): void {
    this.closedFlag = true;
    this.inflight.length = 0;
    this.inflightBytes = 0;
    this.outbox = [];
    this.sendQueue.clear();
    this.ooo = [];
    this.oooBytes = 0;
    this.ackNow = false;
    this.dupAcksOwed = 0;
    this.lostQueue = [];
    this.lostBytes = 0;
    this.sackedBytes = 0;
    this.lossAt = undefined;
    this.paceAt = undefined;
    this.rtxAt = undefined;
    this.ackAt = undefined;
    this.lingerAt = undefined;
  }

  private emitEvent(e: StreamEvent): void {
    if (isSignal(e)) this.signalEvents++;
    this.events.push(e);
  }

  private learnIrs(seq: number): void {
    this.irsKnown = true;
    this.irs = seq;
    this.rcvNxt = seqAdd(seq, 1);
  }

  /** Bytes written and not yet cut into segments. */
  private get pendingBytes(): number {
    return this.sendQueue.length;
  }

  private held(): number {
    return this.oooBytes + this.undelivered;
  }

  private windowField(): number {
    const free = Math.max(0, this.config.receiveBufferBytes - this.held());
    return Math.min(0xffff, Math.floor(free / WINDOW_SCALE));
  }

  private pureAck(): Segment {
    return this.build({
      seq: this.sndNxt,
      data: EMPTY,
      flags: { syn: false, ack: true, fin: false, rst: false, psh: false },
    });
  }

  private build(parts: Pick<Segment, 'seq' | 'data' | 'flags'>): Segment {
    const window = parts.flags.rst ? 0 : this.windowField();
    if (parts.flags.ack) {
      this.ackNow = false;
      this.dupAcksOwed = 0;
      this.ackAt = undefined;
      this.segsUnacked = 0;
    }
    // A SYN announces a window too: without this, the client's first read looked like a window
    // that had reopened from 0 and drew a pure ACK of its own.
    if (!parts.flags.rst) this.lastAdvertisedBytes = window * WINDOW_SCALE;
    this.counters.segmentsSent++;
    const seg: Segment = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: parts.seq,
      ack: parts.flags.ack ? this.rcvNxt : 0,
      flags: parts.flags,
      window,
      data: parts.data,
    };
    // Every SYN tells the peer what this end accepts per segment (TCP's MSS option).
    if (parts.flags.syn) seg.mss = this.receiveMss;
    if (parts.flags.ack && this.ooo.length > 0 && !this.config.reliableCarrier) {
      const blocks = sackBlocks(this.ooo, this.rcvNxt, this.recentOooSeq);
      if (blocks.length > 0) seg.sack = blocks;
    }
    return seg;
  }
}

/**
 * The RST a host should send for a segment that matches no connection (RFC 9293 3.10.7.1), or
 * `undefined` when none is due (the segment is itself a RST).
 *
 * @example
 * ```ts
 * const conn = table.get(key);
 * if (!conn && !seg.flags.syn) { const rst = resetForUnmatched(seg); if (rst) send(rst); }
 * ```
 */
export function resetForUnmatched(seg: Segment): Segment | undefined {
  if (seg.flags.rst) return undefined;
  const base = { srcPort: seg.dstPort, dstPort: seg.srcPort, window: 0, data: EMPTY };
  if (seg.flags.ack) {
    return { ...base, seq: seg.ack, ack: 0, flags: { syn: false, ack: false, fin: false, rst: true, psh: false } };
  }
  const len = seg.data.length + (seg.flags.syn ? 1 : 0) + (seg.flags.fin ? 1 : 0);
  return { ...base, seq: 0, ack: seqAdd(seg.seq, len), flags: { syn: false, ack: true, fin: false, rst: true, psh: false } };
}
