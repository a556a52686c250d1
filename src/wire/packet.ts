/**
 * Whole HIP packets: bytes -> {@link HipPacket} and back, with strict validation both ways.
 * @module
 */
import { HIP_HEADER_LENGTH, HIP_MAX_PACKET, ParamType, paramTypeName } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';
import { hipChecksum } from './checksum.js';
import { HeaderOffset, parseHeader, writeHeader } from './header.js';
import { paramContentLength, parseParamAt, writeParamAt } from './params.js';
import { readTlvSpan, tlvSize } from './tlv.js';
import type { HipPacket, HipParam, HipVersion } from './types.js';

/** Options of {@link emitPacket}. */
export interface EmitOptions {
  /**
   * Compute the real checksum over this pseudo-header (4-byte addresses: IPv4, 16-byte: IPv6).
   * Without it the checksum field is 0, as HIP over UDP requires.
   */
  checksum?: {
    /** Source IP address of the carrying packet (4 or 16 bytes). */
    src: Uint8Array;
    /** Destination IP address of the carrying packet (4 or 16 bytes). */
    dst: Uint8Array;
  };
  /**
   * Check parameter order as {@link parsePacket} does (default true), so whatever is emitted
   * parses again. Set false only to build deliberately malformed packets for tests.
   */
  checkOrder?: boolean;
}

/** Options of {@link parsePacket}. */
export interface ParseOptions {
  /**
   * Inspection mode, for looking at captures of other implementations (a dissector's view):
   * parameter order is not checked, and an unknown critical parameter or one that breaks its
   * layout is kept as a {@link RawParam} with `malformed` set to the error code. Header and
   * TLV framing errors still throw. Do not act on packets parsed this way.
   */
  lenient?: boolean;
}

/**
 * Parameters a packet carries at most once. A second HIP_MAC or HIP_SIGNATURE would be ignored
 * by the "cut at the first" rule of the MAC and signature, so an attacker could append one to
 * make a replayed packet look new; the others are single by the layouts of RFC 7401 §5.3.
 * ESP_INFO (one per SA in an UPDATE), ACK, echoes, NOTIFICATION, CERT and the relay and locator
 * parameters may repeat.
 */
const SINGLE_PARAMS: ReadonlySet<number> = new Set([
  ParamType.R1_COUNTER_V1,
  ParamType.R1_COUNTER,
  ParamType.PUZZLE,
  ParamType.SOLUTION,
  ParamType.SEQ,
  ParamType.DH_GROUP_LIST,
  ParamType.DIFFIE_HELLMAN,
  ParamType.HIP_TRANSFORM,
  ParamType.HIP_CIPHER,
  ParamType.NAT_TRAVERSAL_MODE,
  ParamType.ENCRYPTED,
  ParamType.HOST_ID,
  ParamType.HIT_SUITE_LIST,
  ParamType.ECHO_REQUEST_SIGNED,
  ParamType.ECHO_RESPONSE_SIGNED,
  ParamType.TRANSPORT_FORMAT_LIST,
  ParamType.ESP_TRANSFORM,
  ParamType.HIP_MAC,
  ParamType.HIP_MAC_2,
  ParamType.HIP_SIGNATURE_2,
  ParamType.HIP_SIGNATURE,
  ParamType.RVS_HMAC,
  ParamType.RELAY_HMAC,
]);

/** True for a parameter type a packet may carry at most once (see ERR_HIP_DUPLICATE_PARAM). */
export function isSingleParamType(type: number): boolean {
  return SINGLE_PARAMS.has(type);
}

function inTransformRange(t: number): boolean {
  return t >= 2048 && t <= 4095;
}

/**
 * Tracks parameter order. HIPv2: types must never decrease (repeats are then necessarily
 * adjacent). HIPv1, as libhipl accepts it: a decrease is allowed when both neighbours lie in
 * 2048–4095, and libhipl's own I2 disorders are tolerated: R1_COUNTER right after
 * DIFFIE_HELLMAN and ECHO_RESPONSE_SIGNED right after ESP_TRANSFORM. Such a tolerated stray
 * does not move the baseline, so the parameters after it must still follow the ones before it.
 */
class OrderCheck {
  private last = -1;
  private prev = -1;
  private readonly seen = new Set<number>();

  constructor(private readonly version: HipVersion) {}

  /** Accept the next type or throw ERR_HIP_PARAM_ORDER (or ERR_HIP_DUPLICATE_PARAM). */
  next(type: number, index: number): void {
    if (SINGLE_PARAMS.has(type)) {
      if (this.seen.has(type)) {
        throw wireError(WireErrorCode.DUPLICATE_PARAM, `parameter ${paramTypeName(type)} (${type}) appears twice (index ${index})`, {
          paramType: type,
          index,
        });
      }
      this.seen.add(type);
    }
    const prev = this.prev;
    this.prev = type;
    if (type >= this.last) {
      this.last = type;
      return;
    }
    if (this.version === 1) {
      if (inTransformRange(type) && inTransformRange(prev) && prev === this.last) {
        this.last = type;
        return;
      }
      const strayR1Counter =
        (type === ParamType.R1_COUNTER_V1 || type === ParamType.R1_COUNTER) && prev === ParamType.DIFFIE_HELLMAN;
      const strayEcho = type === ParamType.ECHO_RESPONSE_SIGNED && prev === ParamType.ESP_TRANSFORM;
      if (strayR1Counter || strayEcho) return;
    }
    throw wireError(
      WireErrorCode.PARAM_ORDER,
      `parameter ${paramTypeName(type)} (${type}) at index ${index} follows ${paramTypeName(this.last)} (${this.last})`,
      { paramType: type, previousType: this.last, index },
    );
  }
}

/**
 * Parse and validate one HIP packet (exactly the bytes of one packet: no UDP marker, no
 * trailing data).
 *
 * Byte arrays in the result (HITs, parameter fields) are views into `bytes`, not copies: copy
 * them if `bytes` will be reused. Unknown non-critical parameters are kept as
 * {@link RawParam}s, so `emitPacket(parsePacket(b))` reproduces `b` (the checksum field aside,
 * see {@link emitPacket}).
 *
 * @example
 * ```ts
 * const pkt = parsePacket(datagram.subarray(4)); // after the 4-byte zero marker
 * if (pkt.type === PacketType.R1) { const puzzle = getParam(pkt, ParamType.PUZZLE); }
 * ```
 * @throws HipWireError with one of the {@link WireErrorCode} codes: ERR_HIP_TRUNCATED,
 * ERR_HIP_TRAILING_DATA, ERR_HIP_BAD_HEADER_LENGTH, ERR_HIP_NEXT_HEADER, ERR_HIP_BAD_FIXED_BITS,
 * ERR_HIP_BAD_VERSION, ERR_HIP_UNKNOWN_PACKET_TYPE, ERR_HIP_PARAM_TRUNCATED, ERR_HIP_PARAM_ORDER,
 * ERR_HIP_DUPLICATE_PARAM,
 * ERR_HIP_UNKNOWN_CRITICAL_PARAM, ERR_HIP_PARAM_LENGTH
 */
export function parsePacket(bytes: Uint8Array, opts?: ParseOptions): HipPacket {
  if (!(bytes instanceof Uint8Array)) {
    throw wireError(WireErrorCode.TRUNCATED, 'a HIP packet must be a Uint8Array', { value: typeof bytes });
  }
  const h = parseHeader(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenient = opts?.lenient === true;
  const order = lenient ? undefined : new OrderCheck(h.version);
  const params: HipParam[] = [];
  let off = HIP_HEADER_LENGTH;
  while (off < h.length) {
    const span = readTlvSpan(bytes, off, h.length);
    order?.next(span.type, params.length);
    params.push(parseParamAt(bytes, dv, off, span.type, span.length, h.version, lenient));
    off = span.end;
  }
  const pkt: HipPacket = {
    version: h.version,
    type: h.type,
    controls: h.controls,
    checksum: h.checksum,
    senderHit: h.senderHit,
    receiverHit: h.receiverHit,
    params,
  };
  if (h.headerReserved !== 0) pkt.headerReserved = h.headerReserved;
  return pkt;
}

/**
 * Emit a HIP packet. Every field is range-checked and the parameter order is checked (see
 * {@link EmitOptions.checkOrder}). The Header Length is computed; `pkt.checksum` is ignored:
 * the checksum is 0 unless `opts.checksum` gives the addresses to compute it over.
 *
 * @example
 * ```ts
 * const bytes = emitPacket({
 *   version: 2, type: PacketType.I1, controls: 0, checksum: 0, senderHit, receiverHit,
 *   params: [{ type: ParamType.DH_GROUP_LIST, groups: [3, 4, 8] }],
 * }, { checksum: { src: ipv6Src, dst: ipv6Dst } });
 * ```
 * @throws HipWireError ERR_HIP_BAD_VERSION, ERR_HIP_UNKNOWN_PACKET_TYPE, ERR_HIP_BAD_FIELD,
 * ERR_HIP_PARAM_TOO_LONG, ERR_HIP_PACKET_TOO_LONG, ERR_HIP_PARAM_ORDER, ERR_HIP_BAD_ADDRESS
 */
export function emitPacket(pkt: HipPacket, opts?: EmitOptions): Uint8Array {
  if (pkt === null || typeof pkt !== 'object' || !Array.isArray(pkt.params)) {
    throw wireError(WireErrorCode.BAD_FIELD, 'a HIP packet must be an object with a params array', {
      field: 'params',
    });
  }
  const version = pkt.version;
  if (version !== 1 && version !== 2) {
    throw wireError(WireErrorCode.BAD_VERSION, `HIP version ${String(version)} is not supported`, { version });
  }
  const n = pkt.params.length;
  const lengths = new Array<number>(n);
  const order = opts?.checkOrder === false ? undefined : new OrderCheck(version);
  let total = HIP_HEADER_LENGTH;
  for (let i = 0; i < n; i++) {
    const p = pkt.params[i]!;
    const len = paramContentLength(p, version);
    order?.next(p.type, i);
    lengths[i] = len;
    total += tlvSize(len);
  }
  if (total > HIP_MAX_PACKET) {
    throw wireError(
      WireErrorCode.PACKET_TOO_LONG,
      `HIP packet of ${total} bytes exceeds ${HIP_MAX_PACKET}`,
      { length: total },
    );
  }
  const out = new Uint8Array(total);
  writeHeader(out, pkt);
  const dv = new DataView(out.buffer);
  let off = HIP_HEADER_LENGTH;
  for (let i = 0; i < n; i++) off = writeParamAt(out, dv, off, pkt.params[i]!, lengths[i]!, version);
  if (opts?.checksum !== undefined) {
    const sum = hipChecksum(out, opts.checksum.src, opts.checksum.dst);
    out[HeaderOffset.CHECKSUM] = sum >> 8;
    out[HeaderOffset.CHECKSUM + 1] = sum & 0xff;
  }
  return out;
}
