/**
 * Raw UDP and TCP payloads of the libhipl reference captures, for feeding the carriers real
 * bytes. The UDP/TCP headers are cut here by hand (not by the wire layer's HIP extractor) so
 * the tests see exactly what travelled in each segment.
 */

import { CAPTURES_DIR } from './fixtures.js';
import { readFileSync } from 'node:fs';
import { decodeFrameIp } from '../../src/wire/ip-frames.js';
import { readCapture } from '../../src/wire/pcap-reader.js';

/** One UDP datagram or TCP segment payload from a capture. */
export interface CapturedSegment {
  frame: number;
  proto: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const CAPTURES = CAPTURES_DIR;

/** All non-empty UDP and TCP payloads of a capture in `test/fixtures/captures`, in capture order. */
export function captureSegments(file: string): CapturedSegment[] {
  const frames = readCapture(readFileSync(CAPTURES + file));
  const out: CapturedSegment[] = [];
  for (const f of frames) {
    const ip = decodeFrameIp(f);
    if (!ip || ip.fragment) continue;
    const p = ip.payload;
    const port = (o: number): number => (p[o]! << 8) | p[o + 1]!;
    if (ip.protocol === 17) {
      out.push({ frame: f.index, proto: 'udp', srcPort: port(0), dstPort: port(2), payload: p.subarray(8) });
    } else if (ip.protocol === 6) {
      const dataOffset = (p[12]! >> 4) * 4;
      const payload = p.subarray(dataOffset);
      if (payload.length > 0) out.push({ frame: f.index, proto: 'tcp', srcPort: port(0), dstPort: port(2), payload });
    }
  }
  return out;
}

/** The raw-IP HIP (protocol 139) and ESP (protocol 50) packets of a capture, in order. */
export function captureRawIp(file: string): { hip: Uint8Array[]; esp: Uint8Array[] } {
  const hip: Uint8Array[] = [];
  const esp: Uint8Array[] = [];
  for (const f of readCapture(readFileSync(CAPTURES + file))) {
    const ip = decodeFrameIp(f);
    if (!ip || ip.fragment) continue;
    if (ip.protocol === 139) hip.push(ip.payload);
    if (ip.protocol === 50) esp.push(ip.payload);
  }
  return { hip, esp };
}
