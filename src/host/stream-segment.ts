/**
 * The header of a stream segment: a 20-byte TCP header (RFC 9293 layout) with the MSS option on a
 * SYN and SACK blocks on an ACK when there are any, followed by the data. The ESP Next Header of such a payload is 6 (TCP), so once ESP is
 * decrypted Wireshark shows the inner stream as an ordinary TCP conversation between the two
 * HITs.
 *
 * The checksum is the TCP checksum over the IPv6 pseudo-header with the two HITs as the
 * addresses: RFC 7402 Appendix B says BEET upper-layer checksums always use the HITs, even
 * when the outer packets travel over IPv4.
 * @module
 */

import { HipProtocolError } from '../errors.js';
import { upperLayerChecksum } from '../wire/checksum.js';

/** IP protocol number of TCP: the ESP Next Header of a stream segment. */
export const INNER_TCP = 6;

/** Length of the segment header without options: a TCP header with data offset 5. */
export const SEGMENT_HEADER_BYTES = 20;

/**
 * The unit of the window field. No window-scale option is negotiated, so both ends agree on a
 * fixed scale instead: the advertised window in bytes is the
 * field times 16, which lets the 16-bit field describe a 1 MiB receive buffer.
 */
export const WINDOW_SCALE = 16;

/** The control bits a segment may carry. URG, ECE and CWR are never sent and ignored on receipt. */
export interface SegmentFlags {
  /** Synchronise sequence numbers (first segment of each direction). */
  syn: boolean;
  /** The `ack` field is significant. */
  ack: boolean;
  /** No more data from the sender. */
  fin: boolean;
  /** Abort the connection. */
  rst: boolean;
  /** Push: the sender's buffer is empty after this segment (informational). */
  psh: boolean;
}

/** A decoded segment: the fields of the TCP header that matter here, and the data. */
export interface Segment {
  /** Sender's port, 0..65535. */
  srcPort: number;
  /** Receiver's port, 0..65535. */
  dstPort: number;
  /** Sequence number of the first octet (or of the SYN/FIN), unsigned 32-bit. */
  seq: number;
  /** Next sequence number the sender expects, unsigned 32-bit; 0 when `flags.ack` is false. */
  ack: number;
  /** Control bits. */
  flags: SegmentFlags;
  /** Window field in units of {@link WINDOW_SCALE} bytes, 0..65535. */
  window: number;
  /** Payload octets. */
  data: Uint8Array;
  /**
   * Selective acknowledgement blocks (RFC 2018 SACK option, kind 5): ranges `[start, end)` of
   * sequence space received above `ack`, the most recently changed first, at most
   * {@link MAX_SACK_BLOCKS}. Absent or empty: no option is sent.
   */
  sack?: readonly SackBlock[];
  /**
   * The MSS option (RFC 9293 3.2, kind 2), sent on a SYN: the most data bytes per segment the
   * sender of the SYN accepts. Absent: no option is sent (a peer that announces nothing).
   */
  mss?: number;
}

/** One SACK block: `[start, end)` in 32-bit sequence space. */
export type SackBlock = readonly [start: number, end: number];

/** Most SACK blocks one header carries: 20 + 4 + 4 * 8 = 56 bytes, under TCP's 60-byte header limit. */
export const MAX_SACK_BLOCKS = 4;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_SACK = 5;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** Largest payload that keeps the segment's length representable in a 16-bit IP payload length. */
const MAX_DATA = 0xffff - SEGMENT_HEADER_BYTES;

function badSegment(message: string, details?: Record<string, unknown>): HipProtocolError {
  return new HipProtocolError('ERR_STREAM_BAD_SEGMENT', message, details);
}

function checkUint(value: unknown, max: number, field: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw badSegment(`segment ${field} must be an integer 0..${max}`, { field, value });
  }
}

function checkHits(srcHit: Uint8Array, dstHit: Uint8Array): void {
  if (!(srcHit instanceof Uint8Array) || !(dstHit instanceof Uint8Array) || srcHit.length !== 16 || dstHit.length !== 16) {
    throw badSegment('the checksum needs two 16-byte HITs');
  }
}

/**
 * The TCP checksum over the IPv6 pseudo-header (source, destination, upper-layer length, next
 * header 6) and `segment`, with the segment's checksum field included as it is. Returns the
 * complemented 16-bit sum, so a segment whose field is already right gives 0.
 */
export function segmentChecksum(srcHit: Uint8Array, dstHit: Uint8Array, segment: Uint8Array): number {
  checkHits(srcHit, dstHit);
  return upperLayerChecksum(srcHit, dstHit, INNER_TCP, segment);
}

/** Options of {@link encodeSegment} and {@link decodeSegment}. */
export interface SegmentCodecOptions {
  /**
   * Compute (encode) or verify (decode) the TCP checksum. Default true. Inside ESP the ICV
   * already authenticates every byte, so a host may skip it: an encoded segment then carries
   * checksum 0, which Wireshark shows as unverified (its TCP checksum check is off by default).
   */
  checksum?: boolean;
}

/**
 * Build the bytes of `seg` as sent from `srcHit` to `dstHit`, checksum included (unless
 * `opts.checksum` is false).
 *
 * @throws HipProtocolError `ERR_STREAM_BAD_SEGMENT` when a field is out of range or a HIT is
 *   not 16 bytes.
 * @example
 * ```ts
 * const bytes = encodeSegment(
 *   { srcPort: 65500, dstPort: 22, seq: 1, ack: 0, window: 65535, data: new Uint8Array(0),
 *     flags: { syn: true, ack: false, fin: false, rst: false, psh: false } },
 *   hitA, hitB,
 * ); // bytes[16..18] hold the checksum (0x6faa for RFC 7401 App. C.3's HITs)
 * ```
 */
export function encodeSegment(seg: Segment, srcHit: Uint8Array, dstHit: Uint8Array, opts?: SegmentCodecOptions): Uint8Array {
  checkUint(seg.srcPort, 0xffff, 'srcPort');
  checkUint(seg.dstPort, 0xffff, 'dstPort');
  checkUint(seg.seq, 0xffffffff, 'seq');
  checkUint(seg.ack, 0xffffffff, 'ack');
  checkUint(seg.window, 0xffff, 'window');
  if (!(seg.data instanceof Uint8Array)) throw badSegment('segment data must be a Uint8Array');
  if (seg.data.length > MAX_DATA) {
    throw badSegment(`segment data of ${seg.data.length} bytes exceeds ${MAX_DATA}`, { length: seg.data.length });
  }
  checkHits(srcHit, dstHit);
  const sack = seg.sack;
  const blocks = sack === undefined ? 0 : sack.length;
  if (blocks > MAX_SACK_BLOCKS) throw badSegment(`at most ${MAX_SACK_BLOCKS} SACK blocks fit in a header`, { blocks });
  const mss = seg.mss;
  if (mss !== undefined) checkUint(mss, 0xffff, 'mss');
  // MSS: kind 2, length 4, the value. SACK: NOP, NOP, kind 5, length, then the blocks. Each is
  // a multiple of 4 bytes, as the data offset needs.
  const sackAt = SEGMENT_HEADER_BYTES + (mss !== undefined ? 4 : 0);
  const header = sackAt + (blocks > 0 ? 4 + 8 * blocks : 0);
  const out = new Uint8Array(header + seg.data.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, seg.srcPort);
  v.setUint16(2, seg.dstPort);
  v.setUint32(4, seg.seq);
  v.setUint32(8, seg.ack);
  const f = seg.flags;
  const bits = (f.fin ? FIN : 0) | (f.syn ? SYN : 0) | (f.rst ? RST : 0) | (f.psh ? PSH : 0) | (f.ack ? ACK : 0);
  v.setUint16(12, ((header / 4) << 12) | bits);
  v.setUint16(14, seg.window);
  // Checksum (16..18) and urgent pointer (18..20) stay 0 while summing.
  if (mss !== undefined) {
    out[20] = OPT_MSS;
    out[21] = 4;
    v.setUint16(22, mss);
  }
  if (blocks > 0) {
    out[sackAt] = OPT_NOP;
    out[sackAt + 1] = OPT_NOP;
    out[sackAt + 2] = OPT_SACK;
    out[sackAt + 3] = 2 + 8 * blocks;
    for (let i = 0; i < blocks; i++) {
      const [start, end] = sack![i]!;
      checkUint(start, 0xffffffff, 'sack start');
      checkUint(end, 0xffffffff, 'sack end');
      v.setUint32(sackAt + 4 + 8 * i, start);
      v.setUint32(sackAt + 8 + 8 * i, end);
    }
  }
  out.set(seg.data, header);
  if (opts?.checksum !== false) v.setUint16(16, segmentChecksum(srcHit, dstHit, out));
  return out;
}

/**
 * Parse and verify a segment received from `srcHit` at `dstHit` (the checksum unless
 * `opts.checksum` is false). The data is a view into `bytes` when `opts.copy` is false, else a
 * copy, so the caller may reuse `bytes`.
 *
 * Of the header options SACK (kind 5) is read into `sack` and MSS (kind 2) into `mss`; the
 * others are skipped, since they do no harm. A malformed option list ends the parsing of options, not of the segment. The
 * urgent pointer and the URG/ECE/CWR bits are ignored.
 *
 * @throws HipProtocolError `ERR_STREAM_BAD_SEGMENT` (too short, bad data offset) or
 *   `ERR_STREAM_BAD_CHECKSUM`; both carry the ports in `details` when they could be read, so
 *   a host can tell the connection (see `StreamConnection.countBadChecksum`).
 */
export function decodeSegment(bytes: Uint8Array, srcHit: Uint8Array, dstHit: Uint8Array, opts?: SegmentCodecOptions & { copy?: boolean }): Segment {
  if (!(bytes instanceof Uint8Array)) throw badSegment('segment must be a Uint8Array');
  checkHits(srcHit, dstHit);
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    throw badSegment(`segment of ${bytes.length} bytes is shorter than its 20-byte header`, { length: bytes.length });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const srcPort = v.getUint16(0);
  const dstPort = v.getUint16(2);
  const offsetBytes = (bytes[12]! >> 4) * 4;
  if (offsetBytes < SEGMENT_HEADER_BYTES || offsetBytes > bytes.length) {
    throw badSegment(`segment data offset ${offsetBytes} is out of range`, { offset: offsetBytes, length: bytes.length, srcPort, dstPort });
  }
  if (opts?.checksum !== false && segmentChecksum(srcHit, dstHit, bytes) !== 0) {
    throw new HipProtocolError('ERR_STREAM_BAD_CHECKSUM', 'segment checksum does not verify', {
      srcPort,
      dstPort,
      checksum: v.getUint16(16),
    });
  }
  const bits = bytes[13]!;
  const options = offsetBytes > SEGMENT_HEADER_BYTES ? readOptions(bytes, v, offsetBytes) : undefined;
  const seg: Segment = {
    srcPort,
    dstPort,
    seq: v.getUint32(4),
    ack: v.getUint32(8),
    flags: {
      syn: (bits & SYN) !== 0,
      ack: (bits & ACK) !== 0,
      fin: (bits & FIN) !== 0,
      rst: (bits & RST) !== 0,
      psh: (bits & PSH) !== 0,
    },
    window: v.getUint16(14),
    data: opts?.copy === false ? bytes.subarray(offsetBytes) : bytes.slice(offsetBytes),
  };
  if (options?.sack !== undefined) seg.sack = options.sack;
  if (options?.mss !== undefined) seg.mss = options.mss;
  return seg;
}

/** The SACK blocks and the MSS among the header options in `bytes[20..end)`, as far as the option list is well formed. */
function readOptions(bytes: Uint8Array, v: DataView, end: number): { sack?: SackBlock[]; mss?: number } {
  const found: { sack?: SackBlock[]; mss?: number } = {};
  let i = SEGMENT_HEADER_BYTES;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const len = bytes[i + 1]!;
    if (len < 2 || i + len > end) break;
    if (kind === OPT_SACK && len >= 10 && (len - 2) % 8 === 0 && found.sack === undefined) {
      const out: SackBlock[] = [];
      for (let p = i + 2; p < i + len; p += 8) out.push([v.getUint32(p), v.getUint32(p + 4)]);
      found.sack = out;
    } else if (kind === OPT_MSS && len === 4 && found.mss === undefined) {
      found.mss = v.getUint16(i + 2);
    }
    i += len;
  }
  return found;
}
