/**
 * The two ways HIP rides a TCP stream, as sans-IO encoders and decoders:
 *
 * - **hipl** framing: every record is a 16-bit big-endian length that counts its own 2 bytes
 *   (as RFC 8229 does), then either the zero marker + a HIP packet, or an ESP packet.
 * - **libhipl** framing (HIPL's socket library): no length at all. A control message is the
 *   marker + a HIP packet sent in one write; everything else is the application's clear text.
 *
 * The decoders take chunks as TCP delivers them and call back with whole records.
 * @module
 */

import { HipArgumentError } from '../errors.js';
import { HipTransportError, TransportErrorCode } from './errors.js';
import { MARKER_LENGTH, hasZeroMarker, plainView, withMarker } from './demux.js';

/** How HIP and data share a TCP stream; see the module notes. */
export type Framing = 'hipl' | 'libhipl';

/** What a decoder found: a HIP control packet (marker removed) or other bytes. */
export type RecordKind = 'hip' | 'payload';

/** Receives decoded records. The bytes may be views of the pushed chunk; they are not reused. */
export type RecordSink = (kind: RecordKind, bytes: Uint8Array) => void;

/** Length of the hipl frame length field. */
export const HIPL_LENGTH_FIELD = 2;

/** Smallest legal hipl frame: the length field and a 4-byte marker or SPI. */
export const HIPL_MIN_FRAME = HIPL_LENGTH_FIELD + 4;

/** Largest hipl frame the 16-bit length can describe. */
export const HIPL_MAX_FRAME = 0xffff;

/**
 * One hipl frame carrying a HIP control packet: length, marker, packet.
 *
 * @throws {@link HipTransportError} `ERR_TRANSPORT_TOO_LARGE` when the frame would exceed 65535 bytes.
 * @example
 * ```ts
 * socket.write(encodeHiplHip(i1)); // 2 + 4 + i1.length bytes, one write
 * ```
 */
export function encodeHiplHip(packet: Uint8Array): Buffer {
  const total = HIPL_LENGTH_FIELD + MARKER_LENGTH + packet.length;
  checkFrameSize(total);
  const out = withMarker(packet, HIPL_LENGTH_FIELD);
  out.writeUInt16BE(total, 0);
  return out;
}

/**
 * One hipl frame carrying an ESP packet: length, packet.
 *
 * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` when the bytes are shorter than
 *   4 or start with four zero bytes: the receiver could not tell them from a bad frame or a HIP
 *   packet (an ESP packet starts with a non-zero SPI).
 * @throws {@link HipTransportError} `ERR_TRANSPORT_TOO_LARGE` when the frame would exceed 65535 bytes.
 */
export function encodeHiplPayload(bytes: Uint8Array): Buffer {
  const header = encodeHiplPayloadHeader(bytes);
  const out = Buffer.allocUnsafe(header.length + bytes.length);
  out.set(header, 0);
  out.set(bytes, HIPL_LENGTH_FIELD);
  return out;
}

/**
 * Just the length field of the hipl frame that carries `bytes` (an ESP packet), for a writer
 * that sends header and packet as two buffers of one gathered write instead of copying the
 * packet behind the header. Same checks and errors as {@link encodeHiplPayload}. `length` is
 * the whole packet's length when `bytes` is only its first piece (at least its 4-byte SPI).
 */
export function encodeHiplPayloadHeader(bytes: Uint8Array, length: number = bytes.length): Buffer {
  if (bytes.length < 4 || hasZeroMarker(bytes) || length < bytes.length) {
    throw new HipArgumentError(
      TransportErrorCode.BAD_ARGUMENT,
      'hipl TCP framing carries ESP packets: at least 4 bytes starting with a non-zero SPI',
      { length: bytes.length },
    );
  }
  const total = HIPL_LENGTH_FIELD + length;
  checkFrameSize(total);
  const out = Buffer.allocUnsafe(HIPL_LENGTH_FIELD);
  out.writeUInt16BE(total, 0);
  return out;
}

function checkFrameSize(total: number): void {
  if (total > HIPL_MAX_FRAME) {
    throw new HipTransportError(TransportErrorCode.TOO_LARGE, `hipl TCP frame of ${total} bytes exceeds 65535`, {
      length: total,
      max: HIPL_MAX_FRAME,
    });
  }
}

/**
 * Reassembles hipl frames from arbitrary TCP chunks. Frames wholly inside one chunk are passed
 * on as views without copying; a frame spread over chunks is kept as views of the chunks that
 * hold its pieces and joined once, when its last byte has arrived (memory follows the bytes that
 * arrived, never the length field alone). Chunks pushed must therefore not be reused by the
 * caller, as Node's socket reads never are.
 *
 * After it throws, the decoder is spent: the stream has lost its framing and must be closed.
 *
 * @example
 * ```ts
 * const dec = new HiplFrameDecoder();
 * socket.on('data', (chunk) => dec.push(chunk, (kind, bytes) => kind === 'hip' ? onHip(bytes) : onEsp(bytes)));
 * ```
 */
export class HiplFrameDecoder {
  /** High byte of a length field split across chunks, or -1. */
  #lenHi = -1;
  /**
   * Body length of a frame being reassembled (length field excluded), or -1. Its bytes wait as
   * pieces, not in a buffer of the announced size: a stranger sending `FF FF` must not make us
   * allocate 64 KiB (issue 8).
   */
  #need = -1;
  #pieces: Uint8Array[] = [];
  #filled = 0;
  #failed = false;

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return (this.#lenHi >= 0 ? 1 : 0) + (this.#need >= 0 ? HIPL_LENGTH_FIELD + this.#filled : 0);
  }

  /**
   * Feed one chunk; `sink` is called for each frame it completes, in order.
   *
   * @throws {@link HipTransportError} `ERR_TRANSPORT_FRAMING` for a length under 6 (the frames
   *   before it in the chunk have been delivered), or when called again after that.
   */
  push(chunk: Uint8Array, sink: RecordSink): void {
    if (this.#failed) throw new HipTransportError(TransportErrorCode.FRAMING, 'hipl TCP stream already lost its framing');
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.#need >= 0) {
        const take = Math.min(this.#need - this.#filled, n - off);
        this.#keep(chunk.subarray(off, off + take));
        off += take;
        if (this.#filled === this.#need) {
          const pieces = this.#pieces;
          const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, this.#need);
          this.#need = -1;
          this.#pieces = [];
          deliver(body, sink);
        }
        continue;
      }
      let total: number;
      if (this.#lenHi >= 0) {
        total = (this.#lenHi << 8) | chunk[off]!;
        this.#lenHi = -1;
        off += 1;
      } else if (n - off >= HIPL_LENGTH_FIELD) {
        total = (chunk[off]! << 8) | chunk[off + 1]!;
        off += HIPL_LENGTH_FIELD;
      } else {
        this.#lenHi = chunk[off]!;
        off += 1;
        continue;
      }
      if (total < HIPL_MIN_FRAME) {
        this.#failed = true;
        throw new HipTransportError(
          TransportErrorCode.FRAMING,
          `hipl TCP frame length ${total} is below the minimum ${HIPL_MIN_FRAME}`,
          { length: total },
        );
      }
      const bodyLen = total - HIPL_LENGTH_FIELD;
      if (n - off >= bodyLen) {
        deliver(plainView(chunk, off, off + bodyLen), sink);
        off += bodyLen;
      } else {
        this.#need = bodyLen;
        this.#filled = 0;
      }
    }
  }

  /** Hold one piece of the frame being reassembled; a frame trickling in byte by byte is joined now and then, so the pieces stay few. */
  #keep(piece: Uint8Array): void {
    this.#pieces.push(piece);
    this.#filled += piece.length;
    if (this.#pieces.length > MAX_PIECES) this.#pieces = [Buffer.concat(this.#pieces, this.#filled)];
  }
}

/** Pieces of one frame held before they are joined (a TCP read brings 64 KiB; a frame spans two or three). */
const MAX_PIECES = 16;
function deliver(body: Uint8Array, sink: RecordSink): void {
  if (hasZeroMarker(body)) sink('hip', body.subarray(MARKER_LENGTH));
  else sink('payload', body);
}

/** Where a candidate control message at the start of some bytes stands. */
type Candidate = { state: 'control'; length: number } | { state: 'partial' } | { state: 'none' };

/** Next Header value of a HIP packet. */
const NEXT_HEADER_NONE = 59;

/**
 * Does a control message start at `off`? Judged on the bytes there are, so that a message cut
 * by TCP is recognized as `'partial'` and not mistaken for data: marker, Next Header 59, a
 * Header Length of at least the fixed header, version 1 or 2 (HIPL checks the same).
 */
function candidateAt(bytes: Uint8Array, off: number): Candidate {
  const avail = bytes.length - off;
  const markerBytes = Math.min(avail, MARKER_LENGTH);
  for (let i = 0; i < markerBytes; i++) if (bytes[off + i] !== 0) return { state: 'none' };
  if (avail >= 5 && bytes[off + 4] !== NEXT_HEADER_NONE) return { state: 'none' };
  let total = -1;
  if (avail >= 6) {
    const hdrLen = bytes[off + 5]!;
    if (hdrLen < 4) return { state: 'none' };
    total = MARKER_LENGTH + (hdrLen + 1) * 8;
  }
  if (avail >= 8) {
    const version = bytes[off + 7]! >> 4;
    if (version !== 1 && version !== 2) return { state: 'none' };
  }
  if (total > 0 && avail >= total) return { state: 'control', length: total };
  return { state: 'partial' };
}

/**
 * Splits a libhipl-style stream into control messages and clear-text data.
 *
 * A chunk (or what follows a control message inside it) that starts with the zero marker and a
 * plausible HIP header is a control message of exactly the announced length; anything else is
 * passed on as data at once, whole. A control message cut by TCP is held until the rest
 * arrives; the owner calls {@link flush} when it stops waiting (a timer, end of stream), and the
 * held bytes go out as data, which is what they were if no more came.
 *
 * Application data that itself begins with a marker and a well-formed HIP header is taken for a
 * control message; libhipl does the same (HIPV1-PROFILE 1.3).
 *
 * @example
 * ```ts
 * const dec = new LibhiplStreamDecoder();
 * if (dec.push(chunk, sink)) holdTimer = setTimeout(() => dec.flush(sink), 200);
 * ```
 */
export class LibhiplStreamDecoder {
  #held: Uint8Array | null = null;

  /** Bytes held back as the start of a control message. */
  get buffered(): number {
    return this.#held?.length ?? 0;
  }

  /**
   * Feed one chunk. Returns true when bytes are now held as an incomplete control message.
   */
  push(chunk: Uint8Array, sink: RecordSink): boolean {
    let data = chunk;
    if (this.#held) {
      data = new Uint8Array(this.#held.length + chunk.length);
      data.set(this.#held, 0);
      data.set(chunk, this.#held.length);
      this.#held = null;
    }
    let off = 0;
    while (off < data.length) {
      const c = candidateAt(data, off);
      if (c.state === 'control') {
        sink('hip', plainView(data, off + MARKER_LENGTH, off + c.length));
        off += c.length;
      } else if (c.state === 'partial') {
        this.#held = data.slice(off);
        return true;
      } else {
        sink('payload', plainView(data, off));
        return false;
      }
    }
    return false;
  }

  /** Give up waiting: pass any held bytes on as data. */
  flush(sink: RecordSink): void {
    const held = this.#held;
    this.#held = null;
    if (held && held.length > 0) sink('payload', held);
  }
}
