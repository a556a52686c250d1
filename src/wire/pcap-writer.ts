/**
 * Writer of classic pcap files with synthetic IPv4/IPv6, UDP and TCP headers, so that a host
 * can record what it sends and receives on its sockets and the result opens cleanly in
 * Wireshark (correct lengths and checksums, a consistent TCP sequence space).
 * @module
 */

import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { HipArgumentError, HipWireError } from '../errors.js';

/** An IPv4 or IPv6 address in text form, e.g. `'127.0.0.1'` or `'::1'`. */
export type Address = string;

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** Largest number of bytes stored per packet; longer packets are cut. Default 262144. */
  snaplen?: number;
  /** Clock in nanoseconds since the Unix epoch. Default: wall clock with hrtime precision. */
  now?: () => bigint;
  /**
   * Timestamp resolution of the file. Default `'us'`, which every pcap reader understands;
   * `'ns'` uses the nanosecond magic number.
   */
  resolution?: 'us' | 'ns';
}

const DEFAULT_SNAPLEN = 262144;
const LINKTYPE_RAW = 101;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

interface ParsedAddress {
  /** Hex of the address bytes: the same for every text form of one address. */
  key: string;
  bytes: Uint8Array;
}

/** A host records the same few addresses over and over: parse each text once. */
const addressCache = new Map<string, ParsedAddress>();
const ADDRESS_CACHE_MAX = 1024;

function parseAddress(a: Address, role: string): ParsedAddress {
  const hit = typeof a === 'string' ? addressCache.get(a) : undefined;
  if (hit !== undefined) return hit;
  const family = typeof a === 'string' ? isIP(a) : 0;
  if (family === 4 || family === 6) {
    const bytes = family === 4 ? Uint8Array.from(a.split('.').map((p) => Number(p))) : parseIpv6(a);
    const parsed = { key: Buffer.from(bytes).toString('hex'), bytes };
    if (addressCache.size >= ADDRESS_CACHE_MAX) addressCache.clear();
    addressCache.set(a, parsed);
    return parsed;
  }
  throw new HipArgumentError('ERR_PCAP_BAD_ADDRESS', `${role} address is not an IPv4 or IPv6 address`, {
    address: String(a),
  });
}

/** Parse IPv6 text that `net.isIP` already accepted (so only well-formed input arrives) into 16 bytes. */
export function parseIpv6(text: string): Uint8Array {
  let s = text.split('%')[0] ?? '';
  // A trailing dotted quad (e.g. ::ffff:192.0.2.1) is the last two words in another notation.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const n = quad.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, quad.index) + `${((n[0] << 8) | n[1]).toString(16)}:${((n[2] << 8) | n[3]).toString(16)}`;
  }
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const halves = s.split('::');
  const head = words(halves[0] ?? '');
  const tail = halves.length > 1 ? words(halves[1] ?? '') : [];
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = all[i] ?? 0;
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

function checkPort(p: number, role: string): void {
  if (!Number.isInteger(p) || p < 0 || p > 0xffff) {
    throw new HipArgumentError('ERR_PCAP_BAD_PORT', `${role} port must be an integer 0..65535`, { port: p });
  }
}

/** Sum of big-endian 16-bit words of `b[start..end)`, not folded. */
function sum16(b: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return x;
}

function defaultClock(): () => bigint {
  const origin = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => origin + process.hrtime.bigint();
}

/**
 * Records packets into a classic pcap stream with link type RAW (101): each record is an
 * IPv4 or IPv6 datagram built around the payload that went on the socket. The payload is stored
 * exactly as given (the caller adds the zero marker or length prefix), so the file shows what
 * was on the wire.
 *
 * @example
 * ```ts
 * const pcap = PcapWriter.toFile('hip.pcap');
 * pcap.udp('192.0.2.1', 10500, '192.0.2.2', 10500, datagram);
 * pcap.close();
 * // tshark -r hip.pcap
 * ```
 */
export class PcapWriter {
  private readonly sink: (chunk: Uint8Array) => void;
  private readonly snaplen: number;
  private readonly now: () => bigint;
  private readonly nano: boolean;
  private onClose: (() => void) | undefined;
  private closed = false;
  private ipId = 0;
  /** Next sequence number per direction, key `src|sport|dst|dport`. */
  private readonly tcpNext = new Map<string, number>();

  /**
   * Start a capture: the 24-byte global header goes to `sink` at once, then one chunk per
   * packet (record header and packet in one buffer).
   *
   * @param sink receives the file bytes in order; it must not keep the chunk for later reuse
   *   by others (each chunk is a fresh buffer, so keeping it is safe).
   */
  constructor(sink: (chunk: Uint8Array) => void, opts: PcapWriterOptions = {}) {
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
      throw new HipArgumentError('ERR_PCAP_BAD_SNAPLEN', 'snaplen must be a positive integer', { snaplen });
    }
    this.sink = sink;
    this.snaplen = snaplen;
    this.now = opts.now ?? defaultClock();
    this.nano = opts.resolution === 'ns';
    const h = Buffer.allocUnsafe(24);
    h.writeUInt32LE(this.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(LINKTYPE_RAW, 20);
    sink(h);
  }

  /**
   * A writer to a file created (or truncated) at `path` with mode 0600, since the capture may
   * hold application data. Writes are synchronous so nothing is lost on a crash;
   * {@link PcapWriter.close} closes the file.
   *
   * @throws the `node:fs` error (with its `code`, e.g. `ENOENT`) if the file cannot be opened.
   */
  static toFile(path: string, opts?: PcapWriterOptions): PcapWriter {
    const fd = openSync(path, 'w', 0o600);
    try {
      // The mode of openSync applies only to a new file; an existing one is tightened too.
      fchmodSync(fd, 0o600);
      const w = new PcapWriter((chunk) => {
        writeSync(fd, chunk);
      }, opts);
      w.onClose = () => closeSync(fd);
      return w;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Record one UDP datagram (IP and UDP headers are synthesised with valid checksums).
   *
   * @throws `HipArgumentError` `ERR_PCAP_BAD_ADDRESS` (not an IP address, or mixed IPv4
   *   and IPv6), `ERR_PCAP_BAD_PORT`, `ERR_PCAP_TOO_LARGE`; `HipWireError`
   *   `ERR_PCAP_CLOSED` after {@link PcapWriter.close}.
   */
  udp(src: Address, srcPort: number, dst: Address, dstPort: number, payload: Uint8Array): void {
    checkPort(srcPort, 'source');
    checkPort(dstPort, 'destination');
    const [s, d] = this.pair(src, dst);
    const udpLen = 8 + payload.length;
    const { buf, l4 } = this.record(s, d, IPPROTO_UDP, udpLen);
    buf.writeUInt16BE(srcPort, l4);
    buf.writeUInt16BE(dstPort, l4 + 2);
    buf.writeUInt16BE(udpLen, l4 + 4);
    buf.writeUInt16BE(0, l4 + 6);
    buf.set(payload, l4 + 8);
    const c = this.l4Checksum(buf, l4, s, d, IPPROTO_UDP, udpLen);
    buf.writeUInt16BE(c === 0 ? 0xffff : c, l4 + 6); // 0 would mean "no checksum"
    this.emit(buf);
  }

  /**
   * Record one TCP segment carrying `payload` (flags PSH|ACK). Sequence and acknowledgement
   * numbers follow the bytes recorded so far in each direction of the flow, so Wireshark can
   * follow the stream. Call {@link PcapWriter.tcpHandshake} first to show the connection setup.
   *
   * @throws as {@link PcapWriter.udp}.
   */
  tcp(src: Address, srcPort: number, dst: Address, dstPort: number, payload: Uint8Array): void {
    this.segment(src, srcPort, dst, dstPort, TCP_PSH | TCP_ACK, payload);
  }

  /**
   * Record a TCP three-way handshake from `client` to `server` (SYN, SYN-ACK, ACK) and start
   * the flow's sequence numbers at fixed initial values.
   *
   * @throws as {@link PcapWriter.udp}.
   */
  tcpHandshake(client: Address, clientPort: number, server: Address, serverPort: number): void {
    const [c, s] = this.pair(client, server);
    checkPort(clientPort, 'client');
    checkPort(serverPort, 'server');
    const fwd = flowId(c, clientPort, s, serverPort);
    const rev = flowId(s, serverPort, c, clientPort);
    this.tcpNext.set(fwd, initialSeq(fwd));
    this.tcpNext.set(rev, initialSeq(rev));
    this.segment(client, clientPort, server, serverPort, TCP_SYN, new Uint8Array(0));
    this.segment(server, serverPort, client, clientPort, TCP_SYN | TCP_ACK, new Uint8Array(0));
    this.segment(client, clientPort, server, serverPort, TCP_ACK, new Uint8Array(0));
  }

  /**
   * Record the close of one direction of a TCP flow: a FIN|ACK from `src` and the peer's ACK.
   * Call it for both directions to show a full close.
   *
   * @throws as {@link PcapWriter.udp}.
   */
  tcpFin(src: Address, srcPort: number, dst: Address, dstPort: number): void {
    this.segment(src, srcPort, dst, dstPort, TCP_FIN | TCP_ACK, new Uint8Array(0));
    this.segment(dst, dstPort, src, srcPort, TCP_ACK, new Uint8Array(0));
  }

  /**
   * Record a bare IP datagram, e.g. protocol 139 (HIP) or 50 (ESP). `payload` is everything
   * after the IP header.
   *
   * @throws as {@link PcapWriter.udp}; `ERR_PCAP_BAD_PROTOCOL` when `protocol` is not 0..255.
   */
  ip(protocol: number, src: Address, dst: Address, payload: Uint8Array): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
      throw new HipArgumentError('ERR_PCAP_BAD_PROTOCOL', 'IP protocol must be an integer 0..255', { protocol });
    }
    const [s, d] = this.pair(src, dst);
    const { buf, l4 } = this.record(s, d, protocol, payload.length);
    buf.set(payload, l4);
    this.emit(buf);
  }

  /** Stop recording; closes the file of a {@link PcapWriter.toFile} writer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }

  private segment(
    src: Address,
    srcPort: number,
    dst: Address,
    dstPort: number,
    flags: number,
    payload: Uint8Array,
  ): void {
    checkPort(srcPort, 'source');
    checkPort(dstPort, 'destination');
    const [s, d] = this.pair(src, dst);
    const fwd = flowId(s, srcPort, d, dstPort);
    const rev = flowId(d, dstPort, s, srcPort);
    // A flow first seen mid-stream (no handshake recorded) starts at the fixed initial values.
    if (!this.tcpNext.has(rev)) this.tcpNext.set(rev, initialSeq(rev));
    const seq = this.tcpNext.get(fwd) ?? initialSeq(fwd);
    const ack = (flags & TCP_ACK) !== 0 ? (this.tcpNext.get(rev) ?? 0) : 0;
    const tcpLen = 20 + payload.length;
    const { buf, l4 } = this.record(s, d, IPPROTO_TCP, tcpLen);
    buf.writeUInt16BE(srcPort, l4);
    buf.writeUInt16BE(dstPort, l4 + 2);
    buf.writeUInt32BE(seq, l4 + 4);
    buf.writeUInt32BE(ack, l4 + 8);
    buf[l4 + 12] = 5 << 4;
    buf[l4 + 13] = flags;
    buf.writeUInt16BE(0xffff, l4 + 14); // window
    buf.writeUInt32BE(0, l4 + 16); // checksum, urgent pointer
    buf.set(payload, l4 + 20);
    buf.writeUInt16BE(this.l4Checksum(buf, l4, s, d, IPPROTO_TCP, tcpLen), l4 + 16);
    const consumed = payload.length + ((flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0);
    this.tcpNext.set(fwd, (seq + consumed) >>> 0);
    this.emit(buf);
  }

  private pair(src: Address, dst: Address): [ParsedAddress, ParsedAddress] {
    if (this.closed) throw new HipWireError('ERR_PCAP_CLOSED', 'the pcap writer is closed');
    const s = parseAddress(src, 'source');
    const d = parseAddress(dst, 'destination');
    if (s.bytes.length !== d.bytes.length) {
      throw new HipArgumentError('ERR_PCAP_BAD_ADDRESS', 'source and destination mix IPv4 and IPv6', {
        src,
        dst,
      });
    }
    return [s, d];
  }

  /**
   * Allocate one buffer for record header + IP header + `l4Len` bytes and fill the record and
   * IP headers. The buffer holds the whole packet even when the record is cut at the snap
   * length, because checksums cover bytes that are not stored.
   */
  private record(s: ParsedAddress, d: ParsedAddress, protocol: number, l4Len: number): { buf: Buffer; l4: number } {
    const v4 = s.bytes.length === 4;
    const ipHdr = v4 ? 20 : 40;
    const ipLen = ipHdr + l4Len;
    if ((v4 && ipLen > 0xffff) || (!v4 && l4Len > 0xffff)) {
      throw new HipArgumentError('ERR_PCAP_TOO_LARGE', 'payload does not fit in one IP datagram', {
        length: l4Len,
      });
    }
    const buf = Buffer.allocUnsafe(16 + ipLen);
    const t = this.now();
    const sec = t / 1_000_000_000n;
    const sub = this.nano ? t % 1_000_000_000n : (t % 1_000_000_000n) / 1000n;
    buf.writeUInt32LE(Number(sec & 0xffffffffn), 0);
    buf.writeUInt32LE(Number(sub), 4);
    buf.writeUInt32LE(Math.min(ipLen, this.snaplen), 8);
    buf.writeUInt32LE(ipLen, 12);
    const ip = 16;
    if (v4) {
      buf[ip] = 0x45;
      buf[ip + 1] = 0;
      buf.writeUInt16BE(ipLen, ip + 2);
      buf.writeUInt16BE(this.ipId, ip + 4);
      this.ipId = (this.ipId + 1) & 0xffff;
      buf.writeUInt16BE(0x4000, ip + 6); // DF: these datagrams were never fragmented
      buf[ip + 8] = 64;
      buf[ip + 9] = protocol;
      buf.writeUInt16BE(0, ip + 10);
      buf.set(s.bytes, ip + 12);
      buf.set(d.bytes, ip + 16);
      buf.writeUInt16BE(~fold(sum16(buf, ip, ip + 20, 0)) & 0xffff, ip + 10);
    } else {
      buf.writeUInt32BE(0x60000000, ip);
      buf.writeUInt16BE(l4Len, ip + 4);
      buf[ip + 6] = protocol;
      buf[ip + 7] = 64;
      buf.set(s.bytes, ip + 8);
      buf.set(d.bytes, ip + 24);
    }
    return { buf, l4: ip + ipHdr };
  }

  private l4Checksum(
    buf: Buffer,
    l4: number,
    s: ParsedAddress,
    d: ParsedAddress,
    protocol: number,
    len: number,
  ): number {
    // The pseudo-header sums the same way for IPv4 and IPv6 (length and protocol as words).
    let acc = sum16(s.bytes, 0, s.bytes.length, 0);
    acc = sum16(d.bytes, 0, d.bytes.length, acc);
    acc += protocol + (len & 0xffff) + Math.floor(len / 0x10000);
    acc = sum16(buf, l4, l4 + len, acc);
    return ~fold(acc) & 0xffff;
  }

  private emit(buf: Buffer): void {
    const stored = 16 + buf.readUInt32LE(8);
    this.sink(stored === buf.length ? buf : buf.subarray(0, stored));
  }
}

function flowId(s: ParsedAddress, sp: number, d: ParsedAddress, dp: number): string {
  return `${s.key}|${sp}|${d.key}|${dp}`;
}

/** A fixed, flow-dependent initial sequence number keeps captures reproducible. */
function initialSeq(flow: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < flow.length; i++) h = Math.imul(h ^ flow.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
