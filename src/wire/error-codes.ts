/**
 * Stable error codes of the wire layer. Every failure of this layer is a {@link HipWireError}
 * carrying one of these codes.
 * @module
 */
import { HipWireError } from '../errors.js';

/**
 * Codes of {@link HipWireError}s thrown by the wire codec.
 *
 * @example
 * ```ts
 * try { parsePacket(bytes); } catch (e) {
 *   if (e instanceof HipWireError && e.code === WireErrorCode.UNKNOWN_CRITICAL_PARAM) {
 *     // answer with NOTIFY UNSUPPORTED_CRITICAL_PARAMETER_TYPE, data = e.details.paramType
 *   }
 * }
 * ```
 */
export const WireErrorCode = Object.freeze({
  /** Shorter than 40 bytes, or shorter than the Header Length says. */
  TRUNCATED: 'ERR_HIP_TRUNCATED',
  /** Longer than the Header Length says (the caller must hand exactly one packet). */
  TRAILING_DATA: 'ERR_HIP_TRAILING_DATA',
  /** Header Length below 4 (less than the fixed header). */
  BAD_HEADER_LENGTH: 'ERR_HIP_BAD_HEADER_LENGTH',
  /** The fixed 0 bit of byte 2 or the fixed 1 bit of byte 3 is wrong. */
  BAD_FIXED_BITS: 'ERR_HIP_BAD_FIXED_BITS',
  /** Version is neither 1 nor 2. */
  BAD_VERSION: 'ERR_HIP_BAD_VERSION',
  /** Packet type not in {@link PacketType}. */
  UNKNOWN_PACKET_TYPE: 'ERR_HIP_UNKNOWN_PACKET_TYPE',
  /** Next Header is not 59. */
  NEXT_HEADER: 'ERR_HIP_NEXT_HEADER',
  /** A TLV (with its padding) runs past the end of the packet. */
  PARAM_TRUNCATED: 'ERR_HIP_PARAM_TRUNCATED',
  /** Parameters are not in ascending type order. */
  PARAM_ORDER: 'ERR_HIP_PARAM_ORDER',
  /**
   * A parameter that may appear only once (integrity, puzzle, keys, negotiation lists) appears
   * again. `details.paramType` holds its type.
   */
  DUPLICATE_PARAM: 'ERR_HIP_DUPLICATE_PARAM',
  /** An unknown parameter with the critical bit set. `details.paramType` holds its type. */
  UNKNOWN_CRITICAL_PARAM: 'ERR_HIP_UNKNOWN_CRITICAL_PARAM',
  /** A parameter's length breaks its layout rules. `details.paramType` holds its type. */
  PARAM_LENGTH: 'ERR_HIP_PARAM_LENGTH',
  /** The checksum does not verify. */
  BAD_CHECKSUM: 'ERR_HIP_BAD_CHECKSUM',
  /** Emission: the packet would exceed {@link HIP_MAX_PACKET} bytes. */
  PACKET_TOO_LONG: 'ERR_HIP_PACKET_TOO_LONG',
  /** Emission: a parameter's contents would not fit the 16-bit Length field. */
  PARAM_TOO_LONG: 'ERR_HIP_PARAM_TOO_LONG',
  /** Emission: a field value does not fit its wire field (range, integer, byte length). */
  BAD_FIELD: 'ERR_HIP_BAD_FIELD',
  /** Checksum: the addresses are not both 4 or both 16 bytes long. */
  BAD_ADDRESS: 'ERR_HIP_BAD_ADDRESS',
  /** HIP_MAC_2 bytes were asked for without the Responder's HOST_ID TLV. */
  MISSING_HOST_ID: 'ERR_HIP_MISSING_HOST_ID',
  /** A locator of a type this codec cannot decode. */
  UNKNOWN_LOCATOR_TYPE: 'ERR_HIP_UNKNOWN_LOCATOR_TYPE',
} as const);

/** One of the {@link WireErrorCode} strings. */
export type WireErrorCodeValue = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/**
 * Shorthand used across the wire layer.
 * @internal
 */
export function wireError(
  code: WireErrorCodeValue,
  message: string,
  details?: Record<string, unknown>,
): HipWireError {
  return new HipWireError(code, message, details);
}
