// Reads the libhipl K=12 captures and their vector files (test/fixtures/captures) for the crypto tests.
// A deliberately tiny pcap reader: Ethernet + IPv4 + UDP, HIP after the 4-byte zero marker.
import { CAPTURES_DIR } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../src/bytes.js';

const CAPTURES = CAPTURES_DIR;

/** One parsed HIP TLV: its type, contents, and the whole padded TLV with its offset. */
export interface Tlv {
  type: number;
  value: Uint8Array;
  offset: number;
  whole: Uint8Array;
}

/** One HIP packet from a capture. */
export interface HipPacket {
  type: number;
  bytes: Uint8Array;
  tlvs: Tlv[];
}

/** The vectors JSON of a capture, hex decoded. */
export interface LibhiplVectors {
  HIT_I: Uint8Array;
  HIT_R: Uint8Array;
  I: Uint8Array;
  J: Uint8Array;
  Kij: Uint8Array;
  KEYMAT160: Uint8Array;
  xI3: Uint8Array;
  xR3: Uint8Array;
}

export const CAPTURE_NAMES = ['libhipl-v1-udp-k12', 'libhipl-v1-udp-k12-swapped'] as const;

export function loadVectors(name: string): LibhiplVectors {
  const raw = JSON.parse(readFileSync(`${CAPTURES}/${name}.vectors.json`, 'utf8')) as Record<string, string>;
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = hexToBytes(v);
  return out as unknown as LibhiplVectors;
}

function parseTlvs(pkt: Uint8Array): Tlv[] {
  const tlvs: Tlv[] = [];
  let off = 40;
  while (off + 4 <= pkt.length) {
    const type = (pkt[off]! << 8) | pkt[off + 1]!;
    const len = (pkt[off + 2]! << 8) | pkt[off + 3]!;
    const size = Math.ceil((4 + len) / 8) * 8;
    tlvs.push({ type, value: pkt.subarray(off + 4, off + 4 + len), offset: off, whole: pkt.subarray(off, off + size) });
    off += size;
  }
  return tlvs;
}

/** Every HIP control packet in a capture, in order. */
export function loadHipPackets(name: string): HipPacket[] {
  const file = new Uint8Array(readFileSync(`${CAPTURES}/${name}.pcap`));
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('expected a little-endian pcap');
  const packets: HipPacket[] = [];
  let off = 24;
  while (off + 16 <= file.length) {
    const incl = dv.getUint32(off + 8, true);
    const frame = file.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ip = frame.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== 17) continue;
    const payload = ip.subarray(ihl + 8);
    if (payload.length < 44 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 0 || payload[3] !== 0) continue;
    const pkt = payload.subarray(4);
    if (pkt[0] !== 59 || (pkt[1]! + 1) * 8 !== pkt.length) continue;
    packets.push({ type: pkt[2]! & 0x7f, bytes: pkt, tlvs: parseTlvs(pkt) });
  }
  return packets;
}

export function tlv(p: HipPacket, type: number): Tlv {
  const t = p.tlvs.find((x) => x.type === type);
  if (t === undefined) throw new Error(`no TLV ${type} in packet type ${p.type}`);
  return t;
}

/** The DIFFIE_HELLMAN public values of a packet by group (v1 may carry two). */
export function dhValues(p: HipPacket): Map<number, Uint8Array> {
  const v = tlv(p, 513).value;
  const out = new Map<number, Uint8Array>();
  let off = 0;
  while (off + 3 <= v.length) {
    const group = v[off]!;
    const len = (v[off + 1]! << 8) | v[off + 2]!;
    out.set(group, v.subarray(off + 3, off + 3 + len));
    off += 3 + len;
  }
  return out;
}

/**
 * The bytes an HMAC / HMAC_2 covers (HIPV1-PROFILE 9): the packet up to the MAC TLV, optionally
 * followed by an appended TLV, with the header length fixed up and the checksum zeroed.
 */
export function macInput(p: HipPacket, macType: number, append?: Uint8Array): Uint8Array {
  const cut = tlv(p, macType).offset;
  const extra = append ?? new Uint8Array(0);
  const out = new Uint8Array(cut + extra.length);
  out.set(p.bytes.subarray(0, cut));
  out.set(extra, cut);
  out[1] = out.length / 8 - 1;
  out[4] = 0;
  out[5] = 0;
  return out;
}
