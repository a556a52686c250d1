/**
 * The generic TLV framing of HIP parameters: Type (2) | Length (2) | Contents | zero padding to
 * a multiple of 8. Knows nothing about individual parameter layouts.
 * @module
 */
import { HIP_HEADER_LENGTH, paramTypeName } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';

/** Bytes a TLV with `contentLength` bytes of contents occupies on the wire, padding included. */
export function tlvSize(contentLength: number): number {
  return (contentLength + 4 + 7) & ~7;
}

/** Where one TLV sits inside a packet. */
export interface TlvSpan {
  /** The Type field (its lowest bit is the critical bit). */
  type: number;
  /** Offset of the Type field. */
  offset: number;
  /** The Length field: bytes of contents. */
  length: number;
  /** Offset just past the padding (the next TLV's offset). */
  end: number;
}

/**
 * Read the TLV starting at `offset` of `bytes`, which ends at `limit`.
 * @throws HipWireError ERR_HIP_PARAM_TRUNCATED if the TLV or its padding runs past `limit`
 */
export function readTlvSpan(bytes: Uint8Array, offset: number, limit: number): TlvSpan {
  if (offset + 4 > limit) {
    throw wireError(
      WireErrorCode.PARAM_TRUNCATED,
      `parameter header at offset ${offset} runs past the end of the packet (${limit})`,
      { offset },
    );
  }
  const type = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  const end = offset + tlvSize(length);
  if (end > limit) {
    throw wireError(
      WireErrorCode.PARAM_TRUNCATED,
      `parameter ${paramTypeName(type)} at offset ${offset} (length ${length}, ${tlvSize(length)} bytes with padding) runs past the end of the packet (${limit})`,
      { offset, paramType: type, length },
    );
  }
  return { type, offset, length, end };
}

/**
 * Every TLV of a packet, in wire order. Only the framing is checked: the packet is assumed to
 * be exactly `bytes` (call {@link checkFraming} first if that is in doubt).
 * @throws HipWireError ERR_HIP_PARAM_TRUNCATED
 */
export function listTlvs(bytes: Uint8Array): TlvSpan[] {
  const out: TlvSpan[] = [];
  let off = HIP_HEADER_LENGTH;
  while (off < bytes.length) {
    const span = readTlvSpan(bytes, off, bytes.length);
    out.push(span);
    off = span.end;
  }
  return out;
}

/**
 * The first TLV of the given type in a packet, exactly as it appears on the wire (Type, Length,
 * contents and padding), as a view into `packetBytes`. HIP_MAC_2 needs the Responder's HOST_ID
 * TLV verbatim, which is what this returns.
 *
 * The packet ends where its Header Length says (or at the end of `packetBytes` if that is
 * shorter); the walk stops at the first TLV that would run past it.
 *
 * @example
 * ```ts
 * const hostIdTlv = findTlv(r1Bytes, ParamType.HOST_ID); // keep until the R2 arrives
 * ```
 * @throws HipWireError ERR_HIP_TRUNCATED if the packet is shorter than the header,
 * ERR_HIP_PARAM_TRUNCATED if a TLV before the wanted one is cut short
 */
export function findTlv(packetBytes: Uint8Array, type: number): Uint8Array | undefined {
  if (packetBytes.length < HIP_HEADER_LENGTH) {
    throw wireError(
      WireErrorCode.TRUNCATED,
      `HIP packet of ${packetBytes.length} bytes is shorter than the 40-byte header`,
      { length: packetBytes.length },
    );
  }
  const limit = Math.min(packetBytes.length, (packetBytes[1]! + 1) * 8);
  let off = HIP_HEADER_LENGTH;
  while (off < limit) {
    const span = readTlvSpan(packetBytes, off, limit);
    if (span.type === type) return packetBytes.subarray(span.offset, span.end);
    off = span.end;
  }
  return undefined;
}
