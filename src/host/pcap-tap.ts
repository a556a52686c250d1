/**
 * The host's `pcap` option: every HIP and ESP packet, as it went over the carrier (zero marker,
 * TCP frame length and all), written to a pcap file with synthetic IP/UDP/TCP headers.
 * @module
 */
import { HipArgumentError, HipError } from '../errors.js';
import { encodeHiplHip, encodeHiplPayload, withMarker } from '../transport/index.js';
import { PcapWriter } from '../wire/pcap.js';
import type { HostLocator } from './locator.js';

/** Records one host's traffic. */
export class PcapTap {
  private readonly writer: PcapWriter;
  private failed = false;

  /**
   * @throws HipArgumentError `ERR_PCAP_OPEN` (the `node:fs` error as `cause`, its code in
   *   `details.errno`) when the file cannot be created.
   */
  constructor(
    readonly path: string,
    /** Told once if a write fails (disk full ...); recording then stops. */
    private readonly onError: (e: HipError) => void = () => undefined,
  ) {
    try {
      this.writer = PcapWriter.toFile(path);
    } catch (e) {
      throw fileError('ERR_PCAP_OPEN', `cannot create the pcap file ${path}`, path, e);
    }
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
    if (this.failed) return;
    try {
      if (loc.carrier === 'udp') this.writer.udp(src, sport, dst, dport, wire);
      else this.writer.tcp(src, sport, dst, dport, wire);
    } catch (e) {
      // Called from socket handlers: a full disk must not become an uncaught exception.
      this.failed = true;
      this.onError(fileError('ERR_PCAP_WRITE', `cannot write the pcap file ${this.path}; recording stopped`, this.path, e));
    }
  }

  /** Close the file. */
  close(): void {
    try {
      this.writer.close();
    } catch {
      // closing after a failed write may fail too; nothing left to save
    }
  }
}

function fileError(code: string, message: string, path: string, cause: unknown): HipArgumentError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  const e = new HipArgumentError(code, errno ? `${message} (${errno})` : message, { path, errno });
  e.cause = cause;
  return e;
}
