/**
 * ICMPv6 inside ESP: with BEET semantics (RFC 7402 Appendix B) the inner addresses are the two
 * HITs, so a peer can ping our HIT as hipd's heartbeat does (an echo request every few seconds;
 * after a few unanswered ones hipd starts UPDATEs). We answer echo requests and match our own
 * requests' replies; everything else is named for the drop counters.
 * @module
 */
import { upperLayerChecksum } from '../wire/checksum.js';

/** IP protocol number of ICMPv6: the ESP Next Header of an ICMPv6 message. */
export const INNER_ICMPV6 = 58;

const ECHO_REQUEST = 128;
const ECHO_REPLY = 129;
const HEADER = 8;

/** What an inner ICMPv6 message is. */
export type Icmpv6Message =
  | { kind: 'echo-request'; reply: Uint8Array }
  | { kind: 'echo-reply'; id: number; seq: number }
  | { kind: 'drop'; reason: string };

/**
 * Look at an ICMPv6 message received from `srcHit` for `dstHit`: an echo request comes back
 * with its reply ready to seal, an echo reply with its identifier and sequence number; a bad
 * checksum or length, or any other type, is a drop with a reason naming it.
 */
export function readIcmpv6(bytes: Uint8Array, srcHit: Uint8Array, dstHit: Uint8Array): Icmpv6Message {
  if (bytes.length < HEADER) return { kind: 'drop', reason: 'icmpv6-short' };
  // The checksum is mandatory in ICMPv6 and covers the pseudo-header (the HITs here): a sum of 0.
  if (upperLayerChecksum(srcHit, dstHit, INNER_ICMPV6, bytes) !== 0) return { kind: 'drop', reason: 'icmpv6-checksum' };
  const type = bytes[0]!;
  if (type === ECHO_REQUEST && bytes[1] === 0) {
    const reply = bytes.slice();
    reply[0] = ECHO_REPLY;
    reply[2] = 0;
    reply[3] = 0;
    setChecksum(reply, dstHit, srcHit);
    return { kind: 'echo-request', reply };
  }
  if (type === ECHO_REPLY && bytes[1] === 0) return { kind: 'echo-reply', id: u16(bytes, 4), seq: u16(bytes, 6) };
  return { kind: 'drop', reason: `icmpv6-type-${type}` };
}

/** An ICMPv6 echo request from `srcHit` to `dstHit` with the given identifier, sequence number and data. */
export function echoRequest(id: number, seq: number, data: Uint8Array, srcHit: Uint8Array, dstHit: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length);
  out[0] = ECHO_REQUEST;
  out[4] = (id >> 8) & 0xff;
  out[5] = id & 0xff;
  out[6] = (seq >> 8) & 0xff;
  out[7] = seq & 0xff;
  out.set(data, HEADER);
  setChecksum(out, srcHit, dstHit);
  return out;
}

function setChecksum(msg: Uint8Array, srcHit: Uint8Array, dstHit: Uint8Array): void {
  const c = upperLayerChecksum(srcHit, dstHit, INNER_ICMPV6, msg);
  msg[2] = c >> 8;
  msg[3] = c & 0xff;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipv4',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  60: 'ipv6-opts',
  103: 'pim',
  132: 'sctp',
  135: 'mobility',
  136: 'udplite',
  139: 'hip',
};

/** The drop reason for an inner protocol the host does not carry: `inner-<name>` (IANA keyword) or `inner-<number>`. */
export function innerProtocolDrop(nextHeader: number): string {
  return `inner-${PROTOCOL_NAMES[nextHeader] ?? String(nextHeader)}`;
}
