/**
 * The host's data plane: what happens to every packet once an association is established.
 * Outbound it seals inner datagrams, stream segments and ICMPv6 into ESP (or hands a libhipl
 * peer's clear text to the carrier) and sends them where the engine says the peer is; inbound it
 * finds the session by SPI, opens the ESP packet and gives the inner packet to its port, the
 * stream multiplexer or the ICMPv6 responder. It runs per packet, so it allocates as little as
 * it can.
 *
 * The control plane (BEX, UPDATE, CLOSE, timers) stays in the host; this module only reads the
 * engine's answers about where data goes and tells it what was sent and heard.
 * @module
 */
import { byteLength } from '../bytes.js';
import type { HipEngine } from '../core/engine.js';
import { HipEspError } from '../errors.js';
import { espSpi } from '../esp/sa.js';
import type { UdpCarrier } from '../transport/index.js';
import type { Diagnostics } from './diagnostics.js';
import type { DatagramInfo } from './host-types.js';
import { NEXT_HEADER_NONE } from '../wire/constants.js';
import { decodeInnerDatagram, encodeInnerDatagram, innerDatagramHeader, INNER_UDP, type InnerDatagram } from './inner-datagram.js';
import { echoRequest, innerProtocolDrop, INNER_ICMPV6, readIcmpv6 } from './inner-icmpv6.js';
import type { HostLocator } from './locator.js';
import { UnheardDatagrams } from './peer-loss.js';
import { PingTable } from './ping.js';
import { PortTable } from './port-table.js';
import type { Session } from './session.js';
import type { StreamMux } from './stream-mux.js';
import { INNER_TCP } from './stream-segment.js';

/** What the data plane needs from its host. */
export interface DataPlaneHost {
  readonly engine: HipEngine<HostLocator>;
  readonly diagnostics: Diagnostics;
  /** The UDP carrier, while the host has one. */
  udp(): UdpCarrier | undefined;
  now(): number;
  /** Drain the engine (it may have packets or events after being told of traffic). */
  pump(): void;
  /** An outbound SA nears the end of its sequence space: the host announces the rekey it starts. */
  rekeyNeeded(s: Session): void;
  /** Count a host-level drop (no session to count it on). */
  count(reason: string): void;
}

/** Sessions by the SPIs they receive on, datagram ports, pings; the per-packet paths between them. */
export class DataPlane {
  readonly #sessionsBySpi = new Map<number, Session>();
  readonly #clearTextByLocator = new Map<string, Session>();
  /** Datagrams sent and not yet answered by any sign of life (see peer-loss.ts). */
  readonly unheard = new UnheardDatagrams();
  /** Our own pings waiting for their replies. */
  readonly pings = new PingTable();
  readonly #ports = new PortTable<(data: Uint8Array, info: DatagramInfo) => void>('datagram port');

  constructor(
    private readonly host: DataPlaneHost,
    private readonly streams: StreamMux
  ) {}

  // ---- sessions -----------------------------------------------------------------------

  /** A new association carries data: index it by its inbound SPI (or, clear text, by locator). */
  add(s: Session): void {
    if (s.clearText) this.#clearTextByLocator.set(s.locator.key, s);
    else this.#sessionsBySpi.set(s.sa.localSpi, s);
  }

  /** An association ended: none of its SPIs leads to it any more. */
  remove(s: Session): void {
    this.#sessionsBySpi.delete(s.sa.localSpi);
    for (const spi of s.inboundSpis()) this.#sessionsBySpi.delete(spi);
    this.#clearTextByLocator.delete(s.locator.key);
  }

  /** A rekey made a new inbound SPI for `s` (ready before the peer switches; the old one stays). */
  addSpi(s: Session, spi: number): void {
    this.#sessionsBySpi.set(spi, s);
  }

  /** The SPI the peer no longer uses. */
  removeSpi(spi: number): void {
    this.#sessionsBySpi.delete(spi);
  }

  // ---- datagram ports -----------------------------------------------------------------

  /** Deliver datagrams to `port` to `handler`; port 0 picks one. Returns the port. */
  bind(port: number, handler: (data: Uint8Array, info: DatagramInfo) => void): number {
    return this.#ports.bind(port, handler);
  }

  /** Stop delivering datagrams for `port`. */
  unbind(port: number): void {
    this.#ports.unbind(port);
  }

  // ---- outbound -----------------------------------------------------------------------

  /** Send a datagram on an established association. */
  sendDatagram(s: Session, d: InnerDatagram): void {
    // libhipl: the carrier ports are the application's ports; data goes as is.
    if (s.clearText) return this.sendClear(s, d.data);
    // Header and data are sealed as pieces (sealParts gathers them itself). A checksum, computed
    // only when captures can show the inner packet (the ICV authenticates the bytes), needs the
    // whole datagram.
    if (this.host.diagnostics.innerVisible) this.sendEsp(s, INNER_UDP, encodeInnerDatagram(d, s.localHit, s.peerHit, { checksum: true }));
    else this.sendEsp(s, INNER_UDP, [innerDatagramHeader(d), d.data]);
    const { engine } = this.host;
    if (engine.config.peerLossMs > 0) this.unheard.record(s.peerHitText, d, this.host.now(), engine.lastHeard(s.peerHit));
  }

  /** Send an ICMPv6 echo request to `s`'s HIT; the reply resolves {@link PingTable.start}'s promise. */
  ping(s: Session, timeoutMs: number, data: Uint8Array): Promise<number> {
    const { seq, reply } = this.pings.start(s.peerHitText, this.host.now(), timeoutMs);
    try {
      this.sendEsp(s, INNER_ICMPV6, echoRequest(this.pings.id, seq, data, s.localHit, s.peerHit));
    } catch (e) {
      this.pings.cancel(s.peerHitText, seq);
      throw e;
    }
    return reply;
  }

  /**
   * Seal and send one inner packet to an established peer. A payload may be given as pieces
   * (segment header, data); the packet is written as pieces (with AES-GCM: header, ciphertext,
   * ICV), never joined in a copy.
   */
  sendEsp(s: Session, nextHeader: number, payload: Uint8Array | readonly Uint8Array[]): void {
    let packet: Buffer[];
    try {
      packet = s.outbound!.sealParts(Array.isArray(payload) ? payload : [payload as Uint8Array], nextHeader);
    } catch (e) {
      // The SA is used up (a rekey should have replaced it long before; a '32bit' SA stops at
      // 2^32 - 1): the packet is lost, never sent with a wrapped sequence number, and no caller
      // up a stream timer meets an exception.
      if (e instanceof HipEspError && e.code === 'ERR_ESP_SEQ_EXHAUSTED') return s.drop('seq-exhausted');
      throw e;
    }
    const { engine } = this.host;
    const now = this.host.now();
    if (s.outbound!.needsRekey && !s.rekeyRequested) {
      // New keys long before the 64-bit sequence space runs out (UPDATE with ESP_INFO).
      s.rekeyRequested = true;
      this.host.rekeyNeeded(s);
    }
    // The engine says where data goes: the verified locator, or an announced one on credit.
    this.send(engine.dataLocator(s.peerHit, byteLength(packet), now) ?? s.locator, packet);
    s.stats.packetsOut++;
    s.stats.bytesOut += byteLength(payload);
    engine.sent(s.peerHit, now);
  }

  /** Send clear-text application bytes to a libhipl peer. */
  sendClear(s: Session, data: Uint8Array): void {
    this.send(s.locator, data);
    s.stats.packetsOut++;
    s.stats.bytesOut += data.length;
  }

  private send(loc: HostLocator, bytes: Uint8Array | readonly Uint8Array[]): void {
    const { diagnostics } = this.host;
    // The capture shows the wire as it was: a packet is recorded once the system took it. (No
    // closure without a capture: this runs for every packet.)
    const sent = diagnostics.capturing ? () => diagnostics.record('out', loc, bytes, false) : undefined;
    if (loc.carrier === 'udp') this.host.udp()?.sendPayload(bytes, loc.peer, sent);
    else if (Array.isArray(bytes)) loc.conn?.sendPayloadParts(bytes, sent);
    else loc.conn?.sendPayload(bytes as Uint8Array, sent);
  }

  // ---- inbound ------------------------------------------------------------------------

  /** A data packet from a carrier: ESP (or a libhipl peer's clear text). */
  receive(bytes: Uint8Array, from: HostLocator): void {
    const { engine } = this.host;
    this.host.diagnostics.record('in', from, bytes, false);
    const clear = this.#clearTextByLocator.get(from.key);
    if (clear) {
      clear.stats.packetsIn++;
      clear.stats.bytesIn += bytes.length;
      engine.touch(clear.peerHit, this.host.now());
      if (from.carrier === 'tcp') this.streams.clearTextData(clear, bytes);
      else this.deliver(clear, { srcPort: from.peer.port, dstPort: this.host.udp()?.local.port ?? 0, data: bytes });
      return;
    }
    if (bytes.length < 8) return this.host.count('short-payload');
    const spi = espSpi(bytes);
    const s = this.#sessionsBySpi.get(spi);
    const sa = s?.inboundFor(spi);
    if (!s || !sa) return this.relay(bytes, from);
    let opened;
    try {
      opened = sa.open(bytes);
    } catch (e) {
      s.drop(e instanceof HipEspError ? e.code.replace('ERR_ESP_', '').toLowerCase() : 'malformed');
      return;
    }
    if (sa === s.inbound && s.previousInbound) {
      // The new SA carries traffic: the peer switched, the old one can go.
      this.#sessionsBySpi.delete(s.previousInbound.spi);
      s.previousInbound = undefined;
    }
    // Proof of life and credit; from an unknown address it starts a return-routability check.
    engine.received(s.peerHit, from, bytes.length, this.host.now());
    if (from.key !== s.locator.key) {
      s.stats.otherSource++;
      this.host.pump();
    }
    s.stats.packetsIn++;
    s.stats.bytesIn += opened.payload.length;
    const next = opened.nextHeader;
    if (next === INNER_UDP) {
      let d;
      try {
        d = decodeInnerDatagram(opened.payload, s.peerHit, s.localHit, { checksum: false });
      } catch {
        return s.drop('inner-udp-malformed');
      }
      this.deliver(s, d);
    } else if (next === INNER_TCP) {
      this.streams.segment(s, opened.payload);
    } else if (next === INNER_ICMPV6) {
      this.icmpv6(s, opened.payload);
    } else if (next !== NEXT_HEADER_NONE) {
      // Anything but "no next header" (a dummy packet, RFC 4303 §2.6) is a protocol we do not carry.
      s.drop(innerProtocolDrop(next));
    }
  }

  /** ESP with an SPI we do not own: a relay server forwards it for a client (RFC 9028), else it is dropped. */
  private relay(bytes: Uint8Array, from: HostLocator): void {
    const udp = this.host.udp();
    const to = from.carrier === 'udp' ? this.host.engine.relayEsp(bytes, from, this.host.now()) : undefined;
    if (to?.carrier === 'udp' && udp) udp.sendPayload(bytes, to.peer);
    else this.host.count('unknown-spi');
  }

  /** An ICMPv6 message between the HITs: answer an echo request (hipd's heartbeat), match a reply. */
  private icmpv6(s: Session, bytes: Uint8Array): void {
    const m = readIcmpv6(bytes, s.peerHit, s.localHit);
    if (m.kind === 'echo-request') {
      s.stats.echoesAnswered++;
      this.sendEsp(s, INNER_ICMPV6, m.reply);
    } else if (m.kind === 'echo-reply') {
      if (!this.pings.answer(s.peerHitText, m.id, m.seq, this.host.now())) s.drop('icmpv6-unexpected-reply');
    } else s.drop(m.reason);
  }

  private deliver(s: Session, d: InnerDatagram): void {
    const handler = this.#ports.get(d.dstPort);
    if (!handler) return s.drop('no-port');
    handler(d.data, { hit: s.peerHitText, port: d.srcPort, localPort: d.dstPort, address: s.locator.peer.address, family: s.locator.peer.family });
  }
}
