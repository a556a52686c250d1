/**
 * The host's `pcap` option: every HIP and ESP packet, as it went over the carrier (zero marker,
 * TCP frame length and all), written to a pcap file with synthetic IP/UDP/TCP headers.
 * @module
 */
import { encodeHiplHip, encodeHiplPayload, withMarker } from '../transport/index.js';
import { PcapWriter } from '../wire/pcap.js';
import type { HostLocator } from './locator.js';

/** Records one host's traffic. */
export class PcapTap {
  private readonly writer: PcapWriter;

  constructor(path: string) {
    this.writer = PcapWriter.toFile(path);
  }

  /**
   * Record a packet sent to (`out`) or received from (`in`) `loc`. `local` is our end of the
   * carrier; `control` says whether `bytes` is a HIP packet (framed with the marker) or a payload.
   */
  record(dir: 'in' | 'out', loc: HostLocator, local: { address: string; port: number }, bytes: Uint8Array, control: boolean): void {
    const libhiplTcp = loc.carrier === 'tcp' && loc.conn?.framing === 'libhipl';
    let wire: Uint8Array;
    if (loc.carrier === 'udp' || libhiplTcp) wire = control ? withMarker(bytes) : bytes;
    else wire = control ? encodeHiplHip(bytes) : encodeHiplPayload(bytes);
    const [src, sport, dst, dport] =
      dir === 'out' ? [local.address, local.port, loc.peer.address, loc.peer.port] : [loc.peer.address, loc.peer.port, local.address, local.port];
    if (loc.carrier === 'udp') this.writer.udp(src, sport, dst, dport, wire);
    else this.writer.tcp(src, sport, dst, dport, wire);
  }

  close(): void {
    this.writer.close();
  }
}
