/**
 * The HIP header checksum: the 16-bit one's-complement Internet checksum over an IPv4 or IPv6
 * pseudo-header (protocol 139) and the whole HIP packet, with the checksum field taken as 0.
 *
 * Over UDP the HIP checksum is 0 (RFC 5770); it is only real for HIP carried directly in IP.
 * @module
 */
import { HIP_PROTOCOL } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';

const CHECKSUM_OFFSET = 4;

function checkAddresses(src: Uint8Array, dst: Uint8Array): void {
  const ok =
    src instanceof Uint8Array &&
    dst instanceof Uint8Array &&
    src.length === dst.length &&
    (src.length === 4 || src.length === 16);
  if (!ok) {
    throw wireError(
      WireErrorCode.BAD_ADDRESS,
      'checksum addresses must both be 4 bytes (IPv4) or both 16 bytes (IPv6)',
      { srcLength: (src as Uint8Array | undefined)?.length, dstLength: (dst as Uint8Array | undefined)?.length },
    );
  }
}

/** Sum of the 16-bit big-endian words of `b` (a trailing odd byte is padded with 0), unfolded. */
function sumWords(b: Uint8Array, skipChecksumField: boolean): number {
  let sum = 0;
  const even = b.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (even !== b.length) sum += b[even]! << 8;
  if (skipChecksumField && b.length >= CHECKSUM_OFFSET + 2) {
    sum -= (b[CHECKSUM_OFFSET]! << 8) | b[CHECKSUM_OFFSET + 1]!;
  }
  return sum;
}

/** Pseudo-header sum. Both layouts contribute the same words: addresses, length, protocol. */
function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, length: number, protocol: number = HIP_PROTOCOL): number {
  // IPv4: src | dst | 0 | proto | len(16). IPv6: src | dst | len(32) | 0 0 0 | proto.
  // As 16-bit word sums both come to: words(src) + words(dst) + len_hi + len_lo + proto.
  return sumWords(src, false) + sumWords(dst, false) + Math.floor(length / 0x10000) + (length & 0xffff) + protocol;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The checksum a HIP packet should carry, computed with its checksum field taken as 0 (the
 * field's current value does not matter). Addresses of 4 bytes select the IPv4 pseudo-header,
 * 16 bytes the IPv6 one.
 *
 * @example
 * ```ts
 * const sum = hipChecksum(packet, hexToBytes('c0000201'), hexToBytes('c0000202'));
 * ```
 * @throws HipWireError ERR_HIP_BAD_ADDRESS
 */
export function hipChecksum(packet: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
  checkAddresses(src, dst);
  const sum = pseudoHeaderSum(src, dst, packet.length) + sumWords(packet, true);
  return ~fold(sum) & 0xffff;
}

/**
 * Internet checksum of an upper-layer segment (UDP, TCP, ...) over the IPv4 or IPv6
 * pseudo-header, with the segment's own checksum field taken as it is (zero it first when
 * computing). In BEET mode (RFC 7402 Appendix B) the pseudo-header addresses are the two HITs.
 *
 * @example
 * ```ts
 * const c = upperLayerChecksum(srcHit, dstHit, 17, udpHeaderAndData);
 * ```
 * @throws HipWireError ERR_HIP_BAD_ADDRESS
 */
export function upperLayerChecksum(src: Uint8Array, dst: Uint8Array, protocol: number, segment: Uint8Array): number {
  checkAddresses(src, dst);
  return ~fold(pseudoHeaderSum(src, dst, segment.length, protocol) + sumWords(segment, false)) & 0xffff;
}

/**
 * True if the packet's checksum field is right for these addresses. Both encodings of a zero
 * result (0x0000 and 0xffff) are accepted, as one's-complement arithmetic makes them equal.
 * @throws HipWireError ERR_HIP_BAD_ADDRESS
 */
export function verifyChecksum(packet: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  checkAddresses(src, dst);
  if (packet.length < CHECKSUM_OFFSET + 2) return false;
  return fold(pseudoHeaderSum(src, dst, packet.length) + sumWords(packet, false)) === 0xffff;
}

/**
 * Like {@link verifyChecksum}, but throws on a mismatch.
 * @throws HipWireError ERR_HIP_BAD_CHECKSUM (details: `expected`, `actual`), ERR_HIP_BAD_ADDRESS
 */
export function assertChecksum(packet: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  if (!verifyChecksum(packet, src, dst)) {
    const expected = packet.length >= CHECKSUM_OFFSET + 2 ? hipChecksum(packet, src, dst) : undefined;
    const actual =
      packet.length >= CHECKSUM_OFFSET + 2 ? (packet[CHECKSUM_OFFSET]! << 8) | packet[CHECKSUM_OFFSET + 1]! : undefined;
    throw wireError(WireErrorCode.BAD_CHECKSUM, 'HIP checksum does not verify', { expected, actual });
  }
}
