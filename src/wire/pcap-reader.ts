/**
 * Reader for classic pcap and pcapng capture files: turns the file bytes into a flat list of
 * frames with their link type and a nanosecond timestamp. Link-layer decoding lives in
 * `ip-frames.ts`.
 * @module
 */

import { HipWireError } from '../errors.js';

/** One captured frame, as stored in the file (link-layer header included). */
export interface CapturedFrame {
  /** Position of the frame among the packets of the file, from 0. */
  index: number;
  /**
   * Capture time in nanoseconds since the Unix epoch. Simple Packet Blocks (pcapng) carry no
   * time and get 0n.
   */
  timestampNs: bigint;
  /** LINKTYPE_* value of the interface the frame was captured on (1 Ethernet, 101 raw IP ...). */
  linkType: number;
  /** The captured bytes (possibly cut at the snap length). */
  data: Uint8Array;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/**
 * Parse a capture file, classic pcap (either byte order, microsecond or nanosecond magic) or
 * pcapng (any number of sections of either byte order; Interface Description, Enhanced Packet,
 * Simple Packet and the obsolete Packet blocks; all other blocks are skipped).
 *
 * Link types are not interpreted here, so any link type is returned; {@link decodeFrameIp}
 * rejects the ones it does not know.
 *
 * @throws `HipWireError` `ERR_PCAP_BAD_MAGIC` when the file is neither format,
 *   `ERR_PCAP_TRUNCATED` when a header or record runs past the end of the bytes (for example a
 *   file still being written), `ERR_PCAP_MALFORMED` for inconsistent pcapng block lengths or
 *   a packet naming an interface that was never described.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const frames = readCapture(readFileSync('bex.pcap'));
 * console.log(frames.length, frames[0]?.linkType);
 * ```
 */
export function readCapture(bytes: Uint8Array): CapturedFrame[] {
  if (bytes.length < 4) {
    throw new HipWireError('ERR_PCAP_TRUNCATED', 'capture shorter than its magic number', {
      length: bytes.length,
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  if (be === PCAPNG_SHB) return readPcapng(bytes, dv);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return readPcap(bytes, dv, false, be === PCAP_MAGIC_NS);
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return readPcap(bytes, dv, true, le === PCAP_MAGIC_NS);
  throw new HipWireError('ERR_PCAP_BAD_MAGIC', `not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')})`, {
    magic: be,
  });
}

function readPcap(bytes: Uint8Array, dv: DataView, little: boolean, nano: boolean): CapturedFrame[] {
  if (bytes.length < 24) {
    throw new HipWireError('ERR_PCAP_TRUNCATED', 'pcap global header is 24 bytes', {
      length: bytes.length,
    });
  }
  // The upper bits of the link-type word carry FCS information, not the type.
  const linkType = dv.getUint32(20, little) & 0xffff;
  const frames: CapturedFrame[] = [];
  const fraction = nano ? 1n : 1000n;
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) {
      throw new HipWireError('ERR_PCAP_TRUNCATED', 'pcap record header cut short', {
        offset: off,
        framesRead: frames.length,
      });
    }
    const sec = dv.getUint32(off, little);
    const sub = dv.getUint32(off + 4, little);
    const incl = dv.getUint32(off + 8, little);
    if (off + 16 + incl > bytes.length) {
      throw new HipWireError('ERR_PCAP_TRUNCATED', 'pcap record data cut short', {
        offset: off,
        capturedLength: incl,
        framesRead: frames.length,
      });
    }
    frames.push({
      index: frames.length,
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(sub) * fraction,
      linkType,
      data: bytes.subarray(off + 16, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return frames;
}

interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second are 10^exp10 or 2^exp2 (exactly one is set). */
  exp10: number | undefined;
  exp2: number | undefined;
  /** if_tsoffset, seconds. */
  offsetSec: bigint;
}

function malformed(message: string, details: Record<string, unknown>): HipWireError {
  return new HipWireError('ERR_PCAP_MALFORMED', message, details);
}

function readPcapng(bytes: Uint8Array, dv: DataView): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  let little = true;
  let interfaces: PcapngInterface[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) {
      throw new HipWireError('ERR_PCAP_TRUNCATED', 'pcapng block header cut short', {
        offset: off,
        framesRead: frames.length,
      });
    }
    const type = dv.getUint32(off, little);
    if (dv.getUint32(off, false) === PCAPNG_SHB) {
      // A new section may switch byte order; its byte-order magic sits after the length.
      const bom = dv.getUint32(off + 8, false);
      if (bom === PCAPNG_BOM) little = false;
      else if (dv.getUint32(off + 8, true) === PCAPNG_BOM) little = true;
      else throw new HipWireError('ERR_PCAP_BAD_MAGIC', 'pcapng byte-order magic not found', { offset: off });
      interfaces = [];
    }
    const total = dv.getUint32(off + 4, little);
    if (total < 12 || total % 4 !== 0) {
      throw malformed(`pcapng block length ${total}`, { offset: off, blockType: type });
    }
    if (off + total > bytes.length) {
      throw new HipWireError('ERR_PCAP_TRUNCATED', 'pcapng block runs past the end of the file', {
        offset: off,
        blockLength: total,
        framesRead: frames.length,
      });
    }
    if (dv.getUint32(off + total - 4, little) !== total) {
      throw malformed('pcapng trailing block length differs from the leading one', { offset: off });
    }
    const body = off + 8;
    const bodyEnd = off + total - 4;
    const need = (n: number, what: string): void => {
      if (body + n > bodyEnd) throw malformed(`pcapng ${what} block too short`, { offset: off, blockLength: total });
    };
    const iface = (id: number): PcapngInterface => {
      const i = interfaces[id];
      if (i === undefined) throw malformed(`packet for undescribed interface ${id}`, { offset: off, interfaceId: id });
      return i;
    };
    // Enhanced and obsolete packet blocks share their layout after the interface ID:
    // timestamp high | timestamp low | captured length | original length | data.
    const timedPacket = (interfaceId: number, what: string): void => {
      const i = iface(interfaceId);
      const ts = (BigInt(dv.getUint32(body + 4, little)) << 32n) | BigInt(dv.getUint32(body + 8, little));
      const cap = dv.getUint32(body + 12, little);
      need(20 + cap, what);
      frames.push({ index: frames.length, timestampNs: toNs(ts, i), linkType: i.linkType, data: bytes.subarray(body + 20, body + 20 + cap) });
    };
    switch (type) {
      case 1: {
        // Interface Description Block
        need(8, 'interface description');
        const desc: PcapngInterface = {
          linkType: dv.getUint16(body, little),
          snaplen: dv.getUint32(body + 4, little),
          exp10: 6,
          exp2: undefined,
          offsetSec: 0n,
        };
        forEachOption(dv, body + 8, bodyEnd, little, (code, at, len) => {
          if (code === 9 && len >= 1) {
            const r = dv.getUint8(at);
            if (r & 0x80) {
              desc.exp2 = r & 0x7f;
              desc.exp10 = undefined;
            } else {
              desc.exp10 = r;
              desc.exp2 = undefined;
            }
          } else if (code === 14 && len >= 8) {
            desc.offsetSec = dv.getBigInt64(at, little);
          }
        });
        interfaces.push(desc);
        break;
      }
      case 6:
        // Enhanced Packet Block: 32-bit interface ID
        need(20, 'enhanced packet');
        timedPacket(dv.getUint32(body, little), 'enhanced packet');
        break;
      case 3: {
        // Simple Packet Block: implicitly interface 0, no timestamp, captured length derived.
        need(4, 'simple packet');
        const i = iface(0);
        const orig = dv.getUint32(body, little);
        let cap = Math.min(orig, bodyEnd - body - 4);
        if (i.snaplen > 0) cap = Math.min(cap, i.snaplen);
        frames.push({
          index: frames.length,
          timestampNs: 0n,
          linkType: i.linkType,
          data: bytes.subarray(body + 4, body + 4 + cap),
        });
        break;
      }
      case 2:
        // Obsolete Packet Block, still written by some old tools: 16-bit interface ID
        need(20, 'packet');
        timedPacket(dv.getUint16(body, little), 'packet');
        break;
      default:
        break; // section header, statistics, name resolution, custom ...: nothing to return
    }
    off += total;
  }
  return frames;
}

function forEachOption(
  dv: DataView,
  start: number,
  end: number,
  little: boolean,
  fn: (code: number, at: number, len: number) => void,
): void {
  let off = start;
  while (off + 4 <= end) {
    const code = dv.getUint16(off, little);
    const len = dv.getUint16(off + 2, little);
    if (code === 0) return; // opt_endofopt
    if (off + 4 + len > end) return; // a broken option list should not cost the packets
    fn(code, off + 4, len);
    off += 4 + Math.ceil(len / 4) * 4;
  }
}

function toNs(ts: bigint, i: PcapngInterface): bigint {
  const base = i.offsetSec * 1_000_000_000n;
  if (i.exp2 !== undefined) return base + (ts * 1_000_000_000n) / (1n << BigInt(i.exp2));
  const e = i.exp10 ?? 6;
  if (e <= 9) return base + ts * 10n ** BigInt(9 - e);
  return base + ts / 10n ** BigInt(e - 9);
}
