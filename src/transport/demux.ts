/**
 * Telling HIP control packets from everything else on a shared socket, and adding the
 * non-ESP marker. Pure functions over bytes; the carriers call them per datagram or chunk.
 * @module
 */

/** Length of the 32-bit zero "non-ESP marker" that precedes a HIP packet on UDP and TCP (RFC 5770). */
export const MARKER_LENGTH = 4;

/** Size of the fixed HIP header. */
export const HIP_HEADER_LENGTH = 40;

/** The largest HIP packet the 8-bit Header Length field can describe: (255 + 1) · 8. */
export const HIP_MAX_PACKET_LENGTH = 2048;

/** IPPROTO_NONE: the Next Header value every HIP packet carries. */
const NEXT_HEADER_NONE = 59;

/** True when the 4 bytes at `offset` exist and are all zero. */
export function hasZeroMarker(bytes: Uint8Array, offset = 0): boolean {
  return (
    bytes.length >= offset + MARKER_LENGTH &&
    bytes[offset] === 0 &&
    bytes[offset + 1] === 0 &&
    bytes[offset + 2] === 0 &&
    bytes[offset + 3] === 0
  );
}

/**
 * The length a HIP header at `offset` announces ((HdrLen + 1) · 8), or `null` when the bytes
 * there cannot start a HIP packet (fewer than 40 bytes available, Next Header not 59, or an
 * announced length under the 40-byte fixed header). The payload itself is not examined.
 */
export function announcedHipLength(bytes: Uint8Array, offset = 0): number | null {
  if (bytes.length - offset < HIP_HEADER_LENGTH) return null;
  if (bytes[offset] !== NEXT_HEADER_NONE) return null;
  const total = (bytes[offset + 1]! + 1) * 8;
  return total < HIP_HEADER_LENGTH ? null : total;
}

/**
 * The datagram rule: marker, then exactly one plausible HIP packet filling the rest
 * (at least 40 bytes, Next Header 59, (HdrLen + 1) · 8 equal to what follows the marker).
 *
 * @example
 * ```ts
 * isMarkedHipDatagram(udpPayload) ? handleHip(udpPayload.subarray(4)) : handleEspOrData(udpPayload)
 * ```
 */
export function isMarkedHipDatagram(bytes: Uint8Array): boolean {
  return hasZeroMarker(bytes) && announcedHipLength(bytes, MARKER_LENGTH) === bytes.length - MARKER_LENGTH;
}

/**
 * A zero-copy view of `bytes[start, end)` as a plain `Uint8Array` (not a Node `Buffer`), so
 * the layers above see one byte type whatever the socket handed us.
 */
export function plainView(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** Marker + packet in one fresh buffer: the single copy a control packet send costs. */
export function withMarker(packet: Uint8Array, prefix = 0): Buffer {
  const out = Buffer.allocUnsafe(prefix + MARKER_LENGTH + packet.length);
  out.writeUInt32BE(0, prefix);
  out.set(packet, prefix + MARKER_LENGTH);
  return out;
}
