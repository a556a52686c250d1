/**
 * HipHost: one host identity with its engine, carriers (UDP and TCP), ESP security associations,
 * timers, and the data services (datagrams and streams) the socket layer builds on.
 *
 * The host is the only place where I/O meets the protocol: it feeds received bytes to the
 * engine, sends what the engine emits, seals and opens ESP, and runs one timer for the engine
 * and every stream.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { HipEngine } from '../core/engine.js';
import { SHOTGUN_LOCATORS } from '../core/shotgun.js';
import type { EngineEvent, FailureReason } from '../core/events.js';
import { getProvider } from '../crypto/get-provider.js';
import { formatHit, hitVersion, parseHit } from '../crypto/hit.js';
import { HostIdentity } from '../crypto/identity.js';
import { HipArgumentError, HipError, HipProtocolError } from '../errors.js';
import {
  tcpConnect,
  TcpListener,
  UdpCarrier,
  type CarrierPeer,
  type TcpConnection,
  type TcpListenerStats,
} from '../transport/index.js';
import { DataPlane } from './data-plane.js';
import type { InnerDatagram } from './inner-datagram.js';
import { Diagnostics } from './diagnostics.js';
import { redial, TCP_RESUME_MS } from './tcp-resume.js';
import { AddressWatcher, announceAddresses, resolveNatMode, unreachableDestination } from './mobility.js';
import { tcpLocator, udpLocator, UdpLocatorCache, type HostLocator } from './locator.js';
import { checkHostOptions } from './options.js';
import { RegistrationClient } from './registration-client.js';
import { hostLocatorCodec, registrationEvent, type HostRegistrationEvent, type RegisterOptions, type Registration } from './registrations.js';
import { canonicalHit, PeerTable, type PeerAddress } from './peer-table.js';
import { Session, type SessionStats } from './session.js';
import { StreamMux, type HostStream } from './stream-mux.js';
import type { ConnectOptions, DatagramInfo, EstablishedInfo, HostBexEvent, HostEvents, HostOptions } from './host-types.js';

export type { ConnectOptions, DatagramInfo, EstablishedInfo, HostBexEvent, HostEvents, HostOptions, TcpAdmissionOptions } from './host-types.js';

interface Pending {
  resolve: () => void;
  reject: (e: HipError) => void;
}

const DEFAULT_QUEUE_LIMIT = 1 << 20;
/** What {@link HipHost.sendDatagram} returns once the datagram is handed to the carrier. */
const SENT: Promise<void> = Promise.resolve();
/** See {@link HostOptions.connectTimeoutMs}. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A HIP host over real sockets.
 *
 * @example
 * ```ts
 * const host = await HipHost.create({ udp: { address: '127.0.0.1', port: 10500 } });
 * host.peers.add(peerHit, { address: '127.0.0.1', port: 10501 });
 * host.bindDatagramPort(7, (data, info) => console.log(info.hit, data));
 * await host.sendDatagram(peerHit, 7, 7, new TextEncoder().encode('hi'));
 * ```
 */
export class HipHost extends EventEmitter<HostEvents> {
  /** The peer-info table used to find a HIT's locators. */
  readonly peers = new PeerTable();
  /** The sans-IO protocol engine this host drives (for inspection: associations, stats, config). */
  readonly engine: HipEngine<HostLocator>;
  /** Drops not tied to an association (unknown SPI, garbage). */
  readonly dropped: Record<string, number> = {};

  private udp: UdpCarrier | undefined;
  private tcp: TcpListener | undefined;
  private readonly tcpConns = new Set<TcpConnection>();
  private readonly sessionsByHit = new Map<string, Session>();
  private readonly waiting = new Map<string, Pending[]>();
  private readonly connectTimers = new Map<string, NodeJS.Timeout>();
  private readonly queued = new Map<string, { items: InnerDatagram[]; bytes: number }>();
  /** During onUdpError: why a BEX is about to fail `unreachable` (the system's code, the locator). */
  private readonly refusedSends = new Map<string, { osCode: string; locators: string[] }>();
  private readonly streams: StreamMux;
  /** Every packet after the BEX: sealing, opening, delivery (see data-plane.ts). */
  private readonly data: DataPlane;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly diagnostics = new Diagnostics(
    (loc) => (loc.carrier === 'udp' ? this.udp?.local : loc.conn?.local),
    (e) => this.emit('error', e),
  );
  private closed = false;
  private refed = true;
  private stepping = false;
  private readonly controlQueue: { packet: Uint8Array; from: HostLocator }[] = [];
  private controlWaiter: (() => void) | undefined;
  private readonly opts: HostOptions;
  private watcher: AddressWatcher | undefined;
  /** TCP connections this host dialed (it can dial them again). */
  private readonly dialed = new WeakSet<TcpConnection>();
  /**
   * Aborts TCP redials at shutdown; made by the first redial (aborting a controller builds a
   * DOMException with a stack trace, which a short-lived host, one per connection, paid at
   * every shutdown for nothing).
   */
  private resuming: AbortController | undefined;
  /**
   * Ends the waits of accepted TCP connections that broke, for their dialer to come back (one
   * per connection, `tcpResumeMs` each): shutdown calls them all. A listener per wait on one
   * shared AbortSignal made every broken connection cost a walk over all the waits still
   * pending (a server whose clients leave without CLOSE holds thousands) and, past ten, Node's
   * MaxListenersExceededWarning.
   */
  private readonly resumeWaits = new Set<() => void>();
  private announceTimer: NodeJS.Timeout | undefined;
  private readonly registrations: RegistrationClient;

  private constructor(
    /** The host identity: its HIT is this host's address. */
    readonly identity: HostIdentity,
    opts: HostOptions
  ) {
    super();
    this.opts = opts;
    this.engine = new HipEngine<HostLocator>(identity, resolveNatMode(opts.natMode, opts.engine).engine, {
      provider: getProvider(opts.provider ?? 'node'),
      locators: hostLocatorCodec(() => this.udp?.local),
    });
    this.registrations = new RegistrationClient({
      engine: this.engine,
      peers: this.peers,
      now: () => this.now(),
      connect: (hit, o) => this.connect(hit, o),
      pump: () => this.pump(),
      on: (ev, fn) => this.on(ev, fn),
      off: (ev, fn) => this.off(ev, fn),
      emit: (ev, e) => this.emit(ev, e),
      onPeerLost: (fn) => {
        this.on('path', (e) => e.state === 'dead' && fn(e.peerHit));
        this.on('closed', (e) => e.by === 'peer' && fn(e.peerHit));
      },
    });
    this.streams = new StreamMux(this, opts.stream ?? {});
    this.data = new DataPlane(
      {
        engine: this.engine,
        diagnostics: this.diagnostics,
        udp: () => this.udp,
        now: () => this.now(),
        pump: () => this.pump(),
        rekeyNeeded: (s) => {
          this.emit('rekey', { peerHit: s.peerHitText });
          this.engine.rekey(s.peerHit, this.now());
          queueMicrotask(() => this.pump());
        },
        count: (reason) => this.count(reason),
      },
      this.streams
    );
    if (opts.libhiplClearText) {
      process.emitWarning('hipl: libhiplClearText is on: data with HIPv1 peers travels unencrypted', { code: 'HIPL_INSECURE_CLEARTEXT' });
    }
    if (opts.provider === 'noble') {
      process.emitWarning("hipl: the noble provider's RSA and MODP code is not constant time; node:crypto (the default) is", { code: 'HIPL_NOBLE_NOT_CONSTANT_TIME' });
    }
    if (opts.engine?.allowInsecure) {
      process.emitWarning('hipl: allowInsecure is on: NULL-encryption suites may be negotiated', { code: 'HIPL_INSECURE_SUITES' });
    }
  }

  /**
   * Create a host and bind its carriers.
   *
   * @throws `HipArgumentError` (rejected) `ERR_HIP_BAD_OPTION` naming the option for a value the
   *   host or its engine cannot work with (`ERR_STREAM_BAD_CONFIG` for `stream`).
   */
  static async create(opts: HostOptions = {}): Promise<HipHost> {
    checkHostOptions(opts);
    const host = new HipHost(opts.identity ?? HostIdentity.generate(), opts);
    const nat = resolveNatMode(opts.natMode, opts.engine);
    try {
      if (opts.udp !== false) {
        const udp = opts.udp ?? {};
        host.udp = await UdpCarrier.bind(nat.udpPort !== undefined && udp.port === undefined ? { ...udp, port: nat.udpPort } : udp);
        host.udp.on('hip', (p, from) => host.onControl(p, udpLocator(from)));
        const sources = new UdpLocatorCache();
        host.udp.on('payload', (p, from) => host.onPayload(p, sources.get(from)));
        host.udp.on('error', (e) => host.onUdpError(e));
      }
      if (nat.watchAddressesMs > 0) host.watcher = new AddressWatcher(nat.watchAddressesMs, () => host.updateLocators());
      if (opts.tcp) {
        host.tcp = await TcpListener.listen({ ...opts.tcp, framing: 'auto' });
        host.tcp.on('connection', (c) => host.adoptConnection(c));
      }
      host.diagnostics.open(opts);
    } catch (e) {
      await host.shutdown();
      throw e;
    }
    return host;
  }

  /** Our HIT (text) for a protocol version; HIPv1 needs an RSA identity. */
  hit(version: 1 | 2 = 2): string {
    return formatHit(this.engine.localHit(version));
  }

  /** The bound UDP address, if any. */
  get udpAddress(): CarrierPeer | undefined {
    return this.udp?.local;
  }

  /** The TCP listening address, if any. */
  get tcpAddress(): CarrierPeer | undefined {
    return this.tcp?.local;
  }

  /** Admission counters of the TCP listener (strangers' connections evicted, timed out ...), if any. */
  get tcpListenerStats(): Readonly<TcpListenerStats> | undefined {
    return this.tcp?.stats;
  }

  /** Time base of the engine: monotonic milliseconds. */
  now(): number {
    return performance.now();
  }

  // ---- associations -------------------------------------------------------------------

  /**
   * Make sure an association with `peerHit` exists: resolves once it is established, starting a
   * BEX if needed (locators from {@link peers} unless `via` is given).
   */
  async connect(peerHit: string | Uint8Array, opts: ConnectOptions = {}): Promise<EstablishedInfo> {
    const hit = canonicalHit(peerHit);
    const existing = this.sessionsByHit.get(hit);
    if (existing) return this.info(existing, 0);
    this.assertOpen();
    const entry = this.peers.get(hit);
    const via = opts.via ?? entry?.locators[0];
    if (!via) throw new HipArgumentError('ERR_HIP_NO_LOCATOR', `no address known for ${hit}: add it with peers.add()`);
    const hitBytes = parseHit(hit);
    const version = opts.version ?? entry?.version ?? hitVersion(hitBytes) ?? 2;
    if (!this.engine.association(hitBytes)) {
      // Find the locator first: a TCP connect that fails must not leave a waiter behind.
      const locator = await this.locatorFor(via, version, opts);
      // Shotgun (HIPL manual ch. 11): each round of I1s also goes to the peer's other UDP
      // locators (e.g. a second rendezvous server), so one dead address does not stop the BEX;
      // the first R1 wins.
      const others = opts.via || via.carrier !== 'udp' ? [] : (entry?.locators ?? []).filter((l) => l !== via && l.carrier === 'udp').slice(0, SHOTGUN_LOCATORS - 1);
      const candidates = [locator, ...(await Promise.all(others.map((l) => this.locatorFor(l, version, opts))))];
      if (!this.engine.association(hitBytes)) {
        try {
          // Before the waiter exists: a refusal (our own HIT, a version our identity cannot
          // speak) must not leave a promise that shutdown() later rejects with nobody listening.
          this.engine.connect(hitBytes, candidates, this.now(), { version, ...(opts.register ? { register: opts.register } : {}) });
        } catch (e) {
          if (!this.waiting.has(hit)) this.queued.delete(hit);
          if (locator.conn && !this.engine.associationsOn(locator.key).length) locator.conn.end();
          throw e;
        }
        this.armConnectTimer(hit, locator, opts.timeoutMs ?? this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      }
      const done = this.waitFor(hit, opts.signal);
      this.pump();
      await done;
    } else {
      await this.waitFor(hit, opts.signal);
    }
    return this.info(this.sessionsByHit.get(hit)!, 0);
  }

  /**
   * Close the association with a peer (CLOSE / CLOSE_ACK); resolves when it is gone. With
   * `graceMs`, a peer that has not acknowledged by then is let go (`'closed'` by `'timeout'`).
   */
  async close(peerHit: string | Uint8Array, opts: { graceMs?: number } = {}): Promise<void> {
    const hit = canonicalHit(peerHit);
    const hitBytes = parseHit(hit);
    if (!this.engine.association(hitBytes)) return;
    const gone = new Promise<void>((resolve) => {
      const on = (e: { peerHit: string }) => {
        if (e.peerHit !== hit) return;
        this.off('closed', on);
        resolve();
      };
      this.on('closed', on);
    });
    this.engine.close(hitBytes, this.now());
    this.pump();
    const grace = opts.graceMs;
    if (grace === undefined || !Number.isFinite(grace)) return gone;
    // A peer that lost its state (restarted, or gone) never acknowledges: let go after the grace
    // time instead of the ~15 s of CLOSE retransmissions.
    let timer: NodeJS.Timeout | undefined;
    const acked = await Promise.race([gone.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, grace))))]);
    clearTimeout(timer);
    if (!acked && this.engine.association(hitBytes)) {
      this.engine.abandon(hitBytes, 'timeout');
      this.pump();
    }
  }

  /**
   * Close every association (waiting at most `graceMs` for their CLOSE_ACKs), then the
   * carriers, files and timers. Idempotent. With `graceMs` 0 it waits for no peer: a TCP
   * connection sends what it has queued and its FIN, and finishes closing after this resolves
   * (destroyed after 500 ms if the peer never ends its side).
   */
  async shutdown(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    const open = [...this.sessionsByHit.keys()];
    if (open.length > 0 && graceMs > 0) {
      await Promise.race([Promise.all(open.map((h) => this.close(h).catch(() => undefined))), delay(graceMs)]);
    }
    this.closed = true;
    this.resuming?.abort();
    for (const stop of this.resumeWaits) stop();
    this.watcher?.stop();
    if (this.announceTimer) clearTimeout(this.announceTimer);
    this.registrations.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.streams.destroyAll();
    for (const [hit] of this.waiting) this.settle(hit, new HipProtocolError('ERR_HIP_HOST_CLOSED', 'the host was shut down'));
    this.data.pings.failAll(() => new HipProtocolError('ERR_HIP_HOST_CLOSED', 'the host was shut down'));
    await this.udp?.close();
    // End TCP connections gracefully (our FIN follows what is queued, so a last CLOSE_ACK still
    // goes out). With graceMs > 0, wait at most 500 ms for the peers' FINs, then force the rest.
    // With 0 the caller waits for no peer: connections still open finish by themselves once the
    // peer's FIN is in, forced after 500 ms if it never comes (a host made per connection paid a
    // round trip at every close for nothing).
    const conns = [...this.tcpConns];
    for (const c of conns) c.end();
    if (graceMs > 0) {
      await Promise.race([Promise.all(conns.map((c) => (c.closed ? undefined : new Promise<void>((r) => c.once('close', () => r()))))), delay(500)]);
      await this.tcp?.close();
      for (const c of this.tcpConns) c.destroy();
    } else {
      // Accepted connections too: the listener must not destroy them with what they queued
      // (a CLOSE_ACK our peer waits for, paced in libhipl's mode) still unsent.
      for (const c of conns) if (!c.closed) lingerThenDestroy(c, 500);
      await this.tcp?.close({ lingering: true });
    }
    this.tcpConns.clear();
    this.diagnostics.close();
  }

  /** Keep the process alive while the host's carriers are open (the default). */
  ref(): void {
    this.refed = true;
    this.udp?.ref();
    this.tcp?.ref();
    for (const c of this.tcpConns) c.ref();
  }

  /** Let the process exit while the host's carriers and connections are open. */
  unref(): void {
    this.refed = false;
    this.udp?.unref();
    this.tcp?.unref();
    for (const c of this.tcpConns) c.unref();
  }

  // ---- mobility and rekeying ----------------------------------------------------------

  /**
   * Our address changed (we moved, or a NAT gave us a new mapping): tell every established peer
   * with an UPDATE carrying a LOCATOR_SET of `addresses` (default: the bound address, else the
   * interface addresses). Each peer checks that we answer at the UPDATE's source address before
   * it sends there. NAT mode calls this by itself when the local address set changes or a send
   * fails because the network is unreachable.
   */
  updateLocators(addresses?: string[]): void {
    if (this.closed) return;
    const local = this.udp?.local;
    this.engine.updateLocators(announceAddresses(addresses, local?.address, local?.family ?? 4), this.now());
    this.pump();
  }

  /**
   * New ESP keys for the association with `peerHit` (UPDATE with ESP_INFO; `dh: true` also
   * renews the DH secret). The host also does this by itself when an SA nears its sequence limit.
   * Resolves when the new SAs are installed (`rekeyed` event); rejects with `ERR_HIP_REKEY` when
   * there is no established association, a rekey already runs, or the peer never answers.
   */
  async rekey(peerHit: string | Uint8Array, opts: { dh?: boolean } = {}): Promise<void> {
    const hit = canonicalHit(peerHit);
    const done = new Promise<void>((resolve, reject) => {
      const off = () => {
        this.off('rekeyed', ok);
        this.off('path', dead);
        this.off('closed', gone);
      };
      const ok = (e: { peerHit: string }) => e.peerHit === hit && (off(), resolve());
      const dead = (e: { peerHit: string; state: string }) =>
        e.peerHit === hit && e.state === 'dead' && (off(), reject(new HipProtocolError('ERR_HIP_REKEY', `rekey with ${hit} got no answer`)));
      const gone = (e: { peerHit: string }) => e.peerHit === hit && (off(), reject(new HipProtocolError('ERR_HIP_REKEY', `association with ${hit} ended during the rekey`)));
      this.on('rekeyed', ok);
      this.on('path', dead);
      this.on('closed', gone);
      if (!this.sessionsByHit.has(hit) || !this.engine.rekey(parseHit(hit), this.now(), opts)) {
        off();
        reject(new HipProtocolError('ERR_HIP_REKEY', `no established association with ${hit}, or a rekey already runs`));
      }
    });
    this.pump();
    return done;
  }

  /** The peer's locators and their states (unverified, active, deprecated), for diagnostics. */
  peerPaths(peerHit: string | Uint8Array): ReturnType<HipEngine['paths']> {
    return this.engine.paths(parseHit(canonicalHit(peerHit)));
  }

  private onPathEvent(e: Extract<EngineEvent, { type: 'locator' | 'rekeyed' | 'rekey-inbound' | 'path' }>): void {
    const hit = formatHit(e.peerHit);
    const s = this.sessionsByHit.get(hit);
    if (e.type === 'locator') {
      const loc = e.locator as HostLocator;
      const prev = e.previous as HostLocator;
      if (s) s.locator = loc;
      // The peer answered the return-routability check there: a TCP connection it came back on
      // is no longer a stranger's, or the listener would close it at its verification deadline.
      loc.conn?.markVerified();
      // A new TCP connection (resume): what the streams lost with the old one goes out again.
      if (s && loc.conn !== undefined && loc.conn !== prev.conn) this.streams.carrierReplaced(s);
      // A new path may carry smaller datagrams: the streams cut their segments to it.
      if (s) this.streams.pathChanged(s);
      this.emit('locator', { peerHit: hit, carrier: loc.carrier, address: loc.peer.address, port: loc.peer.port, previousAddress: prev.peer.address, previousPort: prev.peer.port });
    } else if (e.type === 'rekey-inbound') {
      if (!s || s.clearText) return;
      s.prepareInbound(e.sa);
      this.data.addSpi(s, e.sa.localSpi);
    } else if (e.type === 'rekeyed') {
      if (!s || s.clearText) return;
      if (s.previousInbound) this.data.removeSpi(s.previousInbound.spi);
      s.rekeyed(e.sa);
      this.data.addSpi(s, e.sa.localSpi);
      this.diagnostics.writeKeylog(s.locator, e.sa);
      this.emit('rekeyed', { peerHit: hit, localSpi: e.sa.localSpi, peerSpi: e.sa.peerSpi });
    } else {
      this.emit('path', e.detail === undefined ? { peerHit: hit, state: e.state } : { peerHit: hit, state: e.state, detail: e.detail });
    }
  }

  /**
   * Register with a server (RFC 8003), e.g. a rendezvous server (RFC 8004) that then forwards to
   * us the I1s of initiators who know only our HIT and the server. With an association to the
   * server already, the request goes in an UPDATE on it (RFC 8003 §3.3: renewal or change);
   * otherwise in a base exchange. Resolves with what the server granted, rejects with
   * `ERR_HIP_REGISTRATION_FAILED` (its `failed` detail has the RFC 8003 failure types) or the BEX
   * error. Unless `renew: false`, renews by UPDATE at 80 % of the granted lifetime; a renewal
   * the server never acknowledges (it restarted) falls back to a fresh base exchange, and one
   * that fails altogether comes as a `registration` event with status `'failed'` (not as
   * `'error'`) and is tried again within 30 s. A server found gone before then (dead path, or
   * its CLOSE) is registered with again at once.
   *
   * @example
   * ```ts
   * const reg = await host.registerWith({ hit: rvsHit, address: '198.51.100.5', lifetime: 600 });
   * console.log(`reachable via the server for ${reg.lifetime} s, seen as`, reg.reflexive);
   * ```
   */
  async registerWith(server: RegisterOptions): Promise<Registration> {
    this.assertOpen();
    return this.registrations.register(server);
  }

  /**
   * Cancel our registration with a server (RFC 8003 §3.3: lifetime 0 in an UPDATE) and stop
   * renewing it; with `type`, only that registration type. The server stops serving us at once
   * (a rendezvous server forwards no more I1s); the association itself stays. Resolves with the
   * server's answer (status `'cancelled'`, or `'failed'` if it never answered), or undefined when
   * there was no association to cancel on.
   */
  async unregisterFrom(serverHit: string | Uint8Array, type?: RegisterOptions['type']): Promise<HostRegistrationEvent | undefined> {
    this.assertOpen();
    return this.registrations.unregister(canonicalHit(serverHit), type);
  }

  /** Per-association traffic counters, or undefined. */
  associationStats(peerHit: string | Uint8Array): SessionStats | undefined {
    return this.sessionsByHit.get(canonicalHit(peerHit))?.stats;
  }

  /** True when an association with the peer is established. */
  isEstablished(peerHit: string | Uint8Array): boolean {
    return this.sessionsByHit.has(canonicalHit(peerHit));
  }

  // ---- BEX stepping (libhipl's BEX feedback) -------------------------------------------

  /**
   * With stepping on, received HIP control packets wait until {@link stepBex} processes them
   * one at a time, so a caller can watch (and debug) the BEX message by message.
   */
  setBexStepping(on: boolean): void {
    this.stepping = on;
    if (!on) {
      for (const { packet, from } of this.controlQueue.splice(0)) this.engine.handlePacket(packet, from, this.now());
      this.pump();
    }
  }

  /** With stepping on: how many received control packets wait for {@link stepBex}. */
  get pendingControlPackets(): number {
    return this.controlQueue.length;
  }

  /**
   * Wait for the next received control packet and process exactly that one; resolves with the
   * BEX steps it produced (possibly none, e.g. for a duplicate). With `{ wait: false }` it
   * resolves `undefined` at once when no packet is waiting.
   */
  async stepBex(signal?: AbortSignal): Promise<HostBexEvent[]>;
  async stepBex(opts: { signal?: AbortSignal; wait: false }): Promise<HostBexEvent[] | undefined>;
  async stepBex(arg?: AbortSignal | { signal?: AbortSignal; wait: false }): Promise<HostBexEvent[] | undefined> {
    const signal = arg instanceof AbortSignal ? arg : arg?.signal;
    if (arg !== undefined && !(arg instanceof AbortSignal) && arg.wait === false && this.controlQueue.length === 0) return undefined;
    while (this.controlQueue.length === 0) {
      this.assertOpen();
      if (signal?.aborted) throw new HipError('ERR_HIP_ABORTED', 'aborted');
      await new Promise<void>((resolve, reject) => {
        const abort = (): void => reject(new HipError('ERR_HIP_ABORTED', 'aborted'));
        // Stepping in a loop with one signal must not pile up a listener per step.
        this.controlWaiter = () => (signal?.removeEventListener('abort', abort), resolve());
        signal?.addEventListener('abort', abort, { once: true });
      });
    }
    const steps: HostBexEvent[] = [];
    const collect = (e: HostBexEvent) => steps.push(e);
    this.on('bex', collect);
    const { packet, from } = this.controlQueue.shift()!;
    this.engine.handlePacket(packet, from, this.now());
    this.pump();
    this.off('bex', collect);
    return steps;
  }

  // ---- datagrams ----------------------------------------------------------------------

  /** Deliver datagrams for `port` to `handler`. Port 0 picks a free port. Returns the port. */
  bindDatagramPort(port: number, handler: (data: Uint8Array, info: DatagramInfo) => void): number {
    return this.data.bind(port, handler);
  }

  /** Stop delivering datagrams for `port`. */
  unbindDatagramPort(port: number): void {
    this.data.unbind(port);
  }

  /**
   * Send a datagram to `peerHit`:`dstPort` from our `srcPort`. Runs the BEX first if needed;
   * data given meanwhile is queued (bounded by `queueLimitBytes`) and sent once established.
   */
  sendDatagram(peerHit: string | Uint8Array, srcPort: number, dstPort: number, data: Uint8Array): Promise<void> {
    // Not an async function: on an established association (every datagram but the first few)
    // it returns one shared settled promise instead of making one per datagram.
    let hit: string;
    try {
      hit = canonicalHit(peerHit);
      const session = this.sessionsByHit.get(hit);
      if (session) {
        this.data.sendDatagram(session, { srcPort, dstPort, data });
        return SENT;
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendAfterBex(hit, { srcPort, dstPort, data: data.slice() });
  }

  /** {@link sendDatagram} without an association yet: queue the datagram and run the BEX. */
  private async sendAfterBex(hit: string, d: InnerDatagram): Promise<void> {
    this.enqueue(hit, d);
    await this.connect(hit);
  }

  private enqueue(hit: string, d: InnerDatagram): void {
    const q = this.queued.get(hit) ?? { items: [], bytes: 0 };
    const limit = this.opts.queueLimitBytes ?? DEFAULT_QUEUE_LIMIT;
    if (q.bytes + d.data.length > limit) {
      throw new HipProtocolError('ERR_HIP_QUEUE_FULL', `more than ${limit} bytes queued for ${hit} while its BEX runs`);
    }
    q.items.push(d);
    q.bytes += d.data.length;
    this.queued.set(hit, q);
  }

  // ---- ping -------------------------------------------------------------------------------

  /**
   * Ping an established peer's HIT: an ICMPv6 echo request inside ESP, as `ping6 HIT` does
   * with HIPL. Resolves with the round-trip time in milliseconds. A peer pinging us is answered
   * automatically (hipd's heartbeat does so every few seconds).
   *
   * @throws `HipProtocolError` `ERR_HIP_NOT_ESTABLISHED` when there is no association (ping
   *   starts no base exchange), `ERR_HIP_PING_TIMEOUT` after `timeoutMs` (default 5000) without
   *   a reply; `HipArgumentError` `ERR_HIP_INVALID_ARGUMENT` for a libhipl clear-text peer (no
   *   ESP, so nothing to ping inside) or a bad option.
   */
  async ping(peerHit: string | Uint8Array, opts: { timeoutMs?: number; data?: Uint8Array } = {}): Promise<number> {
    const hit = canonicalHit(peerHit);
    this.assertOpen();
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', `timeoutMs must be a positive number, got ${String(timeoutMs)}`);
    }
    const data = opts.data ?? new Uint8Array(0);
    if (!(data instanceof Uint8Array) || data.length > 1200) throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', 'data must be a Uint8Array of at most 1200 bytes');
    const s = this.sessionsByHit.get(hit);
    if (!s) throw new HipProtocolError('ERR_HIP_NOT_ESTABLISHED', `no association with ${hit}: ping starts no base exchange`);
    if (s.clearText) throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', `${hit} is a libhipl clear-text peer: no ESP to ping inside`);
    return this.data.ping(s, timeoutMs, data);
  }

  // ---- streams ------------------------------------------------------------------------

  /** Accept streams to `port`: `onStream` gets each new one. Port 0 picks one. Returns the port. */
  listenStream(port: number, onStream: (s: HostStream) => void): number {
    return this.streams.listen(port, onStream);
  }

  /** Stop accepting streams on `port`. */
  unlistenStream(port: number): void {
    this.streams.unlisten(port);
  }

  /** Open a stream to `peerHit`:`port` (the BEX runs first if needed). */
  openStream(peerHit: string | Uint8Array, port: number, opts: { localPort?: number } = {}): HostStream {
    return this.streams.open(canonicalHit(peerHit), port, opts.localPort ?? 0);
  }

  // ---- internals used by the stream multiplexer ---------------------------------------

  /** @internal */
  sessionFor(hit: string): Session | undefined {
    return this.sessionsByHit.get(hit);
  }

  /** @internal Seal and send one inner packet to an established peer (see {@link DataPlane.sendEsp}). */
  sendEsp(s: Session, nextHeader: number, payload: Uint8Array | readonly Uint8Array[]): void {
    this.data.sendEsp(s, nextHeader, payload);
  }

  /** @internal Send clear-text application bytes to a libhipl peer. */
  sendClear(s: Session, data: Uint8Array): void {
    this.data.sendClear(s, data);
  }

  /** @internal A pcap or key log is written: inner packets can be read, so give them valid checksums. */
  get innerVisible(): boolean {
    return this.diagnostics.innerVisible;
  }

  /** @internal Re-arm the shared timer after stream activity. */
  reschedule(): void {
    this.schedule();
  }

  // ---- I/O ------------------------------------------------------------------------------

  private async locatorFor(via: PeerAddress, version: 1 | 2, opts: ConnectOptions): Promise<HostLocator> {
    const family = via.address.includes(':') ? 6 : 4;
    if (via.carrier === 'tcp') {
      const framing = version === 1 && this.opts.libhiplClearText ? 'libhipl' : 'hipl';
      const localPort = opts.localPort ?? (framing === 'libhipl' && opts.streamLocalPort ? opts.streamLocalPort : undefined);
      const conn = await tcpConnect({
        address: via.address,
        port: via.port,
        framing,
        ...(localPort !== undefined ? { localPort } : {}),
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      });
      this.adoptConnection(conn);
      if (framing === 'hipl') this.dialed.add(conn);
      return tcpLocator(conn);
    }
    if (!this.udp) throw new HipArgumentError('ERR_HIP_NO_CARRIER', 'this host has no UDP carrier (udp: false)');
    return udpLocator({ address: via.address, port: via.port, family });
  }

  private adoptConnection(conn: TcpConnection): void {
    this.tcpConns.add(conn);
    if (!this.refed) conn.unref();
    const loc = tcpLocator(conn);
    conn.on('hip', (p) => this.onControl(p, loc));
    conn.on('payload', (p) => this.onPayload(p, loc));
    conn.on('error', () => undefined);
    conn.on('close', () => {
      this.tcpConns.delete(conn);
      if (this.closed) return;
      const resumeMs = this.opts.tcpResumeMs ?? TCP_RESUME_MS;
      const live = [...this.sessionsByHit.values()].filter((s) => s.locator.conn === conn && !s.clearText);
      // A base exchange (or a libhipl clear-text stream) lived on this connection: it ends with it.
      for (const s of [...this.sessionsByHit.values()]) if (s.locator.conn === conn && (s.clearText || resumeMs <= 0)) this.engine.abandon(s.peerHit);
      for (const hit of this.engine.associationsOn(loc.key)) {
        // Only associations on THIS connection: a new connection to the same address and port
        // (a reconnect right after disconnect()) has the same locator key and must live on.
        if ((this.engine.association(hit)?.locator as HostLocator | undefined)?.conn !== conn) continue;
        if (resumeMs <= 0 || !live.some((s) => s.peerHit === hit || formatHit(s.peerHit) === formatHit(hit))) this.engine.abandon(hit);
      }
      if (resumeMs > 0 && live.length > 0) void this.resumeTcp(conn, loc, live, resumeMs);
      this.pump();
    });
  }

  /**
   * A UDP carrier error. A send the system refused (ENETUNREACH, EACCES ...) is that peer's
   * failure, not the host's: the engine fails a BEX towards that address at once (one path for
   * every code, `engine.unreachable`), and the error the BEX rejects with names the system's code
   * and the locator. When the code says our route or address is gone, established peers also
   * hear our addresses soon (mobility). Only a failure of the socket itself is `'error'`.
   */
  private onUdpError(e: Error): void {
    const err = e instanceof HipError ? e : new HipError('ERR_TRANSPORT', String(e));
    if (err.code !== 'ERR_TRANSPORT_SEND') return void this.emit('error', err);
    this.count('send-error');
    const { address, port, osCode } = (err.details ?? {}) as { address?: string; port?: number; osCode?: unknown };
    if (this.closed || address === undefined || port === undefined) return;
    const os = typeof osCode === 'string' ? osCode : err.code;
    const key = udpLocator({ address, port, family: address.includes(':') ? 6 : 4 }).key;
    const refused = { osCode: os, locators: [`udp ${address}:${port}`] };
    for (const hit of this.engine.associationsOn(key)) this.refusedSends.set(formatHit(hit), refused);
    this.engine.unreachable(key, `the system refused to send to udp ${address}:${port} (${os})`);
    if (unreachableDestination(err) && !this.announceTimer) {
      this.announceTimer = setTimeout(() => {
        this.announceTimer = undefined;
        this.updateLocators();
      }, 500);
      this.announceTimer.unref();
    }
    this.pump();
    this.refusedSends.clear();
  }

  /**
   * Keep associations whose TCP connection broke: dial it again if we dialed it (and announce
   * ourselves with an UPDATE over the new one), else wait for the peer to come back. Whatever is
   * still on the dead connection after `budgetMs` ends.
   */
  private async resumeTcp(conn: TcpConnection, loc: HostLocator, sessions: Session[], budgetMs: number): Promise<void> {
    if (this.closed) return;
    if (this.dialed.has(conn)) {
      const fresh = await redial(conn.remote, budgetMs, (this.resuming ??= new AbortController()).signal);
      if (fresh && !this.closed) {
        this.adoptConnection(fresh);
        this.dialed.add(fresh);
        const newLoc = tcpLocator(fresh);
        const moved = sessions.filter((s) => this.sessionsByHit.get(formatHit(s.peerHit)) === s && this.engine.replaceLocator(s.peerHit, newLoc));
        for (const s of moved) s.locator = newLoc;
        const local = fresh.local;
        this.engine.updateLocators(announceAddresses(undefined, local.address, local.family), this.now(), moved.map((s) => s.peerHit));
        this.pump();
        // After the UPDATE: what the streams lost with the old connection goes out on the new one.
        for (const s of moved) this.streams.carrierReplaced(s);
        return;
      }
      if (fresh) fresh.destroy();
    } else {
      await new Promise<void>((r) => {
        const stop = (): void => {
          clearTimeout(t);
          this.resumeWaits.delete(stop);
          r();
        };
        const t = setTimeout(stop, budgetMs);
        t.unref();
        this.resumeWaits.add(stop);
      });
    }
    if (this.closed) return;
    for (const s of sessions) {
      if (this.engine.association(s.peerHit)?.locator.key === loc.key && this.sessionsByHit.get(formatHit(s.peerHit)) === s) this.engine.abandon(s.peerHit);
    }
    this.pump();
  }

  private onControl(packet: Uint8Array, from: HostLocator): void {
    if (this.closed) return;
    this.diagnostics.record('in', from, packet, true);
    if (this.stepping) {
      this.controlQueue.push({ packet: packet.slice(), from });
      this.emit('bexPending', { count: this.controlQueue.length });
      const w = this.controlWaiter;
      this.controlWaiter = undefined;
      w?.();
      return;
    }
    this.engine.handlePacket(packet, from, this.now());
    this.pump();
  }

  private onPayload(bytes: Uint8Array, from: HostLocator): void {
    if (!this.closed) this.data.receive(bytes, from);
  }

  /** Drain the engine: send its packets, act on its events, then re-arm the timer. */
  private pump(): void {
    for (let t = this.engine.pollTransmit(); t; t = this.engine.pollTransmit()) {
      const { to, packet } = t;
      const sent = this.diagnostics.capturing ? () => this.diagnostics.record('out', to, packet, true) : undefined;
      if (to.carrier === 'udp') this.udp?.sendHip(packet, to.peer, sent);
      else to.conn?.sendHip(packet, sent);
    }
    for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) this.onEngineEvent(e);
    this.schedule();
  }

  private onEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'bex':
        // Several per handshake: the event (and its HIT text) only for someone listening.
        if (this.listenerCount('bex') === 0) return;
        this.emit('bex', { step: e.step, packetType: e.packetType, peerHit: formatHit(e.peerHit), elapsedMs: e.elapsedMs, retransmission: e.retransmission });
        return;
      case 'established':
        return this.onEstablished(e);
      case 'failed': {
        const hit = formatHit(e.peerHit);
        this.endSession(hit, new HipProtocolError('ERR_HIP_BEX_FAILED', `association with ${hit} failed: ${e.reason}`));
        // A refused send (onUdpError) adds the system's code and the locator to the error.
        const refused = e.reason === 'unreachable' ? this.refusedSends.get(hit) : undefined;
        this.settle(hit, new HipProtocolError(`ERR_HIP_BEX_FAILED`, `base exchange with ${hit} failed: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`, { peerHit: hit, reason: e.reason, ...refused }));
        const ev: { peerHit: string; reason: FailureReason; detail?: string } = { peerHit: hit, reason: e.reason };
        if (e.detail !== undefined) ev.detail = e.detail;
        this.emit('failed', ev);
        return;
      }
      case 'closed': {
        const hit = formatHit(e.peerHit);
        // An orderly CLOSE (ours, the peer's, or the idle timer's) ends streams like a FIN; losing
        // the peer (no CLOSE_ACK, or the TCP connection dropped) fails them.
        const orderly = e.by === 'local' || e.by === 'peer' || e.by === 'idle';
        this.endSession(hit, orderly ? undefined : new HipProtocolError('ERR_HIP_CLOSED', `association with ${hit} lost (${e.by})`));
        this.settle(hit, new HipProtocolError('ERR_HIP_CLOSED', `association with ${hit} closed (${e.by})`));
        this.emit('closed', { peerHit: hit, by: e.by });
        return;
      }
      case 'peer-lost':
        return this.onPeerLost(e);
      case 'registration':
        this.emit('registration', registrationEvent(e));
        return;
      case 'notify':
        this.emit('notify', { peerHit: formatHit(e.peerHit), notifyType: e.notifyType, data: e.data, authentic: e.authentic });
        return;
      case 'dropped': {
        this.count(`engine:${e.reason}`);
        const ev: HostEvents['dropped'][0] = { reason: e.reason };
        if (e.packetType !== undefined) ev.packetType = e.packetType;
        if (e.peerHit !== undefined) ev.peerHit = formatHit(e.peerHit);
        if (e.detail !== undefined) ev.detail = e.detail;
        this.emit('dropped', ev);
        return;
      }
      case 'readdressed':
        this.sessionsByHit.get(formatHit(e.peerHit))?.readdressed();
        return;
      case 'locator':
      case 'rekeyed':
      case 'rekey-inbound':
      case 'path':
        return this.onPathEvent(e);
    }
  }

  private onEstablished(e: Extract<EngineEvent, { type: 'established' }>): void {
    const hit = formatHit(e.peerHit);
    this.endSession(hit);
    const loc = e.peerLocator as HostLocator;
    const clearText = e.version === 1 && this.opts.libhiplClearText === true;
    // HIPv1 peers may use hipd's 32-bit ESP integrity check (issue 13); HIPv2 always uses ESN.
    const espSequence = e.version === 1 ? (this.peers.get(hit)?.espSequence ?? this.opts.espSequenceV1 ?? 'esn') : 'esn';
    const s = new Session(e.peerHit, e.localHit, e.version, loc, e.sa, clearText, this.opts.replayWindow, this.opts.rekeyThreshold, espSequence);
    // The peer proved its identity: its TCP connection is no longer a stranger's (issue 8).
    loc.conn?.markVerified();
    this.sessionsByHit.set(hit, s);
    this.data.add(s);
    if (!clearText) this.diagnostics.writeKeylog(loc, e.sa);
    const q = this.queued.get(hit);
    this.queued.delete(hit);
    for (const d of q?.items ?? []) this.data.sendDatagram(s, d);
    this.streams.established(s);
    this.emit('established', this.info(s, e.elapsedMs, e.role));
    this.settle(hit);
  }

  /**
   * The peer stopped answering (restarted, state lost; see core/peer-loss.ts): streams fail as a
   * TCP connection to a rebooted host does, the BEX runs again to the same locator, and the
   * datagrams sent since the peer was last heard go out again once it is established.
   */
  private onPeerLost(e: Extract<EngineEvent, { type: 'peer-lost' }>): void {
    const hit = formatHit(e.peerHit);
    const resend = this.data.unheard.take(hit, e.lastHeard);
    this.endSession(hit, new HipProtocolError('ERR_HIP_PEER_LOST', `${hit} stopped answering (restarted, or gone): association dropped, base exchange started again`, { peerHit: hit }));
    let resending = 0;
    for (const d of resend) {
      try {
        this.enqueue(hit, d);
        resending++;
      } catch {
        break; // queueLimitBytes: the rest is lost, as it was before.
      }
    }
    this.emit('peerLost', { peerHit: hit, resending });
    const loc = e.locator as HostLocator;
    // A failure is reported by 'failed' (and to whoever waits for this peer).
    this.connect(hit, { via: { carrier: loc.carrier, address: loc.peer.address, port: loc.peer.port }, version: e.version }).catch(() => undefined);
  }

  private endSession(hit: string, error?: HipError): void {
    this.data.unheard.forget(hit);
    const s = this.sessionsByHit.get(hit);
    if (!s) return;
    this.sessionsByHit.delete(hit);
    this.data.remove(s);
    this.streams.peerGone(s, error);
    if (s.locator.carrier === 'tcp' && s.locator.conn) {
      const conn = s.locator.conn;
      // The TCP connection belongs to the association: close it once our CLOSE/ACK is out.
      setTimeout(() => conn.end(), 50).unref();
    }
  }

  private info(s: Session, elapsedMs: number, role?: 'initiator' | 'responder'): EstablishedInfo {
    return {
      peerHit: formatHit(s.peerHit),
      version: s.version,
      role: role ?? this.engine.association(s.peerHit)?.role ?? 'initiator',
      suite: s.sa.suite,
      carrier: s.locator.carrier,
      address: s.locator.peer.address,
      port: s.locator.peer.port,
      elapsedMs,
      espSequence: s.espSequence,
    };
  }

  private waitFor(hit: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(hit) ?? [];
      // The abort listener goes when the wait ends, however it ends: one signal may serve many
      // connects (as with node:net), and each would otherwise leave a listener on it.
      const p: Pending = {
        resolve: () => (signal?.removeEventListener('abort', abort), resolve()),
        reject: (e) => (signal?.removeEventListener('abort', abort), reject(e)),
      };
      const abort = (): void => {
        const l = this.waiting.get(hit);
        if (l) this.waiting.set(hit, l.filter((x) => x !== p));
        reject(new HipError('ERR_HIP_ABORTED', `connect to ${hit} aborted`));
      };
      list.push(p);
      this.waiting.set(hit, list);
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /**
   * Give up a BEX we started that has not finished in `ms`: its waiters fail with an error that
   * names the peer and where we looked for it, and the half-open association is dropped.
   */
  private armConnectTimer(hit: string, locator: HostLocator, ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    clearTimeout(this.connectTimers.get(hit));
    const timer = setTimeout(() => {
      this.connectTimers.delete(hit);
      if (this.closed || this.sessionsByHit.has(hit)) return;
      const where = `${locator.carrier} ${locator.peer.address}:${locator.peer.port}`;
      this.failBex(hit, new HipProtocolError('ERR_HIP_CONNECT_TIMEOUT', `no base exchange with ${hit} within ${ms} ms (tried ${where})`, { peerHit: hit, reason: 'timeout', locators: [where], timeoutMs: ms }), 'timeout');
    }, ms);
    timer.unref();
    this.connectTimers.set(hit, timer);
  }

  /** Fail a BEX in progress now: waiters get `err`, the association is dropped, 'failed' follows. */
  private failBex(hit: string, err: HipError, reason: FailureReason): void {
    this.settle(hit, err);
    const hitBytes = parseHit(hit);
    if (this.engine.association(hitBytes) && !this.sessionsByHit.has(hit)) {
      this.engine.abandon(hitBytes);
      this.pump();
    }
    this.emit('failed', { peerHit: hit, reason, detail: err.message });
  }

  private settle(hit: string, err?: HipError): void {
    clearTimeout(this.connectTimers.get(hit));
    this.connectTimers.delete(hit);
    const list = this.waiting.get(hit);
    if (!list) return;
    this.waiting.delete(hit);
    if (err) {
      this.queued.delete(hit);
      for (const p of list) p.reject(err);
    } else for (const p of list) p.resolve();
  }

  private schedule(): void {
    if (this.closed) return;
    const next = Math.min(this.engine.nextTimeout() ?? Infinity, this.streams.nextTimeout() ?? Infinity);
    // A timer that fires no later than `next` is kept: firing early is harmless (nothing is
    // due, and this runs again). Deadlines that move later with every packet (the idle timeout,
    // a delayed ACK the reply then cancels) cost a clearTimeout and a setTimeout per packet.
    if (this.timer && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const now = this.now();
      this.engine.handleTimeout(now);
      this.streams.handleTimeout(now);
      this.pump();
    }, Math.max(0, Math.ceil(next - this.now())));
    // Sockets keep a process alive, timers alone must not (a closed host must let it exit).
    this.timer.unref();
  }

  private count(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  private assertOpen(): void {
    if (this.closed) throw new HipProtocolError('ERR_HIP_HOST_CLOSED', 'the host is shut down');
  }
}

/** Let an ended connection close by itself (the peer's FIN); destroy it if that takes longer than `ms`. */
function lingerThenDestroy(c: TcpConnection, ms: number): void {
  const t = setTimeout(() => c.destroy(), ms);
  t.unref();
  c.once('close', () => clearTimeout(t));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

