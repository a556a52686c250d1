/**
 * The fixed 40-byte HIP header: field offsets, validation on receive, and writing on send.
 * @module
 */
import {
  HIP_HEADER_LENGTH,
  HIP_MAX_PACKET,
  NEXT_HEADER_NONE,
  isKnownPacketType,
  packetTypeName,
} from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';
import type { HipVersion } from './types.js';

/** Byte offsets of the header fields. */
export const HeaderOffset = Object.freeze({
  /** Next Header (1 byte): always 59 (IPPROTO_NONE). */
  NEXT_HEADER: 0,
  /** Header Length (1 byte): packet length in 8-byte units, minus 1. */
  HEADER_LENGTH: 1,
  /** Fixed 0 bit and the 7-bit packet type. */
  PACKET_TYPE: 2,
  /** Version nibble, 3 reserved bits and the fixed 1 bit. */
  VERSION: 3,
  /** 16-bit Internet checksum over the pseudo-header and the packet. */
  CHECKSUM: 4,
  /** 16-bit Controls field (only the anonymous bit is defined). */
  CONTROLS: 6,
  /** Sender's HIT (16 bytes). */
  SENDER_HIT: 8,
  /** Receiver's HIT (16 bytes). */
  RECEIVER_HIT: 24,
  /** First parameter TLV, right after the fixed header. */
  PARAMS: 40,
} as const);

/** The header fields as parsed (HITs are views into the input). */
export interface HipHeader {
  /** HIP version from the high nibble of byte 3. */
  version: HipVersion;
  /** Packet type ({@link PacketType}); known types only, others are rejected. */
  type: number;
  /** The 16-bit Controls field. */
  controls: number;
  /** The checksum as received (not verified here). */
  checksum: number;
  /** Sender's HIT (16 bytes). */
  senderHit: Uint8Array;
  /** Receiver's HIT (16 bytes; all zero in an opportunistic I1). */
  receiverHit: Uint8Array;
  /** The 3 reserved bits of byte 3. */
  headerReserved: number;
  /** Total packet length from the Header Length field: (HeaderLength + 1) · 8. */
  length: number;
}

/**
 * Check only the framing: at least 40 bytes, Header Length at least 4, and exactly
 * (Header Length + 1) · 8 bytes. Returns that length.
 * @throws HipWireError ERR_HIP_TRUNCATED, ERR_HIP_BAD_HEADER_LENGTH, ERR_HIP_TRAILING_DATA
 */
export function checkFraming(bytes: Uint8Array): number {
  if (bytes.length < HIP_HEADER_LENGTH) {
    throw wireError(
      WireErrorCode.TRUNCATED,
      `HIP packet of ${bytes.length} bytes is shorter than the 40-byte header`,
      { length: bytes.length },
    );
  }
  const hl = bytes[HeaderOffset.HEADER_LENGTH]!;
  if (hl < 4) {
    throw wireError(WireErrorCode.BAD_HEADER_LENGTH, `HIP Header Length ${hl} is below 4`, {
      headerLength: hl,
    });
  }
  const total = (hl + 1) * 8;
  if (bytes.length < total) {
    throw wireError(
      WireErrorCode.TRUNCATED,
      `HIP packet of ${bytes.length} bytes is shorter than its Header Length says (${total})`,
      { length: bytes.length, expected: total },
    );
  }
  if (bytes.length > total) {
    throw wireError(
      WireErrorCode.TRAILING_DATA,
      `HIP packet of ${bytes.length} bytes is longer than its Header Length says (${total})`,
      { length: bytes.length, expected: total },
    );
  }
  return total;
}

/**
 * Parse and validate the fixed header.
 * @throws HipWireError with the framing codes of {@link checkFraming}, and ERR_HIP_NEXT_HEADER,
 * ERR_HIP_BAD_FIXED_BITS, ERR_HIP_BAD_VERSION, ERR_HIP_UNKNOWN_PACKET_TYPE
 */
export function parseHeader(bytes: Uint8Array): HipHeader {
  const length = checkFraming(bytes);
  const nh = bytes[HeaderOffset.NEXT_HEADER]!;
  if (nh !== NEXT_HEADER_NONE) {
    throw wireError(WireErrorCode.NEXT_HEADER, `HIP Next Header is ${nh}, expected 59`, {
      nextHeader: nh,
    });
  }
  const b2 = bytes[HeaderOffset.PACKET_TYPE]!;
  const b3 = bytes[HeaderOffset.VERSION]!;
  if ((b2 & 0x80) !== 0 || (b3 & 0x01) !== 1) {
    throw wireError(
      WireErrorCode.BAD_FIXED_BITS,
      `HIP header fixed bits wrong (byte 2 = 0x${b2.toString(16)}, byte 3 = 0x${b3.toString(16)})`,
      { byte2: b2, byte3: b3 },
    );
  }
  const version = b3 >> 4;
  if (version !== 1 && version !== 2) {
    throw wireError(WireErrorCode.BAD_VERSION, `HIP version ${version} is not supported`, {
      version,
    });
  }
  if (!isKnownPacketType(b2)) {
    throw wireError(WireErrorCode.UNKNOWN_PACKET_TYPE, `unknown HIP packet type ${b2}`, {
      packetType: b2,
    });
  }
  return {
    version,
    type: b2,
    controls: (bytes[HeaderOffset.CONTROLS]! << 8) | bytes[HeaderOffset.CONTROLS + 1]!,
    checksum: (bytes[HeaderOffset.CHECKSUM]! << 8) | bytes[HeaderOffset.CHECKSUM + 1]!,
    senderHit: bytes.subarray(HeaderOffset.SENDER_HIT, HeaderOffset.SENDER_HIT + 16),
    receiverHit: bytes.subarray(HeaderOffset.RECEIVER_HIT, HeaderOffset.RECEIVER_HIT + 16),
    headerReserved: (b3 >> 1) & 0x07,
    length,
  };
}

/** The fields {@link writeHeader} needs. */
export interface HeaderFields {
  /** HIP version: 1 or 2 (other values are rejected). */
  version: number;
  /** Packet type ({@link PacketType}); must be a known type. */
  type: number;
  /** Controls field, 16 bits. */
  controls: number;
  /** Sender's HIT, exactly 16 bytes. */
  senderHit: Uint8Array;
  /** Receiver's HIT, exactly 16 bytes. */
  receiverHit: Uint8Array;
  /** The 3 reserved bits of byte 3 (0..7); unset means 0. */
  headerReserved?: number;
}

function badField(field: string, value: unknown, why: string): never {
  throw wireError(WireErrorCode.BAD_FIELD, `header field ${field} ${why}`, { field, value });
}

/**
 * Write the header into `out[0..40)` for a packet of `out.length` bytes, with checksum 0.
 * @throws HipWireError ERR_HIP_BAD_VERSION, ERR_HIP_UNKNOWN_PACKET_TYPE, ERR_HIP_BAD_FIELD,
 * ERR_HIP_PACKET_TOO_LONG
 */
export function writeHeader(out: Uint8Array, h: HeaderFields): void {
  const total = out.length;
  if (total > HIP_MAX_PACKET) {
    throw wireError(
      WireErrorCode.PACKET_TOO_LONG,
      `HIP packet of ${total} bytes exceeds ${HIP_MAX_PACKET}`,
      { length: total },
    );
  }
  if (h.version !== 1 && h.version !== 2) {
    throw wireError(WireErrorCode.BAD_VERSION, `HIP version ${String(h.version)} is not supported`, {
      version: h.version,
    });
  }
  if (!isKnownPacketType(h.type)) {
    throw wireError(
      WireErrorCode.UNKNOWN_PACKET_TYPE,
      `cannot emit unknown HIP packet type ${packetTypeName(h.type)}`,
      { packetType: h.type },
    );
  }
  if (!Number.isInteger(h.controls) || h.controls < 0 || h.controls > 0xffff) {
    badField('controls', h.controls, 'must be a 16-bit unsigned integer');
  }
  const res = h.headerReserved ?? 0;
  if (!Number.isInteger(res) || res < 0 || res > 7) badField('headerReserved', res, 'must be 0..7');
  if (!(h.senderHit instanceof Uint8Array) || h.senderHit.length !== 16) {
    badField('senderHit', h.senderHit?.length, 'must be 16 bytes');
  }
  if (!(h.receiverHit instanceof Uint8Array) || h.receiverHit.length !== 16) {
    badField('receiverHit', h.receiverHit?.length, 'must be 16 bytes');
  }
  out[0] = NEXT_HEADER_NONE;
  out[1] = total / 8 - 1;
  out[2] = h.type;
  out[3] = (h.version << 4) | (res << 1) | 1;
  out[4] = 0;
  out[5] = 0;
  out[6] = h.controls >> 8;
  out[7] = h.controls & 0xff;
  out.set(h.senderHit, HeaderOffset.SENDER_HIT);
  out.set(h.receiverHit, HeaderOffset.RECEIVER_HIT);
}
