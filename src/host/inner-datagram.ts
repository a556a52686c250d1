/**
 * The payload of an ESP packet that carries a datagram: an 8-byte UDP header (ESP Next Header 17)
 * followed by the data. With BEET semantics (RFC 7402 Appendix B) the inner addresses are the
 * two HITs, so the checksum uses the IPv6 pseudo-header with the HITs as addresses. Decrypted in
 * Wireshark, such a packet reads as an ordinary UDP datagram between the two ports.
 * @module
 */
import { HipProtocolError } from '../errors.js';
import { upperLayerChecksum } from '../wire/checksum.js';

/** IP protocol number of UDP: the ESP Next Header of a datagram. */
export const INNER_UDP = 17;

/** A decoded inner datagram. */
export interface InnerDatagram {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

/**
 * The 8-byte UDP header of `d` with checksum 0 ("none", as UDP allows: the ESP ICV already
 * authenticates every byte), for a sender that seals header and data as separate pieces.
 *
 * @throws HipProtocolError `ERR_HIP_DATAGRAM_TOO_LARGE` as {@link encodeInnerDatagram}.
 */
export function innerDatagramHeader(d: InnerDatagram): Uint8Array {
  const out = new Uint8Array(8);
  writeHeader(out, d);
  return out;
}

/**
 * Build the inner UDP datagram for `data` from `srcPort` to `dstPort` between two HITs. With
 * `checksum: false` the checksum field is 0 ("none", as UDP allows): inside ESP the ICV already
 * authenticates every byte, so only a reader of decrypted captures needs it.
 */
export function encodeInnerDatagram(d: InnerDatagram, srcHit: Uint8Array, dstHit: Uint8Array, opts?: { checksum?: boolean }): Uint8Array {
  const len = 8 + d.data.length;
  const out = new Uint8Array(len);
  writeHeader(out, d);
  out.set(d.data, 8);
  if (opts?.checksum === false) return out;
  const c = upperLayerChecksum(srcHit, dstHit, INNER_UDP, out) || 0xffff;
  out[6] = c >> 8;
  out[7] = c & 0xff;
  return out;
}

/**
 * Parse and check an inner UDP datagram (its checksum too, unless `checksum: false`: the ESP ICV
 * has authenticated it already). Throws HipProtocolError `ERR_HIP_BAD_DATAGRAM`.
 */
export function decodeInnerDatagram(bytes: Uint8Array, srcHit: Uint8Array, dstHit: Uint8Array, opts?: { checksum?: boolean }): InnerDatagram {
  if (bytes.length < 8) throw new HipProtocolError('ERR_HIP_BAD_DATAGRAM', 'inner datagram shorter than its header');
  const len = (bytes[4]! << 8) | bytes[5]!;
  if (len !== bytes.length) throw new HipProtocolError('ERR_HIP_BAD_DATAGRAM', `inner datagram length ${len} != ${bytes.length}`);
  const checksum = (bytes[6]! << 8) | bytes[7]!;
  if (checksum !== 0 && opts?.checksum !== false && upperLayerChecksum(srcHit, dstHit, INNER_UDP, bytes) !== 0) {
    throw new HipProtocolError('ERR_HIP_BAD_DATAGRAM', 'inner datagram checksum mismatch');
  }
  return { srcPort: (bytes[0]! << 8) | bytes[1]!, dstPort: (bytes[2]! << 8) | bytes[3]!, data: bytes.subarray(8) };
}

/** Ports and length of the inner UDP header at the start of `out`; the checksum stays 0. */
function writeHeader(out: Uint8Array, d: InnerDatagram): void {
  const len = 8 + d.data.length;
  if (len > 0xffff) throw new HipProtocolError('ERR_HIP_DATAGRAM_TOO_LARGE', `datagram of ${d.data.length} bytes is too large`);
  out[0] = d.srcPort >> 8;
  out[1] = d.srcPort & 0xff;
  out[2] = d.dstPort >> 8;
  out[3] = d.dstPort & 0xff;
  out[4] = len >> 8;
  out[5] = len & 0xff;
}
