/**
 * Two ends of a TCP-carrier stream set up without sockets, for the bulk benchmarks that drive
 * hipl's stream machine directly (bench/bulk-cpu.ts, bench/bulk-stream.ts).
 */
import { encodeSegment, StreamConnection, type Segment } from '../src/host/stream-protocol.js';

/** The stream multiplexer's settings over a TCP carrier. */
export const TCP_CARRIER_CONFIG = { mss: 65280, sendBufferBytes: 1024 * 1024, ackEverySegments: 8, reliableCarrier: true };

/**
 * A client end `a` and a server end `b`, established by a handshake run locally. The result is
 * the same in every process that calls this, so two processes can each keep one end.
 */
export function connectedPair(): { a: StreamConnection; b: StreamConnection } {
  const a = new StreamConnection({ localPort: 1, remotePort: 2, initialSeq: 1, role: 'client', config: TCP_CARRIER_CONFIG });
  const b = new StreamConnection({ localPort: 2, remotePort: 1, initialSeq: 9, role: 'server', config: TCP_CARRIER_CONFIG });
  a.open(0);
  b.accept(a.pollSegment()!, 0);
  a.handleSegment(b.pollSegment()!, 0);
  for (let s; (s = a.pollSegment()); ) b.handleSegment(s, 0);
  while (b.pollEvent() || a.pollEvent());
  return { a, b };
}

/** A segment as the host seals it: header (no checksum) and data as two pieces. */
export function segmentPieces(seg: Segment, from: Uint8Array, to: Uint8Array): Uint8Array[] {
  return [encodeSegment({ ...seg, data: new Uint8Array(0) }, from, to, { checksum: false }), seg.data];
}
