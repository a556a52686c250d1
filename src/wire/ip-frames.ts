/**
 * Link-layer and IP decoding for captured frames, and the search for HIP and ESP packets in
 * them. Read-only: used by tests and by people debugging a capture, never on the data path, so
 * it favours tolerance (skip what cannot be decoded) over strictness.
 * @module
 */

import { HipWireError } from '../errors.js';
import type { CapturedFrame } from './pcap-reader.js';

/** Link-layer header types (tcpdump.org LINKTYPE_* values) that {@link decodeFrameIp} understands. */
export const PcapLinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** Ethernet II, with any number of 802.1Q / 802.1ad VLAN tags. */
  ETHERNET: 1,
  /** Raw IPv4 or IPv6, no link header (what {@link PcapWriter} writes). */
  RAW: 101,
  /** OpenBSD loopback: like NULL but the family is big-endian. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (`tcpdump -i any`). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux "cooked" capture v2 (newer `tcpdump -i any`). */
  LINUX_SLL2: 276,
} as const;

/** One IP datagram found in a captured frame, after IPv6 extension headers were skipped. */
export interface CapturedIp {
  /** 4 or 6. */
  version: 4 | 6;
  /** Source address, 4 or 16 bytes. */
  src: Uint8Array;
  /** Destination address, 4 or 16 bytes. */
  dst: Uint8Array;
  /** The upper-layer protocol (IPv4 protocol field, or the last IPv6 next-header value). */
  protocol: number;
  /** True when the datagram is a fragment: its payload is not a whole upper-layer packet. */
  fragment: boolean;
  /** The upper-layer bytes, cut to the length the IP header announces (link padding removed). */
  payload: Uint8Array;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];

function truncated(what: string, details?: Record<string, unknown>): HipWireError {
  return new HipWireError('ERR_PCAP_TRUNCATED', `captured frame too short for ${what}`, details);
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/**
 * Find the IP datagram inside one captured frame.
 *
 * Returns `null` for frames that carry something other than IP (ARP, LLDP, ...).
 *
 * @throws `HipWireError` `ERR_PCAP_UNSUPPORTED_LINKTYPE` for a link type not in
 *   {@link PcapLinkType}; `ERR_PCAP_TRUNCATED` when a header is cut short.
 * @example
 * ```ts
 * for (const f of readCapture(bytes)) {
 *   const ip = decodeFrameIp(f);
 *   if (ip?.protocol === 50) console.log('ESP', ip.payload.length);
 * }
 * ```
 */
export function decodeFrameIp(frame: CapturedFrame): CapturedIp | null {
  const d = frame.data;
  let off: number;
  let ethertype: number | undefined; // undefined: decide from the IP version nibble
  switch (frame.linkType) {
    case PcapLinkType.NULL:
    case PcapLinkType.LOOP:
      // The family value differs per OS (AF_INET6 is 10, 24, 28 or 30), so the IP version
      // nibble is the more reliable signal; only the header length matters here.
      if (d.length < 4) throw truncated('loopback header');
      off = 4;
      break;
    case PcapLinkType.ETHERNET: {
      if (d.length < 14) throw truncated('Ethernet header');
      off = 12;
      let type = u16(d, off);
      while (ETHERTYPE_VLAN.includes(type)) {
        off += 4;
        if (d.length < off + 2) throw truncated('VLAN tag');
        type = u16(d, off);
      }
      ethertype = type;
      off += 2;
      break;
    }
    case PcapLinkType.RAW:
    case PcapLinkType.IPV4:
    case PcapLinkType.IPV6:
      off = 0;
      break;
    case PcapLinkType.LINUX_SLL:
      if (d.length < 16) throw truncated('Linux cooked header');
      ethertype = u16(d, 14);
      off = 16;
      break;
    case PcapLinkType.LINUX_SLL2:
      if (d.length < 20) throw truncated('Linux cooked v2 header');
      ethertype = u16(d, 0);
      off = 20;
      break;
    default:
      throw new HipWireError(
        'ERR_PCAP_UNSUPPORTED_LINKTYPE',
        `link type ${frame.linkType} is not supported`,
        { linkType: frame.linkType, frameIndex: frame.index },
      );
  }
  if (ethertype !== undefined && ethertype !== ETHERTYPE_IPV4 && ethertype !== ETHERTYPE_IPV6) {
    return null;
  }
  if (d.length <= off) throw truncated('IP header');
  const version = d[off]! >> 4;
  if (version === 4) return decodeIpv4(d.subarray(off));
  if (version === 6) return decodeIpv6(d.subarray(off));
  if (ethertype === undefined) return null;
  throw new HipWireError('ERR_PCAP_BAD_IP', `IP version ${version} in an IP frame`, {
    frameIndex: frame.index,
  });
}

function decodeIpv4(b: Uint8Array): CapturedIp {
  if (b.length < 20) throw truncated('IPv4 header');
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20) throw new HipWireError('ERR_PCAP_BAD_IP', `IPv4 header length ${ihl}`);
  if (b.length < ihl) throw truncated('IPv4 options');
  const total = u16(b, 2);
  // Total length 0 appears with TCP segmentation offload; the capture length is all we have.
  const end = total === 0 ? b.length : Math.min(total, b.length);
  const fragWord = u16(b, 6);
  return {
    version: 4,
    src: b.slice(12, 16),
    dst: b.slice(16, 20),
    protocol: b[9]!,
    fragment: (fragWord & 0x3fff) !== 0,
    payload: b.subarray(ihl, Math.max(ihl, end)),
  };
}

const IPV6_SKIPPABLE = new Set([0 /* hop-by-hop */, 43 /* routing */, 60 /* destination options */]);

function decodeIpv6(b: Uint8Array): CapturedIp {
  if (b.length < 40) throw truncated('IPv6 header');
  const payloadLen = u16(b, 4);
  const end = payloadLen === 0 ? b.length : Math.min(40 + payloadLen, b.length);
  let next = b[6]!;
  let off = 40;
  let fragment = false;
  for (;;) {
    if (IPV6_SKIPPABLE.has(next)) {
      if (end < off + 8) throw truncated('IPv6 extension header');
      const len = (b[off + 1]! + 1) * 8;
      next = b[off]!;
      off += len;
    } else if (next === 44) {
      if (end < off + 8) throw truncated('IPv6 fragment header');
      if ((u16(b, off + 2) & 0xfff9) !== 0) fragment = true; // offset != 0 or M flag
      next = b[off]!;
      off += 8;
    } else if (next === 51) {
      if (end < off + 8) throw truncated('IPv6 authentication header');
      const len = (b[off + 1]! + 2) * 4;
      next = b[off]!;
      off += len;
    } else {
      break;
    }
  }
  if (off > end) throw truncated('IPv6 extension headers');
  return {
    version: 6,
    src: b.slice(8, 24),
    dst: b.slice(24, 40),
    protocol: next,
    fragment,
    payload: b.subarray(off, end),
  };
}

/** Text form of a 4- or 16-byte address (IPv6 compressed per RFC 5952). */
export function formatIpAddress(a: Uint8Array): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  if (a.length !== 16) {
    throw new HipWireError('ERR_PCAP_BAD_IP', `address of ${a.length} bytes`);
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(u16(a, i));
  // RFC 5952: compress the longest run of two or more zero words, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Where a HIP or ESP packet was found: the IP addresses and, for UDP/TCP, the ports. */
export interface CapturedLocation {
  /** Index of the frame in the {@link readCapture} result (0-based). */
  frameIndex: number;
  /** `'ip'` for raw IP (protocol 139 / 50), else the transport the packet rode in. */
  carrier: 'udp' | 'tcp' | 'ip';
  /** Source IP address as text. */
  src: string;
  /** Destination IP address as text. */
  dst: string;
  /** Source IP address, 4 or 16 bytes. */
  srcAddress: Uint8Array;
  /** Destination IP address, 4 or 16 bytes. */
  dstAddress: Uint8Array;
  /** Source port (UDP and TCP only). */
  srcPort?: number;
  /** Destination port (UDP and TCP only). */
  dstPort?: number;
}

/** A HIP control packet found in a capture. */
export interface CapturedHip extends CapturedLocation {
  /** The HIP packet (fixed header + parameters), without the 4-byte zero marker. */
  hip: Uint8Array;
}

/** An ESP packet found in a capture. */
export interface CapturedEsp extends CapturedLocation {
  /** The ESP packet, starting with the SPI. */
  esp: Uint8Array;
}

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ESP = 50;
const IPPROTO_HIP = 139;

/** How HIP is framed on one TCP flow: none (libhipl) or a 16-bit length prefix. */
type TcpFraming = 'bare' | 'prefix-inclusive' | 'prefix-exclusive';

interface Segment {
  frameIndex: number;
  ip: CapturedIp;
  carrier: 'udp' | 'tcp' | 'ip';
  srcPort?: number;
  dstPort?: number;
  payload: Uint8Array;
}

/** True when `b[off..]` starts with a zero marker and one HIP header whose length is exactly `len`. */
function markerAndHip(b: Uint8Array, off: number, len: number): boolean {
  if (len < 44 || off + len > b.length) return false;
  if (b[off] !== 0 || b[off + 1] !== 0 || b[off + 2] !== 0 || b[off + 3] !== 0) return false;
  if (b[off + 4] !== 59) return false;
  return (b[off + 5]! + 1) * 8 === len - 4;
}

function decodeSegments(frames: readonly CapturedFrame[]): Segment[] {
  const out: Segment[] = [];
  for (const frame of frames) {
    let ip: CapturedIp | null;
    try {
      ip = decodeFrameIp(frame);
    } catch (e) {
      // A debugging reader must not give up on a whole capture for one odd frame.
      if (e instanceof HipWireError) continue;
      throw e;
    }
    if (ip === null || ip.fragment) continue;
    const p = ip.payload;
    if (ip.protocol === IPPROTO_UDP) {
      if (p.length < 8) continue;
      const udpLen = u16(p, 4);
      const end = udpLen >= 8 ? Math.min(udpLen, p.length) : p.length;
      out.push({
        frameIndex: frame.index,
        ip,
        carrier: 'udp',
        srcPort: u16(p, 0),
        dstPort: u16(p, 2),
        payload: p.subarray(8, end),
      });
    } else if (ip.protocol === IPPROTO_TCP) {
      if (p.length < 20) continue;
      const dataOff = (p[12]! >> 4) * 4;
      if (dataOff < 20 || dataOff > p.length) continue;
      out.push({
        frameIndex: frame.index,
        ip,
        carrier: 'tcp',
        srcPort: u16(p, 0),
        dstPort: u16(p, 2),
        payload: p.subarray(dataOff),
      });
    } else if (ip.protocol === IPPROTO_HIP || ip.protocol === IPPROTO_ESP) {
      out.push({ frameIndex: frame.index, ip, carrier: 'ip', payload: p });
    }
  }
  return out;
}

function flowKey(s: Segment): string {
  const a = `${formatIpAddress(s.ip.src)}|${s.srcPort ?? ''}`;
  const b = `${formatIpAddress(s.ip.dst)}|${s.dstPort ?? ''}`;
  return `${s.carrier}/${a < b ? `${a}/${b}` : `${b}/${a}`}`;
}

function location(s: Segment): CapturedLocation {
  const loc: CapturedLocation = {
    frameIndex: s.frameIndex,
    carrier: s.carrier,
    src: formatIpAddress(s.ip.src),
    dst: formatIpAddress(s.ip.dst),
    srcAddress: s.ip.src,
    dstAddress: s.ip.dst,
  };
  if (s.srcPort !== undefined) loc.srcPort = s.srcPort;
  if (s.dstPort !== undefined) loc.dstPort = s.dstPort;
  return loc;
}

/**
 * Split a length-prefixed TCP segment into its records. RFC 8229 counts the 2-byte length field
 * in the length; a prefix that counts only the record is accepted too, decided per flow by the
 * first HIP record seen. Stops at a record that runs past the segment (no stream reassembly).
 */
function prefixedRecords(p: Uint8Array, framing: TcpFraming): Uint8Array[] {
  const records: Uint8Array[] = [];
  const inclusive = framing === 'prefix-inclusive';
  let off = 0;
  while (off + 2 <= p.length) {
    const len = u16(p, off);
    const body = inclusive ? len - 2 : len;
    if (body <= 0 || off + 2 + body > p.length) break;
    records.push(p.subarray(off + 2, off + 2 + body));
    off += 2 + body;
  }
  return records;
}

/** Work out how a TCP segment frames HIP, from its first bytes alone. */
function detectTcpFraming(p: Uint8Array): TcpFraming | undefined {
  if (markerAndHip(p, 0, p.length)) return 'bare';
  if (p.length < 2) return undefined;
  const len = u16(p, 0);
  if (markerAndHip(p, 2, len - 2)) return 'prefix-inclusive';
  if (markerAndHip(p, 2, len)) return 'prefix-exclusive';
  return undefined;
}

interface Scan {
  hip: CapturedHip[];
  segments: Segment[];
  hipFlows: Map<string, TcpFraming | 'udp'>;
  /** SPIs announced in ESP_INFO parameters of the HIP packets, per flow. */
  spis: Map<string, Set<number>>;
}

const PARAM_ESP_INFO = 65;

/** Add the old and new SPIs of every ESP_INFO parameter of a HIP packet to `into`. */
function collectSpis(hip: Uint8Array, into: Set<number>): void {
  const end = Math.min(hip.length, (hip[1]! + 1) * 8);
  let off = 40;
  while (off + 4 <= end) {
    const type = u16(hip, off);
    const len = u16(hip, off + 2);
    if (type === PARAM_ESP_INFO && len >= 12 && off + 16 <= end) {
      for (const at of [off + 8, off + 12]) {
        const spi = ((hip[at]! << 24) | (hip[at + 1]! << 16) | (hip[at + 2]! << 8) | hip[at + 3]!) >>> 0;
        if (spi !== 0) into.add(spi);
      }
    }
    off += Math.ceil((len + 4) / 8) * 8;
  }
}

function scan(frames: readonly CapturedFrame[]): Scan {
  const segments = decodeSegments(frames);
  const hip: CapturedHip[] = [];
  const hipFlows = new Map<string, TcpFraming | 'udp'>();
  const spis = new Map<string, Set<number>>();
  const found = (s: Segment, packet: Uint8Array): void => {
    hip.push({ ...location(s), hip: packet });
    if (s.carrier === 'ip') return;
    const key = flowKey(s);
    let set = spis.get(key);
    if (set === undefined) spis.set(key, (set = new Set()));
    collectSpis(packet, set);
  };
  for (const s of segments) {
    const p = s.payload;
    if (s.carrier === 'ip') {
      if (s.ip.protocol === IPPROTO_HIP) found(s, p);
    } else if (s.carrier === 'udp') {
      if (markerAndHip(p, 0, p.length)) {
        found(s, p.subarray(4));
        hipFlows.set(flowKey(s), 'udp');
      }
    } else {
      const key = flowKey(s);
      const known = hipFlows.get(key);
      const framing = known === undefined || known === 'udp' ? detectTcpFraming(p) : known;
      if (framing === undefined) continue;
      if (framing === 'bare') {
        if (!markerAndHip(p, 0, p.length)) continue;
        found(s, p.subarray(4));
      } else {
        let any = false;
        for (const r of prefixedRecords(p, framing)) {
          if (!markerAndHip(r, 0, r.length)) continue;
          found(s, r.subarray(4));
          any = true;
        }
        if (!any) continue;
      }
      if (known === undefined) hipFlows.set(key, framing);
    }
  }
  return { hip, segments, hipFlows, spis };
}

/**
 * Find every HIP control packet in a list of captured frames.
 *
 * Recognised carriers: IP protocol 139; a UDP payload made of the 4-byte zero marker and one
 * HIP packet (next header 59, header length matching the datagram); a TCP segment holding the
 * marker and one HIP packet (libhipl); and TCP segments of 16-bit length-prefixed records, each
 * marker + HIP packet or ESP (several records may share a segment). TCP streams are not
 * reassembled, so a record split across segments is missed.
 *
 * Frames that cannot be decoded (unsupported link type, truncated headers, IP fragments) are
 * skipped rather than thrown: use {@link decodeFrameIp} to see why a frame was left out.
 *
 * @example
 * ```ts
 * const hip = extractHipPackets(readCapture(fs.readFileSync('bex.pcap')));
 * console.log(hip.map((h) => h.hip[2]! & 0x7f)); // packet types, e.g. [1, 2, 3, 4]
 * ```
 */
export function extractHipPackets(frames: readonly CapturedFrame[]): CapturedHip[] {
  return scan(frames).hip;
}

/**
 * Find every ESP packet in a list of captured frames: IP protocol 50; UDP datagrams on a flow
 * that also carried HIP somewhere in the capture; length-prefixed TCP records on such a TCP
 * flow. On UDP and TCP the first 4 bytes must be an SPI that an ESP_INFO parameter of a HIP
 * packet on the same flow announced: libhipl sends its application data in clear on the HIP
 * flow, and a non-zero first word alone would take that for ESP. Records shorter than 8 bytes
 * (e.g. the 1-byte 0xFF NAT keepalive) are never ESP. Bare (libhipl-style) TCP flows carry
 * plaintext, never ESP.
 *
 * @example
 * ```ts
 * const esp = extractEspPackets(readCapture(bytes));
 * const spis = esp.map((e) => new DataView(e.esp.buffer, e.esp.byteOffset).getUint32(0));
 * ```
 */
export function extractEspPackets(frames: readonly CapturedFrame[]): CapturedEsp[] {
  const { segments, hipFlows, spis } = scan(frames);
  const esp: CapturedEsp[] = [];
  for (const s of segments) {
    if (s.carrier === 'ip') {
      if (s.ip.protocol === IPPROTO_ESP) esp.push({ ...location(s), esp: s.payload });
      continue;
    }
    const key = flowKey(s);
    const framing = hipFlows.get(key);
    if (framing === undefined) continue;
    const announced = spis.get(key);
    const isSpi = (b: Uint8Array): boolean =>
      b.length >= 8 &&
      announced !== undefined &&
      announced.has(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    if (framing === 'udp') {
      if (isSpi(s.payload)) esp.push({ ...location(s), esp: s.payload });
    } else if (framing !== 'bare') {
      for (const r of prefixedRecords(s.payload, framing)) {
        if (isSpi(r)) esp.push({ ...location(s), esp: r });
      }
    }
  }
  return esp;
}
