/**
 * What the host keeps per established association: the ESP SAs (or libhipl clear-text mode),
 * where the peer is, and traffic counters.
 * @module
 */
import type { EspSaParams } from '../core/events.js';
import { formatHit } from '../crypto/hit.js';
import { InboundSa, OutboundSa, type EspSequenceMode } from '../esp/sa.js';
import type { HostLocator } from './locator.js';

/** Per-association counters. */
export interface SessionStats {
  /** Authenticated packets received (ESP, or clear text from a libhipl peer). */
  packetsIn: number;
  /** Packets sent: ESP packets (datagrams and stream segments), or clear-text payloads to libhipl. */
  packetsOut: number;
  /** Bytes received inside ESP (inner UDP/TCP header included) or as clear text. */
  bytesIn: number;
  /** Bytes sent inside ESP (inner UDP/TCP header included) or as clear text. */
  bytesOut: number;
  /**
   * Authentic packets whose source was not the peer's verified locator (a NAT rebinding, or a
   * captured packet re-sent by someone else): delivered, but replies still go to the verified one.
   */
  otherSource: number;
  /** ICMPv6 echo requests from the peer answered (hipd's heartbeat, or `ping6` to our HIT). */
  echoesAnswered: number;
  /**
   * Drops by reason: ESP `auth`, `replay`, `malformed`; `no-port` (no socket bound);
   * `inner-udp-malformed`; `icmpv6-*` (bad checksum, a type we do not answer); `inner-<protocol>`
   * for an inner protocol the host does not carry (e.g. `inner-sctp`).
   */
  drops: Record<string, number>;
}

/** An established association as the data path sees it. */
export class Session {
  outbound: OutboundSa | undefined;
  inbound: InboundSa | undefined;
  /**
   * After a rekey: the replaced inbound SA, kept until the new one carries traffic (packets the
   * peer sealed before it switched are still in flight).
   */
  previousInbound: InboundSa | undefined;
  /** During a rekey: the new inbound SA, ready before the peer switches to it. */
  nextInbound: InboundSa | undefined;
  /** A `rekey` event was already emitted for this association. */
  rekeyRequested = false;
  readonly stats: SessionStats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, otherSource: 0, echoesAnswered: 0, drops: {} };
  /** Canonical text of {@link peerHit}, made once (the data path names the peer per packet). */
  readonly peerHitText: string;

  constructor(
    readonly peerHit: Uint8Array,
    readonly localHit: Uint8Array,
    readonly version: 1 | 2,
    public locator: HostLocator,
    /** The current SA pair's parameters (replaced by a rekey). */
    public sa: EspSaParams,
    /** libhipl mode: application bytes travel in clear on the carrier (HIPV1-PROFILE 12). */
    readonly clearText: boolean,
    private readonly replayWindow: number | undefined,
    private readonly rekeyThreshold?: bigint,
    /** What the ESP integrity check covers of the sequence number (`'32bit'`: hipd's form). */
    readonly espSequence: EspSequenceMode = 'esn',
  ) {
    this.peerHitText = formatHit(peerHit);
    if (!clearText) this.install(sa);
  }

  /** A rekey agreed its keys: accept packets on the new inbound SA from now on. */
  prepareInbound(sa: EspSaParams): void {
    this.nextInbound = this.inboundSa(sa);
  }

  /** A rekey finished: send with the new keys at once, keep the old inbound SA for a while. */
  rekeyed(sa: EspSaParams): void {
    const next = this.nextInbound?.spi === sa.localSpi ? this.nextInbound : undefined;
    this.previousInbound = this.inbound;
    this.nextInbound = undefined;
    this.sa = sa;
    this.install(sa);
    // Keep what the new inbound SA already received (its replay window) if it was ready early.
    if (next) this.inbound = next;
    this.rekeyRequested = false;
  }

  /**
   * The peer readdressed (either end moved). HIPL's hipd re-installs its SAs then and starts its
   * sequence numbers at 1 again on the same keys, so an SA in its form (`'32bit'`) starts its
   * replay window over, as hipd's own does: packets recorded before the move could be replayed
   * once after it, the exposure hipd has itself. An RFC 5202 SA (`'esn'`) keeps its window.
   */
  readdressed(): void {
    if (this.clearText || this.espSequence !== '32bit') return;
    this.inbound = this.inboundSa(this.sa);
  }

  /** The inbound SA for a received SPI: the current one, the one a rekey replaced, or the next. */
  inboundFor(spi: number): InboundSa | undefined {
    if (this.inbound?.spi === spi) return this.inbound;
    if (this.nextInbound?.spi === spi) return this.nextInbound;
    return this.previousInbound?.spi === spi ? this.previousInbound : undefined;
  }

  /** Every inbound SPI this session answers to (current, previous, next). */
  inboundSpis(): number[] {
    return [this.inbound, this.previousInbound, this.nextInbound].filter((x): x is InboundSa => x !== undefined).map((x) => x.spi);
  }

  private install(sa: EspSaParams): void {
    const rekeyThreshold = this.rekeyThreshold;
    this.outbound = new OutboundSa(
      { suite: sa.suite, spi: sa.peerSpi, encKey: sa.outbound.enc, authKey: sa.outbound.auth },
      rekeyThreshold === undefined ? { sequence: this.espSequence } : { rekeyThreshold, sequence: this.espSequence },
    );
    this.inbound = this.inboundSa(sa);
  }

  private inboundSa(sa: EspSaParams): InboundSa {
    const replayWindow = this.replayWindow;
    return new InboundSa(
      { suite: sa.suite, spi: sa.localSpi, encKey: sa.inbound.enc, authKey: sa.inbound.auth },
      replayWindow === undefined ? { sequence: this.espSequence } : { replayWindow, sequence: this.espSequence },
    );
  }

  /** Count a drop. */
  drop(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }
}
