/**
 * What a host writes for people looking inside: the pcap capture of every HIP and ESP packet
 * and the Wireshark key log of every ESP SA, both naming the local address packets really use.
 * Kept apart from the host, which only says when a packet went or came and an SA began.
 * @module
 */
import type { EspSaParams } from '../core/events.js';
import { HipError } from '../errors.js';
import type { CarrierPeer } from '../transport/index.js';
import { KeyLogWriter } from './keylog.js';
import { isWildcard, LocalAddressBook } from './local-address.js';
import type { HostLocator } from './locator.js';
import { PcapTap } from './pcap-tap.js';

/** The pcap tap and key log of one host; each is off unless its file was given. */
export class Diagnostics {
  private pcap: PcapTap | undefined;
  private keylog: KeyLogWriter | undefined;
  private readonly localAddresses = new LocalAddressBook();

  /**
   * @param localOf Our end of the carrier a locator uses (the UDP socket's or the TCP
   *   connection's address), as bound: possibly a wildcard.
   * @param onError Told when a file write fails; the pcap tap then stops recording.
   */
  constructor(
    private readonly localOf: (loc: HostLocator) => CarrierPeer | undefined,
    private readonly onError: (e: HipError) => void,
  ) {}

  /**
   * Open the files asked for.
   * @throws HipArgumentError `ERR_PCAP_OPEN` / `ERR_KEYLOG_OPEN` when a file cannot be created.
   */
  open(files: { pcap?: string; keylog?: string }): void {
    if (files.pcap) {
      this.pcap = new PcapTap(files.pcap, (e) => {
        this.pcap = undefined;
        this.onError(e);
      });
    }
    if (files.keylog) this.keylog = KeyLogWriter.open(files.keylog);
  }

  /** Whether a pcap is written (the host then records what it sends; no closure per packet otherwise). */
  get capturing(): boolean {
    return this.pcap !== undefined;
  }

  /** Whether inner packets can be read by someone (a pcap or a key log is written). */
  get innerVisible(): boolean {
    return this.pcap !== undefined || this.keylog !== undefined;
  }

  /** Record a packet in the pcap file, if one is written. */
  record(dir: 'in' | 'out', loc: HostLocator, bytes: Uint8Array | readonly Uint8Array[], control: boolean): void {
    if (!this.pcap) return;
    const wire = Array.isArray(bytes) ? Buffer.concat(bytes) : (bytes as Uint8Array);
    this.pcap.record(dir, loc, { address: this.localAddressFor(loc), port: this.localOf(loc)?.port ?? 0 }, wire, control);
  }

  /** Write both SAs of an association to the key log, with the local address packets really use. */
  writeKeylog(loc: HostLocator, sa: EspSaParams): void {
    if (!this.keylog) return;
    const write = (local: string): void => {
      const log = this.keylog;
      if (!log) return;
      try {
        log.write({ srcAddress: local, dstAddress: loc.peer.address, spi: sa.peerSpi, suite: sa.suite, encKey: sa.outbound.enc, authKey: sa.outbound.auth });
        log.write({ srcAddress: loc.peer.address, dstAddress: local, spi: sa.localSpi, suite: sa.suite, encKey: sa.inbound.enc, authKey: sa.inbound.auth });
      } catch (err) {
        this.onError(err instanceof HipError ? err : new HipError('ERR_KEYLOG_WRITE', String(err)));
      }
    };
    const bound = this.localOf(loc)?.address ?? '';
    if (!isWildcard(bound)) return write(bound);
    void this.localAddresses.resolve(loc.peer.address, loc.peer.family).then((src) => write(src ?? this.localAddressFor(loc)));
  }

  /** Close both files. */
  close(): void {
    this.pcap?.close();
    this.keylog?.close();
    this.pcap = undefined;
    this.keylog = undefined;
  }

  /**
   * The local address packets to `loc` use. A wildcard-bound UDP socket does not tell, so the
   * route source is looked up once per peer address (issue 13: a keylog naming 127.0.0.1 never
   * matches a capture of the real interface); until that answer is in, loopback stands in.
   */
  private localAddressFor(loc: HostLocator): string {
    const addr = this.localOf(loc)?.address ?? '';
    if (!isWildcard(addr)) return addr;
    const known = this.localAddresses.get(loc.peer.address);
    if (known !== undefined) return known;
    void this.localAddresses.resolve(loc.peer.address, loc.peer.family);
    return loc.peer.family === 6 ? '::1' : '127.0.0.1';
  }
}
