/**
 * The HIP protocol engine: a deterministic, sans-IO state machine. It takes packets, timer
 * ticks and user requests (each with the current time) and produces packets to send and
 * events. It owns no sockets, clocks or randomness of its own: time comes in as arguments and
 * randomness from the injected source, so a whole BEX replays identically in tests.
 * @module
 */
import { SpiAllocator } from '../esp/spi.js';
import { hitsEqual, ZERO_HIT } from '../crypto/hit.js';
import { signatureSchemeFor } from '../crypto/host-id.js';
import { rhashOfSuite } from '../crypto/hash-info.js';
import type { HostIdentity } from '../crypto/identity.js';
import { getProvider } from '../crypto/get-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { HipArgumentError, HipError, HipProtocolError, HipWireError } from '../errors.js';
import {
  DiType,
  emitPacket,
  NotifyType,
  PacketType,
  ParamType,
  parsePacket,
  type HipParam,
  type HostIdParam,
} from '../wire/index.js';
import { Association, HipState, type HipStateValue } from './association.js';
import { continueSolving, handleR1, handleR2, sendI1 } from './bex-initiator.js';
import { armIdle, bexEvent, fail, opportunisticKey } from './lifecycle.js';
import { cachedPeerKey } from './peer-key-cache.js';
import { handleI1, handleI2 } from './bex-responder.js';
import { resolveEngineConfig, type EngineConfig, type EngineOptions } from './config.js';
import { hitKey, type CachedPeerKey, type EngineContext, type EngineStats, type LocalSide } from './context.js';
import type { DropReason, EngineEvent, EspSaParams, PeerLocator, Transmit } from './events.js';
import { Registry, type LocatorCodec, type RegistrationRequest } from './registration.js';
import { RelayService, type RelayServiceStats } from './relay.js';
import { R1Factory } from './responder.js';
import { PuzzleLoad } from './puzzle-load.js';
import { sealPacket } from './sealing.js';
import { discard, handleClose, handleCloseAck, handleNotify, startClose } from './teardown.js';
import { backoff } from './timers.js';
import { dataPath, pathInfo, type PathInfo } from './paths.js';
import { dropCandidate, nextI1, roundPending, startI1Round } from './shotgun.js';
import { dataSent, lossProbeAt } from './peer-loss.js';
import { alive, announceLocators, checkLocator, handleUpdate, onUpdateTimer, probePath, requestRegistration, requestRekey } from './update.js';

/** Injected dependencies of an engine: crypto, randomness and, for registration, locator details. */
export interface EngineDeps<L extends PeerLocator = PeerLocator> {
  /** Crypto provider. Default: node:crypto. */
  provider?: CryptoProvider;
  /** Random bytes. Default: the provider's CSPRNG. Tests pass a seeded generator. */
  random?: (n: number) => Uint8Array;
  /**
   * The transport addresses behind the driver's locators: needed by a rendezvous server (FROM,
   * REG_FROM) and by a responder answering a relayed I1. Without it those features are off.
   */
  locators?: LocatorCodec<L>;
}

/** A read-only view of one association. */
export interface AssociationInfo {
  /** Current state (RFC 7401 §4.4.2). */
  state: HipStateValue;
  /** HIP version the association speaks. */
  version: 1 | 2;
  /** Whether we started the base exchange or answered it. */
  role: 'initiator' | 'responder';
  /** Our HIT for this association. */
  localHit: Uint8Array;
  /** The peer's HIT (all zero while an opportunistic BEX waits for its R1). */
  peerHit: Uint8Array;
  /** Where the peer is currently reached. */
  locator: PeerLocator;
  /** ESP parameters once keys exist (SPIs final once established). */
  sa: EspSaParams | undefined;
}

/**
 * The protocol engine of one host identity.
 *
 * @example
 * ```ts
 * const engine = new HipEngine(HostIdentity.generate());
 * engine.connect(peerHit, [{ key: 'udp:127.0.0.1:10500' }], Date.now());
 * for (let t; (t = engine.pollTransmit()); ) socket.send(t.packet, ...);
 * ```
 *
 * A whole driver over one UDP socket (what `HipHost` does for real): packets and timer ticks
 * go in, packets to send and events come out.
 * ```ts
 * const peer = { key: 'udp:192.0.2.7:10500' };
 * const marker = new Uint8Array(4); // HIP over UDP: 4 zero bytes before the HIP packet
 * let timer: NodeJS.Timeout | undefined;
 * function pump(): void {
 *   for (let t; (t = engine.pollTransmit()); ) udp.send([marker, t.packet], 10500, '192.0.2.7');
 *   for (let e; (e = engine.pollEvent()); ) if (e.type === 'established') installSas(e.sa);
 *   clearTimeout(timer);
 *   const at = engine.nextTimeout();
 *   if (at !== undefined) timer = setTimeout(() => { engine.handleTimeout(Date.now()); pump(); }, at - Date.now());
 * }
 * udp.on('message', (msg) => {
 *   if (msg.readUInt32BE(0) !== 0) return openEsp(msg); // a non-zero SPI: ESP, not HIP
 *   engine.handlePacket(msg.subarray(4), peer, Date.now());
 *   pump();
 * });
 * engine.connect(peerHit, [peer], Date.now());
 * pump();
 * ```
 */
export class HipEngine<L extends PeerLocator = PeerLocator> {
  /** Effective configuration (defaults filled in). */
  readonly config: EngineConfig;
  /** Counters: packets received and sent, drops by reason, notifies, outcomes. */
  readonly stats: EngineStats = { received: 0, sent: 0, dropped: {}, notifiesSent: 0, notifiesSuppressed: 0, established: 0, failed: 0, keepalivesSent: 0 };

  private readonly provider: CryptoProvider;
  private readonly random: (n: number) => Uint8Array;
  private readonly associations = new Map<string, Association<L>>();
  private readonly transmits: Transmit<L>[] = [];
  private readonly events: EngineEvent[] = [];
  private readonly spis = new SpiAllocator();
  private readonly sides = new Map<1 | 2, LocalSide | null>();
  private notifyWindowStart = -Infinity;
  private notifyWindowCount = 0;
  private readonly r1: R1Factory;
  private readonly ctx: EngineContext<L>;
  /** Registrations (RFC 8003) held and granted, and the rendezvous service's counters. */
  readonly registry: Registry<L>;
  private readonly relay: RelayService<L>;

  constructor(
    /** The host identity this engine speaks for: its HITs, signatures and HOST_ID. */
    readonly identity: HostIdentity,
    options: EngineOptions = {},
    deps: EngineDeps<L> = {},
  ) {
    this.config = resolveEngineConfig(options);
    this.provider = deps.provider ?? getProvider();
    const provider = this.provider;
    this.random = deps.random ?? ((n) => provider.randomBytes(n));
    this.registry = new Registry<L>(this.config.registrar, deps.locators);
    const relay = (this.relay = new RelayService<L>(this.registry));
    this.r1 = new R1Factory({ provider: this.provider, random: this.random, rotationMs: this.config.puzzle.rotationMs });
    this.ctx = {
      config: this.config,
      provider: this.provider,
      random: this.random,
      r1: this.r1,
      load: new PuzzleLoad(this.config.puzzle),
      stats: this.stats,
      associations: this.associations,
      local: (v) => this.local(v),
      transmit: (t) => {
        this.stats.sent++;
        // A peer we reach through a relay server gets RELAY_TO and RELAY_HMAC (RFC 9028).
        this.transmits.push(relay.wrap(this.ctx, t));
      },
      emit: (e) => {
        this.events.push(e);
        relay.noteEvent(e);
      },
      drop: (reason, packetType, peerHit, detail) => this.recordDrop(reason, packetType, peerHit, detail),
      allocateSpi: () => this.spis.allocate(this.random),
      releaseSpi: (spi) => this.spis.release(spi),
      notify: (version, peerHit, to, type, data, now, signed = false) => this.sendNotify(version, peerHit, to, type, data, now, signed),
      peerKey: (hostId, version, claimedHit) => this.peerKey(hostId, version, claimedHit),
      registry: this.registry,
      relay,
    };
  }

  /** Our HIT for a protocol version (v1 needs an RSA identity). */
  localHit(version: 1 | 2 = this.config.version): Uint8Array {
    const side = this.local(version);
    if (!side) throw new HipArgumentError('ERR_HIP_UNSUPPORTED_VERSION', `this identity cannot speak HIPv${version} (HIPv1 needs RSA)`);
    return side.hit;
  }

  /**
   * Start a base exchange with `peerHit` (or, with `opportunistic` on, with whoever answers at
   * the locator when `peerHit` is null). Does nothing if an association already exists.
   * `register` asks the peer for a registration (RFC 8003) in the I2; the outcome comes as a
   * `registration` event.
   *
   * @throws `HipProtocolError` `ERR_HIP_ASSOCIATION_LIMIT` when the table already holds
   *   `maxAssociations` associations and none with this peer.
   */
  connect(peerHit: Uint8Array | null, locators: L[], now: number, opts: { version?: 1 | 2; register?: RegistrationRequest } = {}): void {
    const version = opts.version ?? this.config.version;
    const first = locators[0];
    if (!first) throw new HipArgumentError('ERR_HIP_NO_LOCATOR', 'connect() needs at least one locator for the peer');
    const me = this.local(version);
    if (!me) throw new HipArgumentError('ERR_HIP_UNSUPPORTED_VERSION', `this identity cannot speak HIPv${version} (HIPv1 needs RSA)`);
    if (peerHit === null && !this.config.opportunistic) {
      throw new HipArgumentError('ERR_HIP_OPPORTUNISTIC_DISABLED', 'connect() without a peer HIT needs the opportunistic option');
    }
    if (peerHit && hitsEqual(peerHit, me.hit)) throw new HipArgumentError('ERR_HIP_SELF', 'cannot connect to our own HIT');
    const key = peerHit ? hitKey(peerHit) : hitKey(opportunisticKey(first));
    const existing = this.associations.get(key);
    if (existing && existing.state !== HipState.CLOSED) return;
    if (!existing && this.associations.size >= this.config.maxAssociations) {
      throw new HipProtocolError('ERR_HIP_ASSOCIATION_LIMIT', `the association table is full (maxAssociations ${this.config.maxAssociations})`, { limit: this.config.maxAssociations });
    }
    if (existing) discard(this.ctx, existing);
    if (opts.register && peerHit) this.registry.request(peerHit, opts.register);
    const a = new Association<L>(version, me.hit, peerHit ? peerHit.slice() : ZERO_HIT, first, now);
    a.candidates = [...locators];
    this.associations.set(key, a);
    sendI1(this.ctx, a, now);
  }

  /**
   * Renew, change or cancel (`lifetimeS: 0`) a registration with a registrar we have an
   * established association with, by UPDATE (RFC 8003 §3.3-3.4); the outcome comes as a
   * `registration` event (with `error` when the UPDATE is never acknowledged). False when there
   * is no such association (register in a base exchange instead: {@link connect}).
   */
  register(peerHit: Uint8Array, request: RegistrationRequest, now: number): boolean {
    const a = this.associations.get(hitKey(peerHit));
    if (!a || !(a.state === HipState.ESTABLISHED || a.state === HipState.R2_SENT) || !a.sa) return false;
    return requestRegistration(this.ctx, a, this.registry.updateRequest(peerHit, request), now);
  }

  /** Close the association with `peerHit` (sends CLOSE). Unknown peers are ignored. */
  close(peerHit: Uint8Array, now: number): void {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return;
    if (a.state === HipState.ESTABLISHED || a.state === HipState.R2_SENT) {
      startClose(this.ctx, a, now);
      return;
    }
    if (a.state === HipState.I1_SENT || a.state === HipState.I2_SENT) {
      discard(this.ctx, a);
      this.events.push({ type: 'closed', peerHit: a.peerHit, by: 'local' });
    }
  }

  /**
   * The carrier under an association is gone (its TCP connection closed), or the host gave up
   * on it: drop the association without any HIP exchange and report it `closed` by `by`.
   */
  abandon(peerHit: Uint8Array, by: 'transport' | 'timeout' = 'transport'): void {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return;
    const wasClosing = a.state === HipState.CLOSED;
    discard(this.ctx, a);
    if (!wasClosing) this.events.push({ type: 'closed', peerHit: a.peerHit, by });
  }

  /** Process one received HIP packet (no carrier framing). Never throws for bad input. */
  handlePacket(bytes: Uint8Array, from: L, now: number): void {
    this.stats.received++;
    let pkt;
    try {
      pkt = parsePacket(bytes);
    } catch (e) {
      this.handleMalformed(bytes, e, from, now);
      return;
    }
    if (pkt.version === 2 && pkt.params.some((p) => p.padding !== undefined)) {
      // RFC 7401 §5.2.1 pads with zeros. Padding after the signature is covered by nothing, so
      // a sender could vary it to make a replayed packet look new: v2 packets must pad with zeros.
      return this.recordDrop('malformed', pkt.type, pkt.senderHit, 'non-zero TLV padding');
    }
    try {
      // A relay server forwards packets for its clients (RFC 5770 §4.12) before anything else.
      if (this.relay.control(this.ctx, pkt, bytes, from, now)) return;
      if (this.relay.accept(this.ctx, pkt, bytes, from, now) === 'bad') return this.recordDrop('bad-mac', pkt.type, pkt.senderHit, 'RELAY_HMAC');
      switch (pkt.type) {
        case PacketType.I1:
          return handleI1(this.ctx, pkt, from, now, bytes);
        case PacketType.R1:
          return handleR1(this.ctx, pkt, bytes, from, now);
        case PacketType.I2:
          return handleI2(this.ctx, pkt, bytes, from, now);
        case PacketType.R2:
          return handleR2(this.ctx, pkt, bytes, from, now);
        case PacketType.CLOSE:
          return handleClose(this.ctx, pkt, bytes, from, now);
        case PacketType.CLOSE_ACK:
          return handleCloseAck(this.ctx, pkt, bytes);
        case PacketType.NOTIFY:
          return handleNotify(this.ctx, pkt, bytes);
        case PacketType.UPDATE:
          return handleUpdate(this.ctx, pkt, bytes, from, now);
        default:
          return this.recordDrop('wrong-state', pkt.type, pkt.senderHit, 'packet type not handled');
      }
    } catch (e) {
      // A peer must never be able to crash the host: anything unexpected is a counted drop.
      this.recordDrop('malformed', pkt.type, pkt.senderHit, e instanceof Error ? e.message : String(e));
    } finally {
      // A relayed peer just established: try a direct path (RFC 9028 hole punching).
      this.relay.punch(this.ctx, now);
    }
  }

  /**
   * Activity on an association: keeps it from going idle. `from: 'peer'` (the default) is
   * authenticated traffic the peer sent: only that proves the peer has the keys, so only that
   * moves R2-SENT to ESTABLISHED (RFC 7401 §4.4.2). Our own outbound data (`'local'`) refreshes
   * the idle timer of an established association and nothing else.
   */
  touch(peerHit: Uint8Array, now: number, from: 'peer' | 'local' = 'peer'): void {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return;
    a.lastActivity = now;
    if (a.state === HipState.R2_SENT && from === 'peer') a.confirm();
    if (a.state === HipState.ESTABLISHED) armIdle(this.ctx, a, now);
  }

  /**
   * We sent the peer data: keeps the association from going idle, and a NAT keepalive is not
   * needed while data flows.
   */
  sent(peerHit: Uint8Array, now: number): void {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return;
    a.lastSent = now;
    dataSent(a, now);
    // Our own sending: keeps the association from going idle, but (in R2-SENT) is no proof that
    // the peer got our R2.
    this.touch(peerHit, now, 'local');
  }

  /**
   * An authenticated packet (ESP) from the peer arrived from `from`. It proves the peer is alive
   * and earns credit (RFC 8046 §5.3). From an address we do not use, it starts a
   * return-routability check there (NAT rebinding); it never moves the association by itself, so a
   * replayed packet from a third host cannot redirect our traffic.
   */
  received(peerHit: Uint8Array, from: L, bytes: number, now: number): void {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return;
    this.touch(peerHit, now);
    if (a.state !== HipState.ESTABLISHED) return;
    alive(this.ctx, a, bytes, now);
    if (from.key !== a.locator.key) checkLocator(this.ctx, a, from, false, now);
  }

  /**
   * Where to send the next `bytes` of data for a peer: its current verified locator, or, while a
   * move it announced is being verified, its new one as far as credit allows. Undefined without an
   * association.
   */
  dataLocator(peerHit: Uint8Array, bytes: number, now: number): L | undefined {
    const a = this.associations.get(hitKey(peerHit));
    return a ? dataPath(a, bytes, now) : undefined;
  }

  /**
   * Our own addresses changed: send every established peer an UPDATE with a LOCATOR_SET of
   * `addresses` (16 bytes each, IPv6 or IPv4-mapped; the first is preferred). The peer checks the
   * UPDATE's source address and moves there.
   */
  updateLocators(addresses: Uint8Array[], now: number, peers?: Uint8Array[]): void {
    const only = peers ? new Set(peers.map(hitKey)) : undefined;
    for (const [k, a] of this.associations) if (!only || only.has(k)) announceLocators(this.ctx, a, addresses, now);
  }

  /**
   * The driver replaced the carrier under a locator without changing where it leads (it dialed
   * the peer's verified address again after its TCP connection broke): packets now go through
   * `locator`, whose key must equal the current one. Returns false when it does not.
   */
  replaceLocator(peerHit: Uint8Array, locator: L): boolean {
    const a = this.associations.get(hitKey(peerHit));
    if (!a || a.locator.key !== locator.key) return false;
    a.locator = locator;
    const p = a.paths.get(locator.key);
    if (p) p.locator = locator;
    return true;
  }

  /**
   * New ESP keys for the association with `peerHit` (UPDATE with ESP_INFO; with `dh`, a new DH
   * secret too). Ends with a `rekeyed` event. Returns false when there is no established
   * association or a rekey already runs.
   */
  rekey(peerHit: Uint8Array, now: number, opts: { dh?: boolean } = {}): boolean {
    const a = this.associations.get(hitKey(peerHit));
    return a ? requestRekey(this.ctx, a, now, opts.dh ?? false) : false;
  }

  /**
   * Sends to the locator with this key fail (the system refused them: the network is
   * unreachable, a firewall said no ...): a base exchange waiting on it fails now
   * (`unreachable`, with `detail` if given) instead of after its whole retransmit schedule.
   * In I1-SENT with other locators to try (shotgun), only this one is dropped.
   */
  unreachable(locatorKey: string, detail = `sending to ${locatorKey} failed: network unreachable`): void {
    for (const a of [...this.associations.values()]) {
      if (a.locator.key !== locatorKey && !a.candidates.some((c) => c.key === locatorKey)) continue;
      if (a.state !== HipState.I1_SENT && a.state !== HipState.I2_SENT) continue;
      // One unreachable locator of several (shotgun) is dropped; the exchange fails with the last.
      if (dropCandidate(a, locatorKey)) fail(this.ctx, a, 'unreachable', detail);
    }
  }

  /** When (driver clock) the peer last sent us something authenticated; undefined without an association. */
  lastHeard(peerHit: Uint8Array): number | undefined {
    return this.associations.get(hitKey(peerHit))?.lastReceived;
  }

  /** The peer's locators and their states (current one included), for inspection. */
  paths(peerHit: Uint8Array): PathInfo[] {
    const a = this.associations.get(hitKey(peerHit));
    return a ? pathInfo(a) : [];
  }

  /**
   * Relay server: an ESP packet whose SPI the host does not own. Returns where to forward it
   * unchanged (a registered relay client or its peer), or undefined to drop it.
   */
  relayEsp(bytes: Uint8Array, from: L, now: number): L | undefined {
    return this.relay.esp(this.ctx, bytes, from, now);
  }

  /** Counters of the relay service (RFC 9028): control packets and ESP relayed, refused, limited. */
  get relayStats(): Readonly<RelayServiceStats> {
    return this.relay.stats;
  }

  /** Whether we reach `peerHit` through a relay server (we answered it via RELAY_TO). */
  isRelayed(peerHit: Uint8Array): boolean {
    return this.relay.isRelayed(peerHit);
  }

  /** Run every timer due at `now`. */
  handleTimeout(now: number): void {
    for (const a of [...this.associations.values()]) {
      if (a.timerAt !== undefined && a.timerAt <= now) this.fire(a, now);
      if (this.associations.get(hitKey(a.peerHit)) !== a) continue;
      if (a.update.timerAt !== undefined && a.update.timerAt <= now) onUpdateTimer(this.ctx, a, now);
      this.pathTimers(a, now);
    }
  }

  /** The earliest time at which {@link handleTimeout} has work, or undefined. */
  nextTimeout(): number | undefined {
    let next: number | undefined;
    const at = (t: number | undefined): void => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const a of this.associations.values()) {
      at(a.timerAt);
      at(a.update.timerAt);
      at(this.keepaliveAt(a));
      at(this.probeAt(a));
      at(lossProbeAt(this.config, a));
    }
    return next;
  }

  private keepaliveAt(a: Association<L>): number | undefined {
    const ms = this.config.keepaliveMs;
    return ms > 0 && a.state === HipState.ESTABLISHED ? a.lastSent + ms : undefined;
  }

  private probeAt(a: Association<L>): number | undefined {
    const ms = this.config.livenessMs;
    if (ms <= 0 || a.state !== HipState.ESTABLISHED || a.pathDead || a.update.out || a.update.wants.length > 0) return undefined;
    return a.lastReceived + ms;
  }

  private pathTimers(a: Association<L>, now: number): void {
    const k = this.keepaliveAt(a);
    if (k !== undefined && k <= now) this.sendKeepalive(a, now);
    const p = this.probeAt(a);
    if (p !== undefined && p <= now) probePath(this.ctx, a, now);
    const l = lossProbeAt(this.config, a);
    if (l !== undefined && l <= now) probePath(this.ctx, a, now, 'loss');
  }

  /** RFC 5770 §5.3: in UDP-ENCAPSULATION mode a keepalive is a HIP NOTIFY with no parameters. */
  private sendKeepalive(a: Association<L>, now: number): void {
    a.lastSent = now;
    const packet = emitPacket({ version: a.version, type: PacketType.NOTIFY, controls: 0, checksum: 0, senderHit: a.localHit, receiverHit: a.peerHit, params: [] });
    this.stats.keepalivesSent++;
    this.ctx.transmit({ to: a.locator, packet, packetType: PacketType.NOTIFY, version: a.version });
  }

  /** Next packet to send, or undefined. */
  pollTransmit(): Transmit<L> | undefined {
    return this.transmits.shift();
  }

  /** Next event, or undefined. */
  pollEvent(): EngineEvent | undefined {
    return this.events.shift();
  }

  /** State of the association with a peer, if any. */
  association(peerHit: Uint8Array): AssociationInfo | undefined {
    const a = this.associations.get(hitKey(peerHit));
    if (!a) return undefined;
    return { state: a.state, version: a.version, role: a.role, localHit: a.localHit, peerHit: a.peerHit, locator: a.locator, sa: a.sa };
  }

  /** Peer HITs of the associations whose current locator has this key. */
  associationsOn(locatorKey: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const a of this.associations.values()) if (a.locator.key === locatorKey) out.push(a.peerHit);
    return out;
  }

  /** Number of associations held (any state). */
  get associationCount(): number {
    return this.associations.size;
  }

  /**
   * Raise (or lower) the puzzle difficulty K. Takes effect at once: the responder starts a new
   * R1 generation, so I2s solving the old puzzle stay valid until the previous one expires.
   */
  setPuzzleDifficulty(k: number, now: number): void {
    if (!Number.isInteger(k) || k < 0 || k > 255) throw new HipArgumentError('ERR_HIP_BAD_ARGUMENT', `puzzle difficulty must be 0..255, got ${k}`);
    this.config.puzzle.difficulty = k;
    this.r1.rotate(now, this.ctx.load.difficulty(now));
  }

  private fire(a: Association<L>, now: number): void {
    const kind = a.timerKind;
    a.clearTimer();
    const rt = this.config.retransmit;
    switch (kind) {
      case 'retransmit': {
        // The rest of a round of I1s to the peer's other locators (shotgun), a few ms apart.
        if (roundPending(a)) return nextI1(this.ctx, a, now);
        const limit = a.state === HipState.I1_SENT ? rt.i1Retries : a.state === HipState.I2_SENT ? rt.i2Retries : rt.closeRetries;
        if (a.retries >= limit) {
          if (a.state === HipState.CLOSING) {
            discard(this.ctx, a);
            this.events.push({ type: 'closed', peerHit: a.peerHit, by: a.closeReason === 'idle' ? 'idle' : 'timeout' });
          } else {
            // Answers came but were refused: name why, not just "timeout".
            const why = a.lastDrop;
            const detail = `no valid answer to ${a.state === HipState.I1_SENT ? 'I1' : 'I2'} after ${a.retries} retransmissions`;
            fail(this.ctx, a, why?.reason ?? 'timeout', why ? `${why.detail}; ${detail}` : detail);
          }
          return;
        }
        a.retries++;
        if (a.state === HipState.I1_SENT) {
          // Every retransmission of the I1 is a round to all the peer's known locators (shotgun).
          startI1Round(this.ctx, a, now);
          bexEvent(this.ctx, a, 'i1-sent', PacketType.I1, now, true);
          return;
        }
        if (a.pending) this.ctx.transmit({ to: a.locator, packet: a.pending, packetType: a.pendingType, version: a.version });
        if (a.state === HipState.I2_SENT) bexEvent(this.ctx, a, 'i2-sent', PacketType.I2, now, true);
        a.setTimer('retransmit', now + backoff(rt, a.retries));
        return;
      }
      case 'idle':
        // A registration is a use of the association: a client and its server stay associated
        // for as long as it lasts, data or not (renewals by UPDATE do not count as activity).
        if (this.registry.carries(a.peerHit, now)) return armIdle(this.ctx, a, now);
        if (a.state === HipState.ESTABLISHED) {
          a.closeReason = 'idle';
          startClose(this.ctx, a, now);
        }
        return;
      case 'dwell':
        if (a.state === HipState.R2_SENT) {
          a.state = HipState.ESTABLISHED;
          armIdle(this.ctx, a, now);
        }
        return;
      case 'linger':
        discard(this.ctx, a);
        return;
      case 'solve':
        continueSolving(this.ctx, a, now);
        return;
      default:
        return;
    }
  }

  private local(version: 1 | 2): LocalSide | undefined {
    let side = this.sides.get(version);
    if (side === undefined) {
      side = this.buildLocal(version);
      this.sides.set(version, side);
    }
    return side ?? undefined;
  }

  private buildLocal(version: 1 | 2): LocalSide | null {
    const id = this.identity;
    let encoded;
    try {
      encoded = id.hostIdentity(version);
    } catch {
      return null;
    }
    const hostId: HostIdParam = {
      type: ParamType.HOST_ID,
      algorithm: encoded.algorithm,
      hostIdentity: encoded.hostIdentity,
      diType: DiType.NONE,
      di: new Uint8Array(0),
    };
    const suite = id.hitSuite;
    return {
      hit: id.hit(version),
      hostId,
      signingKey: this.provider.importSigningKey(id.privateKey),
      scheme: signatureSchemeFor(id.publicKey, version),
      hiAlgorithm: encoded.algorithm,
      // EdDSA has no RHASH defined for a BEX (HIP-DIGEST 2.1); SHA-256 is our experimental choice.
      rhash: version === 1 ? 'sha1' : suite === 5 ? 'sha256' : rhashOfSuite(suite),
      hitSuite: suite,
    };
  }

  private peerKey(hostId: HostIdParam, version: 1 | 2, claimedHit: Uint8Array): CachedPeerKey {
    return cachedPeerKey(this.provider, hostId, version, claimedHit);
  }

  private recordDrop(reason: DropReason, packetType?: number, peerHit?: Uint8Array, detail?: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    const e: EngineEvent = { type: 'dropped', reason };
    if (packetType !== undefined) e.packetType = packetType;
    if (peerHit !== undefined) e.peerHit = peerHit;
    if (detail !== undefined) e.detail = detail;
    this.events.push(e);
  }

  private handleMalformed(bytes: Uint8Array, e: unknown, from: L, now: number): void {
    const code = e instanceof HipError ? e.code : 'ERR_UNKNOWN';
    if (code === 'ERR_HIP_UNKNOWN_CRITICAL_PARAM' && e instanceof HipWireError && bytes.length >= 40) {
      this.recordDrop('unknown-critical-parameter', bytes[2]! & 0x7f, bytes.slice(8, 24), e.message);
      const version = bytes[3]! >> 4;
      const type = Number(e.details?.['paramType'] ?? 0);
      if (version === 2) {
        const data = new Uint8Array([type >> 8, type & 0xff]);
        this.sendNotify(2, bytes.slice(8, 24), from, NotifyType.UNSUPPORTED_CRITICAL_PARAMETER_TYPE, data, now, false);
      }
      return;
    }
    this.recordDrop(code === 'ERR_HIP_BAD_VERSION' ? 'unsupported-version' : 'malformed', undefined, undefined, `${code}: ${(e as Error).message}`);
  }

  private sendNotify(version: 1 | 2, peerHit: Uint8Array, to: L, notifyType: number, data: Uint8Array, now: number, signed: boolean): void {
    // libhipl has no use for our NOTIFYs and treats stray control packets as data (HIPV1-PROFILE 16.11).
    if (version === 1) return;
    const me = this.local(version);
    if (!me) return;
    // One budget for every peer: the sender HIT is the attacker's choice, so a per-HIT limit
    // limits nothing (issue 8 item 3).
    if (now - this.notifyWindowStart >= 1000 || now < this.notifyWindowStart) {
      this.notifyWindowStart = now;
      this.notifyWindowCount = 0;
    }
    if (this.notifyWindowCount >= this.config.notifyPerSecond) {
      this.stats.notifiesSuppressed++;
      return;
    }
    this.notifyWindowCount++;
    const params: HipParam[] = [{ type: ParamType.NOTIFICATION, reserved: 0, notifyType, data }];
    // Signing costs a private-key operation; a peer that has not proven its identity gets an
    // unsigned NOTIFY (advisory only: it never changes the receiver's state).
    const packet = sealPacket(
      this.provider,
      { version, type: PacketType.NOTIFY, controls: 0, checksum: 0, senderHit: me.hit, receiverHit: peerHit, params },
      undefined,
      signed ? { type: ParamType.HIP_SIGNATURE, key: me.signingKey, scheme: me.scheme, algorithm: me.hiAlgorithm } : undefined,
    );
    this.stats.notifiesSent++;
    this.ctx.transmit({ to, packet, packetType: PacketType.NOTIFY, version });
  }

}

