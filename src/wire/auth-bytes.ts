/**
 * The bytes a HIP MAC or signature covers (RFC 7401 §6.4.1, §6.4.2; RFC 5201 for v1). The rule
 * is positional: everything physically before the MAC/signature TLV, which also handles
 * libhipl's out-of-order parameters.
 * @module
 */
import { HIP_HEADER_LENGTH, HIP_MAX_PACKET, ParamType } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';
import { HeaderOffset, checkFraming } from './header.js';
import { readTlvSpan } from './tlv.js';

/** Options of {@link authenticatedBytes}. */
export interface AuthBytesOptions {
  /**
   * HIP_MAC_2 only: the Responder's HOST_ID TLV exactly as it was in the R1 (Type, Length,
   * contents, padding), e.g. from {@link findTlv}.
   */
  responderHostIdTlv?: Uint8Array;
}

/**
 * The bytes covered by the MAC or signature parameter of type `paramType`, as a new buffer:
 * the packet cut just before the first TLV of that type (the whole packet if there is none, so
 * the same call serves a packet still being built), Header Length set to the cut length, and
 * checksum zeroed. Per type:
 *
 * - HIP_SIGNATURE_2 (61633): also zeroes the Receiver's HIT and the PUZZLE's Opaque and #I.
 * - HIP_MAC_2 (61569): appends `opts.responderHostIdTlv` verbatim, counted in Header Length.
 * - HIP_MAC, HIP_SIGNATURE, RVS_HMAC, RELAY_HMAC and any other type: no extras.
 *
 * @example
 * ```ts
 * const signed = authenticatedBytes(r1Bytes, ParamType.HIP_SIGNATURE_2);
 * const macInput = authenticatedBytes(r2Bytes, ParamType.HIP_MAC_2, { responderHostIdTlv });
 * ```
 * @throws HipWireError ERR_HIP_TRUNCATED, ERR_HIP_TRAILING_DATA, ERR_HIP_BAD_HEADER_LENGTH,
 * ERR_HIP_PARAM_TRUNCATED (malformed packet), ERR_HIP_MISSING_HOST_ID (HIP_MAC_2 without the
 * TLV), ERR_HIP_PARAM_LENGTH (a HOST_ID TLV not a whole number of 8-byte units),
 * ERR_HIP_PACKET_TOO_LONG
 */
export function authenticatedBytes(packet: Uint8Array, paramType: number, opts?: AuthBytesOptions): Uint8Array {
  const total = checkFraming(packet);
  let cut = total;
  let puzzle: { offset: number; length: number } | undefined;
  let off = HIP_HEADER_LENGTH;
  while (off < total) {
    const span = readTlvSpan(packet, off, total);
    if (span.type === paramType) {
      cut = off;
      break;
    }
    if (span.type === ParamType.PUZZLE && puzzle === undefined) puzzle = { offset: off, length: span.length };
    off = span.end;
  }

  let extra: Uint8Array | undefined;
  if (paramType === ParamType.HIP_MAC_2) {
    extra = opts?.responderHostIdTlv;
    if (!(extra instanceof Uint8Array)) {
      throw wireError(
        WireErrorCode.MISSING_HOST_ID,
        "HIP_MAC_2 covers the Responder's HOST_ID TLV: pass opts.responderHostIdTlv",
      );
    }
    if (extra.length < 8 || extra.length % 8 !== 0) {
      throw wireError(
        WireErrorCode.PARAM_LENGTH,
        `the HOST_ID TLV for HIP_MAC_2 is ${extra.length} bytes, not a padded TLV`,
        { paramType: ParamType.HOST_ID, length: extra.length },
      );
    }
  }

  const len = cut + (extra?.length ?? 0);
  if (len > HIP_MAX_PACKET) {
    throw wireError(WireErrorCode.PACKET_TOO_LONG, `MAC input of ${len} bytes exceeds ${HIP_MAX_PACKET}`, {
      length: len,
    });
  }
  const out = new Uint8Array(len);
  out.set(packet.subarray(0, cut));
  if (extra !== undefined) out.set(extra, cut);
  out[HeaderOffset.HEADER_LENGTH] = len / 8 - 1;
  out[HeaderOffset.CHECKSUM] = 0;
  out[HeaderOffset.CHECKSUM + 1] = 0;

  if (paramType === ParamType.HIP_SIGNATURE_2) {
    out.fill(0, HeaderOffset.RECEIVER_HIT, HeaderOffset.RECEIVER_HIT + 16);
    if (puzzle !== undefined && puzzle.offset < cut) {
      // Keep #K and Lifetime (contents bytes 0-1); zero Opaque (2-3) and #I (the rest).
      const start = puzzle.offset + 4 + 2;
      const end = Math.max(start, puzzle.offset + 4 + puzzle.length);
      out.fill(0, start, end);
    }
  }
  return out;
}
