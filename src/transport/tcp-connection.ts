/**
 * One TCP connection carrying HIP, in either framing (see `tcp-framing.ts`).
 * @module
 */

import type { Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { HipArgumentError, HipError } from '../errors.js';
import { TransportErrorCode, fromNodeError } from './errors.js';
import { plainView, withMarker } from './demux.js';
import { type CarrierPeer, type CarrierStats, newCarrierStats, peerFromNode } from './peer.js';
import {
  type Framing,
  HiplFrameDecoder,
  LibhiplStreamDecoder,
  type RecordKind,
  encodeHiplHip,
  encodeHiplPayload,
  encodeHiplPayloadHeader,
} from './tcp-framing.js';

/** ESP packets up to this size go out copied behind their length in one buffer, larger ones gathered. */
const SMALL_PACKET = 2048;

/** Default quiet time around a libhipl control message, in milliseconds. */
export const DEFAULT_CONTROL_PAUSE_MS = 20;

/** Default time a libhipl-framed connection waits for the rest of a cut control message. */
export const DEFAULT_PARTIAL_HOLD_MS = 200;

/** Options of a {@link TcpConnection}. */
export interface TcpConnectionOptions {
  /** How HIP and data share the stream. */
  framing: Framing;
  /**
   * libhipl framing only: nothing is written for this long after a control message, and a
   * control message waits until this long after the previous write (and until that write has
   * reached the kernel), so that libhipl's single `recv()` sees it alone. Default 20 ms.
   */
  controlPauseMs?: number;
  /**
   * libhipl framing only: how long bytes that begin like a control message are held waiting for
   * the rest before they are passed on as data. Default 200 ms.
   */
  partialHoldMs?: number;
  /** Bytes already read from the socket (e.g. while detecting the framing), decoded first. */
  initialData?: Uint8Array;
}

/** Traffic counters of a {@link TcpConnection}: bytes are stream bytes, framing included. */
export type TcpConnectionStats = CarrierStats;

/** Events of a {@link TcpConnection}. */
export interface TcpConnectionEvents {
  /** A HIP control packet (marker removed) arrived. */
  hip: [packet: Uint8Array];
  /** An ESP packet (hipl framing) or a chunk of clear-text data (libhipl framing) arrived. */
  payload: [bytes: Uint8Array];
  /** A framing violation, a socket error or a failed send. Framing and socket errors close the connection. */
  error: [err: Error];
  /** The socket's send buffer emptied after {@link TcpConnection.needsDrain} was true. */
  drain: [];
  /** The owner vouched for the peer ({@link TcpConnection.markVerified}); emitted once. */
  verified: [];
  /** The connection is closed; no event follows. */
  close: [];
}

interface QueuedWrite {
  data: Uint8Array;
  control: boolean;
  onSent: (() => void) | undefined;
}

/**
 * A TCP connection speaking HIP. Made by {@link tcpConnect} or a {@link TcpListener}; it can also
 * wrap an already connected `net.Socket`.
 *
 * With hipl framing every send is one length-prefixed frame written at once. With libhipl
 * framing a control message is one write kept apart from its neighbours by `controlPauseMs`;
 * later writes queue behind it in order.
 *
 * Sends never throw because of the connection's state: after {@link end}, {@link destroy} or
 * the peer's close they are dropped and counted in `stats.sendErrors`. A hipl frame over 65535
 * bytes is dropped with an `'error'` event (`ERR_TRANSPORT_TOO_LARGE`); the connection stays
 * open. A framing violation by the peer (`ERR_TRANSPORT_FRAMING`) or a socket error
 * (`ERR_TRANSPORT_SOCKET`) is reported as `'error'` and then the connection closes.
 *
 * @example
 * ```ts
 * const conn = await tcpConnect({ address: '192.0.2.7', port: 22300, framing: 'libhipl' });
 * conn.on('hip', (packet) => engine.receive(packet));
 * conn.on('payload', (data) => app.push(data));
 * conn.sendHip(i1);
 * ```
 */
export class TcpConnection extends EventEmitter<TcpConnectionEvents> {
  /** The framing in use. */
  readonly framing: Framing;
  /** The far end. */
  readonly remote: CarrierPeer;
  /** Our end. */
  readonly local: CarrierPeer;
  /** Live traffic counters. */
  readonly stats: TcpConnectionStats = newCarrierStats();

  readonly #socket: Socket;
  readonly #pauseMs: number;
  readonly #holdMs: number;
  readonly #hipl: HiplFrameDecoder | null;
  readonly #libhipl: LibhiplStreamDecoder | null;
  readonly #sink = (kind: RecordKind, bytes: Uint8Array): void => this.#onRecord(kind, bytes);

  /** libhipl writes waiting for a pause to pass. */
  readonly #queue: QueuedWrite[] = [];
  #pauseTimer: NodeJS.Timeout | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  /** Until when (performance.now()) nothing may be written: the quiet time after a control message. */
  #quietUntil = 0;
  /** When the last write was made, for the quiet time before a control message. */
  #lastWriteAt = -Infinity;
  /** Writes not yet handed to the kernel. */
  #inflight = 0;
  #waitingForFlush = false;
  #refed = true;
  #ending = false;
  #closed = false;
  #verified = false;

  /**
   * Wrap a connected socket. The socket's `'data'` and `'error'` handling is taken over; Nagle
   * is turned off, as libhipl peers need and HIP's small control packets prefer.
   *
   * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for an unknown framing or a
   *   negative pause.
   */
  constructor(socket: Socket, opts: TcpConnectionOptions) {
    super();
    if (opts.framing !== 'hipl' && opts.framing !== 'libhipl') {
      throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, "framing must be 'hipl' or 'libhipl'", {
        framing: opts.framing,
      });
    }
    this.#pauseMs = checkMs(opts.controlPauseMs, DEFAULT_CONTROL_PAUSE_MS, 'controlPauseMs');
    this.#holdMs = checkMs(opts.partialHoldMs, DEFAULT_PARTIAL_HOLD_MS, 'partialHoldMs');
    this.framing = opts.framing;
    this.#socket = socket;
    this.#hipl = opts.framing === 'hipl' ? new HiplFrameDecoder() : null;
    this.#libhipl = opts.framing === 'libhipl' ? new LibhiplStreamDecoder() : null;
    this.remote = peerFromNode(socket.remoteAddress ?? '', socket.remotePort ?? 0, socket.remoteFamily ?? 'IPv4');
    this.local = peerFromNode(socket.localAddress ?? '', socket.localPort ?? 0, socket.localFamily ?? 'IPv4');

    socket.setNoDelay(true);
    socket.on('error', (err) => {
      if (!this.#closed) this.emit('error', fromNodeError(TransportErrorCode.SOCKET, 'TCP connection error', err, { ...this.remote }));
    });
    socket.on('end', () => {
      this.#flushHeld();
      // The peer is done sending (libhipl sends CLOSE and FIN back to back): answer what it
      // sent, let the paced queue (our CLOSE_ACK) drain, and only then send our FIN.
      this.end();
    });
    socket.on('drain', () => this.emit('drain'));
    socket.on('close', () => this.#onClose());
    if (socket.destroyed) {
      queueMicrotask(() => this.#onClose());
      return;
    }
    const initial = opts.initialData;
    if (initial && initial.length > 0) {
      // The owner paused the socket while it sniffed these bytes. Decode them after the
      // caller had a chance to attach listeners, then let the socket flow again.
      socket.pause();
      queueMicrotask(() => {
        this.#onData(initial);
        socket.on('data', (chunk: Buffer) => this.#onData(chunk));
        if (!this.#closed) socket.resume();
      });
    } else {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      socket.resume();
    }
  }

  /** True once {@link end} was called: queued writes, then a FIN, are on their way. */
  get ending(): boolean {
    return this.#ending;
  }

  /** True once the connection is closed or being torn down by {@link destroy}. */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** Bytes accepted by {@link sendHip}/{@link sendPayload} but not yet handed to the kernel. */
  get pendingBytes(): number {
    let n = this.#socket.writableLength;
    for (const q of this.#queue) n += q.data.length;
    return n;
  }

  /**
   * True while the socket holds more unsent bytes than its high-water mark (Node's
   * `writableNeedDrain`): a sender that can wait should, until `'drain'`.
   */
  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /** Hold writes until {@link uncork}, so a burst of frames leaves in one gathered write (calls nest). */
  cork(): void {
    this.#socket.cork();
  }

  /** Release the writes held since the matching {@link cork}. */
  uncork(): void {
    this.#socket.uncork();
  }

  /**
   * Send a HIP control packet: a hipl frame, or (libhipl) marker + packet as one write kept
   * apart from other writes. Returns false when it was dropped (see the class notes); `onSent`
   * runs once the bytes reached the kernel.
   */
  sendHip(packet: Uint8Array, onSent?: () => void): boolean {
    if (!this.#writable()) return false;
    if (this.#hipl) {
      const frame = this.#encode(() => encodeHiplHip(packet));
      if (!frame) return false;
      this.stats.hipOut++;
      this.#write(frame, onSent);
      return true;
    }
    this.stats.hipOut++;
    this.#enqueue({ data: withMarker(packet), control: true, onSent });
    return true;
  }

  /**
   * Send an ESP packet as one hipl frame, or (libhipl) clear-text bytes as they are. Returns
   * false when it was dropped (see the class notes); `onSent` runs once the bytes reached the
   * kernel. Empty data is a no-op with libhipl framing.
   *
   * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` with hipl framing when the
   *   bytes are shorter than 4 or start with four zero bytes (no ESP packet does).
   */
  sendPayload(bytes: Uint8Array, onSent?: () => void): boolean {
    if (this.#hipl) {
      if (!this.#writable()) return false;
      if (bytes.length <= SMALL_PACKET) {
        // A small packet is cheaper copied behind its length than gathered (one plain write).
        const frame = this.#encode(() => encodeHiplPayload(bytes));
        if (!frame) return false;
        this.stats.payloadOut++;
        this.stats.bytesOut += frame.length;
        this.#writeFrame(frame, onSent);
        return true;
      }
      const header = this.#encode(() => encodeHiplPayloadHeader(bytes));
      if (!header) return false;
      this.stats.payloadOut++;
      this.stats.bytesOut += header.length + bytes.length;
      // Length field and packet as one gathered write: no copy of the packet, one syscall.
      const s = this.#socket;
      s.cork();
      s.write(header);
      if (onSent) s.write(bytes, (err) => (err ? undefined : onSent()));
      else s.write(bytes);
      s.uncork();
      return true;
    }
    if (!this.#writable()) return false;
    if (bytes.length === 0) return true;
    this.stats.payloadOut++;
    this.#enqueue({ data: bytes, control: false, onSent });
    return true;
  }

  /**
   * {@link sendPayload} for an ESP packet given as consecutive pieces (as `OutboundSa.sealParts`
   * returns it): length field and pieces leave in one gathered write, none of them copied; a
   * small packet is joined behind its length instead. With libhipl framing the pieces are
   * joined first.
   *
   * @throws as {@link sendPayload}; the first piece must hold at least the SPI.
   */
  sendPayloadParts(parts: readonly Uint8Array[], onSent?: () => void): boolean {
    if (!this.#hipl || parts.length === 0) return this.sendPayload(parts.length === 1 ? parts[0]! : Buffer.concat(parts), onSent);
    if (!this.#writable()) return false;
    let length = 0;
    for (const p of parts) length += p.length;
    const header = this.#encode(() => encodeHiplPayloadHeader(parts[0]!, length));
    if (!header) return false;
    this.stats.payloadOut++;
    this.stats.bytesOut += header.length + length;
    if (length <= SMALL_PACKET) {
      // As in sendPayload: a small packet is cheaper copied behind its length than gathered.
      this.#writeFrame(Buffer.concat([header, ...parts], header.length + length), onSent);
      return true;
    }
    const s = this.#socket;
    s.cork();
    s.write(header);
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) s.write(parts[i]!);
    if (onSent) s.write(parts[last]!, (err) => (err ? undefined : onSent()));
    else s.write(parts[last]!);
    s.uncork();
    return true;
  }

  /** True once {@link markVerified} was called. */
  get verified(): boolean {
    return this.#verified;
  }

  /**
   * Vouch for the peer (e.g. its base exchange completed): a {@link TcpListener} then lifts the
   * deadlines and the slot limit it applies to connections from strangers. Idempotent.
   */
  markVerified(): void {
    if (this.#verified) return;
    this.#verified = true;
    this.emit('verified');
  }

  /** Close gracefully: queued writes go out first, then a FIN. Later sends are dropped. */
  end(): void {
    if (this.#ending || this.closed) return;
    this.#ending = true;
    this.#pump();
  }

  /** Close at once, dropping queued writes. */
  destroy(): void {
    this.#queue.length = 0;
    this.#clearTimers();
    this.#socket.destroy();
  }

  /** Let the connection keep the process alive (the default). */
  ref(): void {
    this.#refed = true;
    this.#socket.ref();
    this.#pauseTimer?.ref();
    this.#holdTimer?.ref();
  }

  /** Let the process exit while the connection is open. */
  unref(): void {
    this.#refed = false;
    this.#socket.unref();
    this.#pauseTimer?.unref();
    this.#holdTimer?.unref();
  }

  #writable(): boolean {
    if (this.#ending || this.closed || !this.#socket.writable) {
      this.stats.sendErrors++;
      return false;
    }
    return true;
  }

  /** Write one whole hipl frame; `onSent` once it reached the kernel. */
  #writeFrame(frame: Buffer, onSent: (() => void) | undefined): void {
    if (onSent) this.#socket.write(frame, (err) => (err ? undefined : onSent()));
    else this.#socket.write(frame);
  }

  #encode(make: () => Buffer): Buffer | null {
    try {
      return make();
    } catch (e) {
      if (e instanceof HipArgumentError) throw e;
      this.stats.sendErrors++;
      this.emit('error', e instanceof HipError ? e : fromNodeError(TransportErrorCode.SEND, 'TCP send failed', e));
      return null;
    }
  }

  #write(data: Uint8Array, onSent?: () => void): void {
    this.stats.bytesOut += data.length;
    this.#lastWriteAt = performance.now();
    this.#inflight++;
    this.#socket.write(data, (err) => {
      this.#inflight--;
      if (!err) onSent?.();
      if (this.#inflight === 0 && this.#waitingForFlush) {
        this.#waitingForFlush = false;
        this.#pump();
      }
    });
  }

  #enqueue(item: QueuedWrite): void {
    this.#queue.push(item);
    this.#pump();
  }

  /** Write what the libhipl pacing rules allow now; come back by timer or write callback. */
  #pump(): void {
    if (this.closed) return;
    while (this.#queue.length > 0) {
      if (this.#pauseTimer || this.#waitingForFlush) return;
      const item = this.#queue[0]!;
      const now = performance.now();
      let waitUntil = this.#quietUntil;
      if (item.control) {
        if (this.#inflight > 0) {
          this.#waitingForFlush = true;
          return;
        }
        waitUntil = Math.max(waitUntil, this.#lastWriteAt + this.#pauseMs);
      }
      if (waitUntil > now) {
        this.#pauseTimer = setTimeout(() => {
          this.#pauseTimer = undefined;
          this.#pump();
        }, Math.ceil(waitUntil - now));
        if (!this.#refed) this.#pauseTimer.unref();
        return;
      }
      this.#queue.shift();
      this.#write(item.data, item.onSent);
      if (item.control) this.#quietUntil = performance.now() + this.#pauseMs;
    }
    if (this.#ending && !this.#socket.writableEnded) this.#socket.end();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.stats.bytesIn += chunk.length;
    if (this.#hipl) {
      try {
        this.#hipl.push(chunk, this.#sink);
      } catch (e) {
        if (!this.#closed) this.emit('error', e instanceof Error ? e : new Error(String(e)));
        this.destroy();
      }
      return;
    }
    const held = this.#libhipl!.push(chunk, this.#sink);
    if (this.#holdTimer) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    if (held) {
      this.#holdTimer = setTimeout(() => {
        this.#holdTimer = undefined;
        this.#flushHeld();
      }, this.#holdMs);
      if (!this.#refed) this.#holdTimer.unref();
    }
  }

  #flushHeld(): void {
    if (this.#holdTimer) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    this.#libhipl?.flush(this.#sink);
  }

  #onRecord(kind: RecordKind, bytes: Uint8Array): void {
    // A listener may destroy the connection while a chunk still holds records.
    if (this.#closed || this.#socket.destroyed) return;
    if (kind === 'hip') {
      this.stats.hipIn++;
      this.emit('hip', plainView(bytes));
    } else {
      this.stats.payloadIn++;
      this.emit('payload', plainView(bytes));
    }
  }

  #clearTimers(): void {
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#pauseTimer = undefined;
    this.#holdTimer = undefined;
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#flushHeld();
    this.#closed = true;
    this.#queue.length = 0;
    this.#clearTimers();
    this.emit('close');
  }
}

function checkMs(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, `${name} must be a non-negative number`, { [name]: v });
  }
  return v;
}
