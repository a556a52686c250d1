/**
 * Streams over an association: each HostStream is a Node Duplex backed by a StreamConnection
 * (the sans-IO reliable stream in stream-protocol.ts) whose segments travel in ESP with Next
 * Header 6. For libhipl peers in clear-text mode, a stream is simply the TCP connection's bytes.
 * @module
 */
import { Duplex } from 'node:stream';
import { randomInt } from 'node:crypto';
import { HipArgumentError, HipError, HipProtocolError } from '../errors.js';
import { PortTable } from './port-table.js';
import type { Session } from './session.js';
import { isLoopbackPeer, type TcpConnection } from '../transport/index.js';
import { decodeSegment, encodeSegment, INNER_TCP, REFUSED, resetForUnmatched, resolvedStreamConfig, StreamConnection, type Segment, type StreamConfig } from './stream-protocol.js';

/** What the multiplexer needs from its host. */
export interface StreamHost {
  sessionFor(hit: string): Session | undefined;
  sendEsp(s: Session, nextHeader: number, payload: Uint8Array | readonly Uint8Array[]): void;
  sendClear(s: Session, data: Uint8Array): void;
  connect(hit: string, opts?: { streamLocalPort?: number }): Promise<unknown>;
  close(hit: string): Promise<void>;
  reschedule(): void;
  now(): number;
  readonly tcpAddress?: { port: number } | undefined;
  /**
   * Someone can read the inner packets (a pcap or a Wireshark key log is being written): then
   * segments carry a valid TCP checksum; otherwise the ESP ICV alone protects them.
   */
  readonly innerVisible?: boolean;
}

const EMPTY = new Uint8Array(0);
/** Segments with at least this much data are sealed and written as pieces (header, data). */
const GATHER_MIN = 4096;
/**
 * Stream segment size over a TCP carrier: the 64 KiB hipl frame less room for the largest ESP
 * overhead (header, IV, padding, trailer, ICV) and the segment header.
 */
const TCP_CARRIER_MSS = 65280;
/**
 * Bytes of ESP frames that may wait in the TCP carrier's socket for the kernel before a stream
 * stops sending and waits for 'drain': a few frames per gathered write, so that one system
 * call and one 'drain' serve several 64 KiB frames.
 */
const TCP_WRITE_BATCH = 256 * 1024;
/**
 * Stream defaults over a TCP carrier (the host's `stream` option overrides them): ESP-frame-sized
 * segments; a send buffer as large as the peer's default window, so that the writer keeps
 * the window full; and one ACK per 8 segments (~512 KiB, half the window), since over TCP an
 * ACK only releases kept data and moves the window: every ACK is an ESP packet both ends pay for.
 */
const TCP_CARRIER_STREAM = { mss: TCP_CARRIER_MSS, sendBufferBytes: 1024 * 1024, ackEverySegments: 8 };
/**
 * Stream defaults over UDP to a loopback peer (the host's `stream` option overrides them): a
 * send buffer as large as the peer's default window, as over TCP. With 256 KiB, eight 32 KiB
 * segments were all a writer could have unacknowledged, so a receiver that was scheduled late
 * (a loaded machine) stalled the sender for its whole delay.
 */
const LOOPBACK_STREAM = { sendBufferBytes: 1024 * 1024 };

/**
 * A byte stream to a peer named by its HIT: a Node Duplex. Exported publicly as `HiplStream`;
 * `HiplHost.connect` returns one and a `HiplServer` emits one per `'connection'`.
 *
 * @example
 * ```ts
 * const s = host.connect({ hit: peerHit, port: 7 });
 * s.write('hello');
 * s.on('data', (d) => console.log(d.toString()));
 * ```
 */
export class HostStream extends Duplex {
  /** Peer HIT (canonical text). */
  readonly remoteHit: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** Our port. */
  readonly localPort: number;
  /** @internal */ conn: StreamConnection | undefined;
  /** @internal */ session: Session | undefined;
  /** @internal */ pending: { chunk: Uint8Array; cb: (e?: Error | null) => void }[] = [];
  /** @internal */ endRequested = false;
  /** @internal The association closed: nothing more can be written. */ gone = false;
  /** @internal Written bytes wait for a microtask that cuts them into segments. */ sendScheduled = false;
  /** @internal A microtask will send the client's SYN (with what was written by then). */ synScheduled = false;
  /** @internal Write callbacks held back until the connection drains. */ blocked: ((e?: Error | null) => void)[] = [];
  /** Bytes received (net.Socket's `bytesRead`). */
  bytesRead = 0;
  /** Bytes handed to the association for sending (net.Socket's `bytesWritten`). */
  bytesWritten = 0;
  /** @internal `push()` returned false: received data stays in the connection (its window closes) until `_read()`. */ readPaused = false;
  private readonly mux: StreamMux;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(mux: StreamMux, remoteHit: string, remotePort: number, localPort: number) {
    super({ allowHalfOpen: true });
    this.mux = mux;
    this.remoteHit = remoteHit;
    this.remotePort = remotePort;
    this.localPort = localPort;
    mux.track(this);
  }

  /** The peer's IP address (its locator on the carrier), once the association is up. */
  get remoteAddress(): string | undefined {
    return this.session?.locator.peer.address;
  }

  /** `'IPv4'` or `'IPv6'`, of {@link remoteAddress}. */
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    const f = this.session?.locator.peer.family;
    return f === undefined ? undefined : f === 6 ? 'IPv6' : 'IPv4';
  }

  /**
   * As net.Socket's: emit `'timeout'` after `ms` without data in either direction (0 turns it
   * off). The stream stays open; end or destroy it in the listener.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (!Number.isFinite(ms) || ms < 0) throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', `not a timeout: ${ms}`);
    if (callback) this.once('timeout', callback);
    this.idleMs = ms;
    this.touch();
    return this;
  }

  /** @internal Data moved: restart the idle timer. */
  touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idleMs === 0 || this.destroyed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.emit('timeout');
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** Readable hook: count received bytes and restart the idle timer. */
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk instanceof Uint8Array) {
      this.bytesRead += chunk.byteLength;
      this.touch();
    }
    return super.push(chunk, encoding);
  }

  /**
   * Duplex hook: hand the chunk to the multiplexer (queued until the association is up); `cb`
   * is held back while the send buffer is full, which is Node's backpressure.
   */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.bytesWritten += chunk.byteLength;
    this.touch();
    this.mux.write(this, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), cb);
  }

  /** Duplex hook: `end()` was called, so send our FIN. */
  override _final(cb: (e?: Error | null) => void): void {
    this.mux.end(this);
    cb();
  }

  /**
   * Duplex hook: the reader wants more. Data the connection held back while Node's buffer was
   * full comes out now, which reopens the receive window the peer sees.
   */
  override _read(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.mux.resumeReading(this);
  }

  /** Duplex hook: reset the connection unless it already finished cleanly. */
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // Node destroys a finished Duplex by itself once both sides ended; the connection must then
    // still deliver its last segments (and our FIN), so only an early or failed stream is reset.
    if (err || !this.readableEnded || !this.writableFinished) this.mux.abort(this);
    cb(err);
  }
}

/** Routes segments to streams, and streams' segments into ESP. */
export class StreamMux {
  private readonly listeners = new PortTable<(s: HostStream) => void>('stream port');
  private readonly streams = new Map<string, HostStream>();
  /** Every stream not yet closed, also those whose association is gone (for destroyAll). */
  private readonly live = new Set<HostStream>();
  /** Streams whose events are being handled right now (guards against re-entry from push()). */
  private readonly flushing = new Set<HostStream>();
  /** TCP carriers whose 'drain' the multiplexer waits for. */
  private readonly draining = new Set<TcpConnection>();

  /** The host's stream options, a frozen copy (connections cache what they resolve from it). */
  private readonly config: Readonly<Partial<StreamConfig>>;

  constructor(
    private readonly host: StreamHost,
    config: Partial<StreamConfig>,
  ) {
    this.config = Object.freeze({ ...config });
  }

  listen(port: number, onStream: (s: HostStream) => void): number {
    return this.listeners.bind(port, onStream);
  }

  unlisten(port: number): void {
    this.listeners.unbind(port);
  }

  open(hit: string, remotePort: number, localPort: number): HostStream {
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) {
      throw new HipArgumentError('ERR_HIP_INVALID_PORT', `not a port: ${remotePort}`);
    }
    const lp = localPort === 0 ? this.freeEphemeral(hit, remotePort) : localPort;
    const stream = new HostStream(this, hit, remotePort, lp);
    this.streams.set(key(hit, lp, remotePort), stream);
    const session = this.host.sessionFor(hit);
    if (session) this.attach(stream, session, 'client');
    else {
      this.host.connect(hit, localPort === 0 ? {} : { streamLocalPort: localPort }).catch((e: unknown) => stream.destroy(e instanceof Error ? e : new HipError('ERR_HIP_BEX_FAILED', String(e))));
    }
    return stream;
  }

  /** An association came up: start the streams that waited for it. */
  established(s: Session): void {
    const hit = s.peerHitText;
    for (const stream of this.streams.values()) {
      if (stream.remoteHit === hit && !stream.session) this.attach(stream, s, 'client');
    }
    if (s.clearText && s.locator.carrier === 'tcp' && !this.hasStreamFor(hit)) {
      // A libhipl peer connected to our TCP listener: the connection itself is the stream.
      const port = this.host.tcpAddress?.port ?? 0;
      const onStream = this.listeners.get(port);
      if (onStream) {
        const stream = new HostStream(this, hit, s.locator.peer.port, port);
        this.streams.set(key(hit, port, stream.remotePort), stream);
        this.attach(stream, s, 'server');
        onStream(stream);
      }
    }
  }

  /** An ESP-carried segment from a peer. */
  segment(s: Session, payload: Uint8Array): void {
    let seg;
    try {
      // The ESP ICV has authenticated every byte, so the inner checksum adds nothing; the
      // payload is a fresh buffer from the decryption, so the data can stay a view into it.
      seg = decodeSegment(payload, s.peerHit, s.localHit, { checksum: false, copy: false });
    } catch (e) {
      s.drop(e instanceof HipError && e.code === 'ERR_STREAM_BAD_CHECKSUM' ? 'bad-checksum' : 'bad-segment');
      return;
    }
    const hit = s.peerHitText;
    const k = key(hit, seg.dstPort, seg.srcPort);
    let stream = this.streams.get(k);
    const now = this.host.now();
    if (!stream) {
      const onStream = this.listeners.get(seg.dstPort);
      if (!seg.flags.syn || seg.flags.ack || !onStream) {
        s.drop('no-port');
        // Like TCP: tell the peer its segment matches nothing here, so it does not retry forever.
        const rst = resetForUnmatched(seg);
        if (rst) this.host.sendEsp(s, INNER_TCP, encodeSegment(rst, s.localHit, s.peerHit, { checksum: this.host.innerVisible === true }));
        return;
      }
      stream = new HostStream(this, hit, seg.srcPort, seg.dstPort);
      this.streams.set(k, stream);
      stream.session = s;
      stream.conn = this.newConn(stream, 'server');
      stream.conn.accept(seg, now);
      this.flush(stream);
      onStream(stream);
      return;
    }
    stream.conn?.handleSegment(seg, now);
    this.flush(stream);
  }

  /**
   * The association moved to another locator (the peer moved, or a NAT rebound it): over UDP,
   * every stream on it cuts its segments to what the new path carries (a stream that sent
   * 32 KiB segments to a loopback peer sends `mss`-sized ones to an address elsewhere, and
   * splits what it still has to resend).
   */
  pathChanged(s: Session): void {
    const mss = this.pathMss(s);
    for (const stream of [...this.streams.values()]) {
      if (stream.session !== s || !stream.conn || stream.conn.config.reliableCarrier) continue;
      stream.conn.setPathMss(mss);
      this.flush(stream);
    }
  }

  /**
   * The association moved to another carrier connection (a broken TCP connection was replaced):
   * every stream on it sends again what the peer has not acknowledged, and its window.
   */
  carrierReplaced(s: Session): void {
    const now = this.host.now();
    for (const stream of [...this.streams.values()]) {
      if (stream.session !== s || !stream.conn) continue;
      stream.conn.carrierReplaced(now);
      this.flush(stream);
    }
  }

  /** Clear-text bytes from a libhipl TCP peer. */
  clearTextData(s: Session, bytes: Uint8Array): void {
    const hit = s.peerHitText;
    for (const stream of this.streams.values()) {
      if (stream.remoteHit === hit && stream.session === s) {
        stream.push(Buffer.from(bytes));
        return;
      }
    }
    s.drop('no-port');
  }

  /**
   * The association ended. After an orderly CLOSE its streams end like a FIN would end them
   * (readable side ends, then the stream is destroyed without error); when the association was
   * lost, they are destroyed with `error`.
   */
  peerGone(s: Session, error?: HipError): void {
    for (const [k, stream] of this.streams) {
      if (stream.session !== s) continue;
      this.streams.delete(k);
      stream.conn = undefined; // nothing more can be sent on a gone association
      if (error) {
        if (!stream.destroyed) stream.destroy(error);
        continue;
      }
      stream.gone = true;
      for (const cb of stream.blocked.splice(0)) cb(new HipProtocolError('ERR_HIP_CLOSED', 'association closed'));
      // Data already received stays readable; the stream goes away once it has been read.
      if (stream.readableEnded) stream.destroy();
      else {
        stream.once('end', () => stream.destroy());
        stream.push(null);
      }
    }
  }

  write(stream: HostStream, chunk: Uint8Array, cb: (e?: Error | null) => void): void {
    if (stream.gone) {
      cb(new HipProtocolError('ERR_HIP_CLOSED', `association with ${stream.remoteHit} is closed`));
      return;
    }
    const s = stream.session;
    if (!s) {
      stream.pending.push({ chunk: chunk.slice(), cb });
      return;
    }
    if (s.clearText) {
      this.host.sendClear(s, chunk);
      cb();
      return;
    }
    this.openSoon(stream);
    // A burst of writes (a writer's loop, or Node releasing what it held during backpressure) is
    // cut into segments once, at the end of the burst: full-size segments instead of one full
    // segment plus a small remainder per write (a 64 KiB write is two ESP frames over TCP, or
    // 32 KiB segments plus a remainder to a loopback peer over UDP, otherwise).
    if (stream.conn!.write(chunk, this.host.now(), { more: true })) cb();
    else stream.blocked.push(cb); // released on the connection's 'drain': Node's backpressure
    if (!stream.sendScheduled) {
      stream.sendScheduled = true;
      queueMicrotask(() => {
        stream.sendScheduled = false;
        if (stream.conn && stream.conn.state !== 'closed') stream.conn.sendQueued(this.host.now());
        this.flush(stream);
      });
    }
  }

  end(stream: HostStream): void {
    stream.endRequested = true;
    if (stream.gone) return;
    const s = stream.session;
    if (!s) return;
    if (s.clearText) {
      // libhipl: a stream is its TCP connection, so ending it ends the association: CLOSE,
      // CLOSE_ACK, and then the host ends the connection (FIN). The stream ends with the CLOSE.
      if (s.locator.carrier === 'tcp') void this.host.close(stream.remoteHit).catch(() => undefined);
      return;
    }
    if (!stream.conn) return;
    this.openSoon(stream);
    stream.conn.end(this.host.now());
    this.flush(stream);
  }

  abort(stream: HostStream): void {
    this.streams.delete(key(stream.remoteHit, stream.localPort, stream.remotePort));
    if (stream.conn && stream.conn.state !== 'closed') {
      stream.conn.reset(this.host.now());
      this.flush(stream);
    }
  }

  handleTimeout(now: number): void {
    for (const stream of [...this.streams.values()]) {
      if (!stream.conn) continue;
      stream.conn.handleTimeout(now);
      this.flush(stream);
    }
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const stream of this.streams.values()) {
      const t = stream.conn?.nextTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** @internal A new stream: destroyAll reaches it until it closes. */
  track(stream: HostStream): void {
    this.live.add(stream);
    stream.once('close', () => this.live.delete(stream));
  }

  /** Destroy every stream still open (the host shuts down): each emits `'close'`. */
  destroyAll(): void {
    for (const stream of [...this.live]) stream.destroy();
    this.live.clear();
    this.streams.clear();
  }

  private attach(stream: HostStream, s: Session, role: 'client' | 'server'): void {
    stream.session = s;
    if (!s.clearText) {
      stream.conn = this.newConn(stream, role);
      if (role === 'client') {
        // The association is up, so the peer is authenticated and every byte written from now
        // on reaches it: the stream is open ('connect', as net.Socket emits it, a tick later).
        // Its SYN waits for what is written in the meantime and carries it (the stream opens
        // with its first ESP packet; a stream destroyed before then costs the peer nothing);
        // without writes it leaves a turn of the event loop later, so a server that speaks
        // first still hears of the stream. A port nobody listens on answers the SYN with a
        // reset: 'error' ERR_HIP_STREAM_REFUSED.
        process.nextTick(() => {
          if (!stream.destroyed && stream.conn?.state !== 'closed') stream.emit('connect');
        });
        setImmediate(() => this.openNow(stream));
      }
    }
    for (const { chunk, cb } of stream.pending.splice(0)) this.write(stream, chunk, cb);
    if (stream.endRequested) this.end(stream);
    this.flush(stream);
  }

  /** A client stream was written to or ended before its SYN left: send the SYN a microtask later, with the whole burst. */
  private openSoon(stream: HostStream): void {
    if (stream.synScheduled || !stream.conn || stream.conn.opened) return;
    stream.synScheduled = true;
    queueMicrotask(() => this.openNow(stream));
  }

  /** Send a client stream's SYN (carrying what was written so far), unless it went already or the stream is gone. */
  private openNow(stream: HostStream): void {
    stream.synScheduled = false;
    const conn = stream.conn;
    if (!conn || conn.opened || conn.state === 'closed') return;
    conn.open(this.host.now());
    this.flush(stream);
  }

  /** The stream configuration over a TCP carrier, made once (connections resolve a config object once, see StreamConnection). */
  private tcpConfig: Partial<StreamConfig> | undefined;
  /** The stream configuration over UDP to a loopback peer, made once likewise. */
  private loopbackConfig: Partial<StreamConfig> | undefined;

  /**
   * What a UDP path to the peer carries per segment: `loopbackMss` to a loopback address (the
   * datagram never leaves this machine; the peer, which sees us on loopback too, announces as
   * much in its SYN), `mss` to anywhere else, where the path MTU is unknown. (A relay on
   * loopback in front of a remote peer is covered by the peer's own, smaller announcement.)
   */
  private pathMss(s: Session): number {
    const cfg = resolvedStreamConfig(this.config);
    return isLoopbackPeer(s.locator.peer) ? cfg.loopbackMss : cfg.mss;
  }

  /** The configuration of a new stream over the session's carrier and path. */
  private connConfig(s: Session): Partial<StreamConfig> {
    if (s.locator.carrier === 'tcp') return (this.tcpConfig ??= { ...TCP_CARRIER_STREAM, ...this.config, reliableCarrier: true });
    if (isLoopbackPeer(s.locator.peer)) return (this.loopbackConfig ??= { ...LOOPBACK_STREAM, ...this.config });
    return this.config;
  }

  private newConn(stream: HostStream, role: 'client' | 'server'): StreamConnection {
    // Over a TCP carrier, TCP already segments, retransmits and orders, so segments can be as
    // large as an ESP frame allows and the stream needs only flow control (no retransmission
    // layer: segments lost with a broken connection come back through carrierReplaced); over
    // UDP they must fit a datagram on the path (see pathMss) and the stream recovers losses itself.
    const s = stream.session!;
    const path = s.locator.carrier === 'tcp' ? {} : { pathMss: this.pathMss(s) };
    return new StreamConnection({ localPort: stream.localPort, remotePort: stream.remotePort, initialSeq: randomInt(0, 2 ** 32 - 1), role, config: this.connConfig(s), ...path });
  }

  /** The reader of a paused stream wants data again: deliver what the connection held back. */
  resumeReading(stream: HostStream): void {
    // Called from inside push() when Node reads synchronously: the running flush sees the flag.
    if (this.flushing.has(stream)) return;
    this.flush(stream);
  }

  /** Turn the connection's events into Duplex actions, then send its segments. */
  private flush(stream: HostStream): void {
    this.flushing.add(stream);
    try {
      this.flushOnce(stream);
    } finally {
      this.flushing.delete(stream);
    }
  }

  private flushOnce(stream: HostStream): void {
    const conn = stream.conn;
    const s = stream.session;
    if (!conn || !s) return;
    // Events first: taking data out of the receive buffer opens the window the next ACK announces.
    // While Node's readable buffer is full, data stays in the connection, so its window closes.
    for (let e = conn.pollEvent({ data: !stream.readPaused }); e; e = conn.pollEvent({ data: !stream.readPaused })) {
      switch (e.type) {
        case 'data':
          if (!stream.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength))) stream.readPaused = true;
          break;
        case 'drain':
          for (const cb of stream.blocked.splice(0)) cb();
          break;
        case 'end':
          stream.push(null);
          break;
        case 'closed':
          if (!stream.readableEnded) stream.push(null);
          break;
        case 'reset':
          stream.destroy(
            e.reason === REFUSED
              ? new HipProtocolError('ERR_HIP_STREAM_REFUSED', `nothing listens on port ${stream.remotePort} of ${stream.remoteHit}: connection refused`)
              : new HipProtocolError('ERR_HIP_STREAM_RESET', `stream reset by ${stream.remoteHit}: ${e.reason}`),
          );
          break;
        case 'error':
          stream.destroy(new HipProtocolError(e.code, e.message));
          break;
        case 'connected':
          // A client's 'connect' came with the association (see attach); a server's stream is
          // handed to its listener, as net.Server's sockets are, with no 'connect'.
          break;
      }
    }
    const tcp = s.locator.carrier === 'tcp' ? s.locator.conn : undefined;
    const checksum = this.host.innerVisible === true;
    if (tcp) {
      // Honour the socket's backpressure: segments wait in the connection (bounded by the
      // peer's window) once TCP_WRITE_BATCH bytes wait for the kernel; what is queued up to
      // there leaves in one writev (Node's own 16 KiB mark would allow one frame per write).
      tcp.cork();
      while (tcp.pendingBytes < TCP_WRITE_BATCH) {
        const seg = conn.pollSegment();
        if (!seg) break;
        this.sendSegment(s, seg, checksum);
      }
      tcp.uncork();
      if (tcp.needsDrain) this.waitForDrain(tcp, s);
    } else {
      for (let seg = conn.pollSegment(); seg; seg = conn.pollSegment()) this.sendSegment(s, seg, checksum);
    }
    // A closed connection lingers to re-acknowledge a repeated FIN; forget it only when it is done.
    if (conn.state === 'closed' && conn.nextTimeout() === undefined) {
      this.streams.delete(key(stream.remoteHit, stream.localPort, stream.remotePort));
    }
    this.host.reschedule();
  }

  /**
   * Seal and send one segment. Without a checksum the header does not depend on the data: header
   * and data of a large segment go to ESP as two pieces (a gathered seal and send), so the data
   * is never copied behind its header; a small one is cheaper copied than sealed and sent in pieces.
   */
  private sendSegment(s: Session, seg: Segment, checksum: boolean): void {
    if (checksum || seg.data.length < GATHER_MIN) this.host.sendEsp(s, INNER_TCP, encodeSegment(seg, s.localHit, s.peerHit, { checksum }));
    else this.host.sendEsp(s, INNER_TCP, [encodeSegment({ ...seg, data: EMPTY }, s.localHit, s.peerHit, { checksum: false }), seg.data]);
  }

  /** Once the TCP carrier has drained, send what the session's streams held back. */
  private waitForDrain(tcp: TcpConnection, s: Session): void {
    if (this.draining.has(tcp)) return;
    this.draining.add(tcp);
    const done = (): void => {
      tcp.off('drain', onDrain);
      tcp.off('close', done);
      this.draining.delete(tcp);
    };
    const onDrain = (): void => {
      done();
      for (const stream of [...this.streams.values()]) if (stream.session === s) this.flush(stream);
    };
    tcp.on('drain', onDrain);
    tcp.on('close', done);
  }

  private hasStreamFor(hit: string): boolean {
    for (const s of this.streams.values()) if (s.remoteHit === hit) return true;
    return false;
  }

  private freeEphemeral(hit: string, remotePort: number): number {
    return this.listeners.free((p) => !this.streams.has(key(hit, p, remotePort)));
  }
}

function key(hit: string, localPort: number, remotePort: number): string {
  return `${hit}|${localPort}|${remotePort}`;
}
