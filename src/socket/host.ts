/**
 * createHost and HiplHost: the Node-style face of a HIP host. One identity, its carriers, and
 * factories for datagram sockets, streams and servers that name peers by HIT.
 * @module
 */
import type { EngineOptions } from '../core/config.js';
import type { BexStep } from '../core/events.js';
import type { HostIdentity } from '../crypto/identity.js';
import { HipArgumentError, HipError, HipProtocolError } from '../errors.js';
import { HipHost, type EstablishedInfo, type HostEvents, type HostOptions, type TcpAdmissionOptions } from '../host/host.js';
import { canonicalHit, type PeerEntry, type PeerTable } from '../host/peer-table.js';
import type { NatModeOptions } from '../host/mobility.js';
import type { SessionStats } from '../host/session.js';
import type { CarrierPeer } from '../transport/index.js';
import { packetTypeName } from '../wire/constants.js';
import { HiplSocket, type HiplUser } from './datagram.js';
import { NodeEmitter } from './emitter.js';
import { attachLog, nodeDebugLog, type HiplLog } from './log.js';
import { HiplServer, type HiplStream } from './server.js';

/** Where a carrier binds. */
export interface CarrierBindOptions {
  /** Local address; default all interfaces (`0.0.0.0`, or `::` for family 6). */
  address?: string;
  /** Local port; default 0, an ephemeral one. */
  port?: number;
  /** IP version; default that of `address`, else 4. */
  family?: 4 | 6;
}

/** The bound carrier addresses of a host. */
export interface HiplAddresses {
  /** The UDP carrier, if the host has one. */
  udp?: CarrierPeer;
  /** The TCP listener, if the host has one. */
  tcp?: CarrierPeer;
}

/** Where a peer's carrier is, for {@link HiplConnectOptions.via}. */
export interface HiplVia {
  /** `'udp'` (default) or `'tcp'`. */
  carrier?: 'udp' | 'tcp';
  /** The peer's IP address. */
  address: string;
  /** The peer's carrier port. */
  port: number;
}

/** Options of {@link createHost}. */
export interface CreateHostOptions {
  /** The host's identity. Default: a fresh ECDSA P-256 identity (not saved anywhere). */
  identity?: HostIdentity;
  /**
   * UDP carrier: where HIP and ESP packets are sent and received. Default: an ephemeral port on
   * all interfaces. `false` for none (TCP only).
   */
  udp?: false | CarrierBindOptions;
  /**
   * TCP listener for peers that connect over TCP. Default none. The admission limits bound what
   * strangers (peers whose BEX has not completed) can hold.
   */
  tcp?: false | (CarrierBindOptions & TcpAdmissionOptions);
  /**
   * libhipl's clear-text mode: talk HIPv1 to HIPL's libhipl, with application data in CLEAR
   * TEXT on the carrier, as libhipl sends it (ORCHIDv1 HITs; needs an RSA identity).
   * INSECURE: anyone on the path reads and can alter the data. Default false.
   */
  libhiplClearText?: boolean;
  /**
   * Old name of {@link libhiplClearText}.
   * @deprecated Use `libhiplClearText`.
   * @internal
   */
  libhipl?: boolean;
  /** Record every HIP and ESP packet into this pcap file (for Wireshark). */
  pcap?: string;
  /** Append each ESP SA's keys to this file, in Wireshark's esp_sa format (see `SSLKEYLOGFILE`). */
  keylog?: string;
  /** Protocol engine options (suites, puzzle difficulty, retransmission, responder policy ...). */
  engine?: EngineOptions;
  /** Crypto provider. Default 'node'. */
  provider?: 'node' | 'noble';
  /** Bytes of data queued per peer while its BEX runs. Default 1 MiB. */
  queueLimitBytes?: number;
  /**
   * Milliseconds a base exchange may take before the connect, send or stream waiting for it fails
   * with `ERR_HIP_CONNECT_TIMEOUT` (naming the HIT and the locator tried). Default 10 000: four
   * I1s ride out ordinary loss, and a peer that is down is reported long before the protocol's
   * own retransmissions give up (about 47 s). 0 turns it off.
   */
  connectTimeoutMs?: number;
  /**
   * NAT mode (HIPL's `hipconf daemon nat plain-udp`): UDP port 10500 unless `udp.port` is given,
   * UDP-ENCAPSULATION, keepalives on idle paths, liveness probes, moves announced to peers.
   * See README "Behind a NAT". Default false.
   */
  natMode?: boolean | NatModeOptions;
  /**
   * Where to write a line for each BEX step, association change, failure and dropped HIP
   * packet. Default: `util.debuglog('hipl')`, which prints to stderr when the environment has
   * `NODE_DEBUG=hipl`.
   */
  log?: HiplLog;
  /**
   * ESP integrity check of HIPv1 associations: `'esn'` (default, RFC 5202) or `'32bit'` for
   * HIPL's hipd (see `HostOptions.espSequenceV1`).
   */
  espSequenceV1?: 'esn' | '32bit';
}

/** A step of the base exchange, as {@link HiplHost} reports it. */
export interface HiplBexEvent {
  /** Which step: `'i1-sent'`, `'r1-received'`, ... */
  step: BexStep;
  /** HIP packet type number of the packet sent or received. */
  packetType: number;
  /** Its name: `'I1'`, `'R1'`, `'I2'`, `'R2'`. */
  packetName: string;
  /** The peer's HIT. */
  peerHit: string;
  /** Milliseconds since this BEX started. */
  elapsedMs: number;
  /** Whether the packet is a retransmission. */
  retransmission: boolean;
}

/** Events of a {@link HiplHost}. */
export interface HiplHostEvents {
  /** Each BEX step, as it happens. */
  bex: [HiplBexEvent];
  /** An association is established: data may flow. */
  established: [EstablishedInfo];
  /** A peer's verified address changed (it moved or was rebound, and answered a check there). */
  locator: HostEvents['locator'];
  /** New ESP keys are in use with a peer. */
  rekeyed: HostEvents['rekeyed'];
  /** The path to a peer stopped answering (`dead`), or answers again (`alive`). */
  path: HostEvents['path'];
  /**
   * A peer we sent data to stopped answering, even a probe: it most likely restarted and lost
   * the association. Its streams fail (`ERR_HIP_PEER_LOST`), the base exchange runs again, and
   * the datagrams sent since it was last heard are sent again once it is back (README: "When a
   * peer restarts").
   */
  peerLost: HostEvents['peerLost'];
  /**
   * An association ended: CLOSE sent or received, idle, timed out, or its TCP carrier broke.
   * (Named for what it is; `'close'` is the host's own end, as everywhere in Node.)
   */
  disconnect: HostEvents['closed'];
  /**
   * A base exchange failed: `ERR_HIP_BEX_FAILED` with `details.peerHit` and `details.reason`
   * (`'timeout'` also when `connectTimeoutMs` expired, `'unreachable'` when the system refused
   * to send). Informational: the send, stream or connect that asked for it gets its own error,
   * so an unheard `'failed'` is not thrown.
   */
  failed: [HipError];
  /**
   * A carrier failed (e.g. the UDP socket). As with every Node emitter, an `'error'` nobody
   * listens to is thrown.
   */
  error: [HipError];
  /** The host closed: every socket, server and stream of it is closed, the carriers too. */
  close: [];
}

/** Options of {@link HiplHost.connect}. */
export interface HiplConnectOptions {
  /** The peer's HIT. */
  hit: string;
  /** The peer's stream port. */
  port: number;
  /** Where the peer's carrier is (added to the peer table). Default: the peer table's entry. */
  via?: HiplVia;
  /** Our stream port. Default: a free one. */
  localPort?: number;
  /** Aborts the connection attempt (the stream is destroyed with `ERR_HIP_ABORTED`). */
  signal?: AbortSignal;
}

/**
 * Create a host: bind its carriers and get ready to talk to peers by HIT.
 *
 * @throws HipTransportError `ERR_TRANSPORT_BIND` when a carrier cannot bind; HipArgumentError
 *   `ERR_HIP_BAD_OPTION` naming the option for a bad option.
 * @example
 * ```ts
 * import { createHost, HostIdentity } from 'hipl';
 *
 * const host = await createHost({ identity: await HostIdentity.load('host.pem'), udp: { port: 10500 } });
 * console.log('my HIT', host.hit);
 * host.peers.add(peerHit, { address: '192.0.2.7', port: 10500 });
 * const stream = host.connect({ hit: peerHit, port: 7 });
 * stream.end('hello');
 * ```
 */
export async function createHost(options: CreateHostOptions = {}): Promise<HiplHost> {
  const clearText = (options.libhiplClearText ?? options.libhipl) === true;
  const hostOptions: HostOptions = {
    libhiplClearText: clearText,
  };
  if (options.identity) hostOptions.identity = options.identity;
  if (options.udp !== undefined) hostOptions.udp = options.udp;
  if (options.tcp !== undefined) hostOptions.tcp = options.tcp;
  if (options.pcap) hostOptions.pcap = options.pcap;
  if (options.keylog) hostOptions.keylog = options.keylog;
  if (options.engine) hostOptions.engine = options.engine;
  if (options.provider) hostOptions.provider = options.provider;
  if (options.queueLimitBytes !== undefined) hostOptions.queueLimitBytes = options.queueLimitBytes;
  if (options.connectTimeoutMs !== undefined) hostOptions.connectTimeoutMs = options.connectTimeoutMs;
  if (options.natMode !== undefined) hostOptions.natMode = options.natMode;
  if (options.espSequenceV1 !== undefined) hostOptions.espSequenceV1 = options.espSequenceV1;
  const core = await HipHost.create(hostOptions);
  const log = options.log ?? nodeDebugLog();
  if (log) attachLog(core, log);
  return new HiplHost(core, clearText);
}

/**
 * A HIP host, the Node way: datagram sockets, streams and servers that name peers by HIT, and
 * an event for every step of every base exchange.
 */
export class HiplHost extends NodeEmitter<HiplHostEvents> {
  private closing: Promise<void> | undefined;
  private readonly users = new Set<HiplUser>();
  private isRefed = true;

  /** @internal Use {@link createHost}. */
  constructor(
    /** The host underneath, for what this face does not show (stepping, stats, engine). */
    readonly core: HipHost,
    private readonly libhipl: boolean,
  ) {
    super();
    core.on('bex', (e) => this.emit('bex', { ...e, packetName: packetTypeName(e.packetType) }));
    core.on('established', (e) => this.emit('established', e));
    core.on('closed', (e) => this.emit('disconnect', e));
    core.on('failed', (e) => {
      const detail = e.detail ? ` (${e.detail})` : '';
      this.emit('failed', new HipProtocolError('ERR_HIP_BEX_FAILED', `base exchange with ${e.peerHit} failed: ${e.reason}${detail}`, { peerHit: e.peerHit, reason: e.reason }));
    });
    core.on('error', (e) => this.emit('error', e));
    core.on('locator', (e) => this.emit('locator', e));
    core.on('rekeyed', (e) => this.emit('rekeyed', e));
    core.on('path', (e) => this.emit('path', e));
    core.on('peerLost', (e) => this.emit('peerLost', e));
  }

  /** The host's identity. */
  get identity(): HostIdentity {
    return this.core.identity;
  }

  /** Our HIT: ORCHIDv2, or ORCHIDv1 for a `libhiplClearText` host. */
  get hit(): string {
    return this.core.hit(this.libhipl ? 1 : 2);
  }

  /**
   * The peer-info table: which address each HIT is reached at. `add(hit, { address, port,
   * carrier })`, `remove(hit)`, `list()`, `get(hitOrName)`, and `loadHostsFile(path, { port })`
   * for HIPL's hosts-file format.
   */
  get peers(): PeerTable {
    return this.core.peers;
  }

  /** Bound carrier addresses. */
  address(): HiplAddresses {
    const out: HiplAddresses = {};
    if (this.core.udpAddress) out.udp = this.core.udpAddress;
    if (this.core.tcpAddress) out.tcp = this.core.tcpAddress;
    return out;
  }

  /**
   * Read a HIPL hosts file ("HIT name" and "IP name" lines) into the peer table: each name with
   * both lines maps its HIT to its addresses at `port`. Resolves the entries added.
   *
   * @throws Error from node:fs when the file cannot be read; HipArgumentError for a bad port.
   */
  async loadHostsFile(path: string, defaults: { port: number; carrier?: 'udp' | 'tcp' }): Promise<PeerEntry[]> {
    return this.peers.loadHostsFile(path, defaults);
  }

  /**
   * A datagram socket.
   *
   * @example
   * ```ts
   * const sock = host.createSocket('udp');
   * sock.on('message', (data, from) => console.log(from.hit, from.port, data.toString()));
   * await sock.bind(7);
   * ```
   */
  createSocket(type: 'udp'): HiplSocket {
    if (type !== 'udp') throw new HipError('ERR_HIP_INVALID_ARGUMENT', `unknown socket type ${String(type)}: only 'udp'`);
    this.assertOpen();
    return new HiplSocket(this);
  }

  /**
   * Open a byte stream to `hit`:`port`, running the BEX first if needed. Returns at once; the
   * stream emits `'connect'` once the association is up, and data written before is sent then
   * (it rides on the stream's SYN). A port nobody listens on ends the stream with `'error'`
   * `ERR_HIP_STREAM_REFUSED`, after `'connect'`.
   *
   * @throws HipArgumentError `ERR_HIP_INVALID_ARGUMENT` (no options), `ERR_HIP_INVALID_HIT`, `ERR_HIP_INVALID_PORT`,
   *   `ERR_HIP_INVALID_ADDRESS` synchronously; later failures arrive as the stream's `'error'`
   *   (`ERR_HIP_BEX_FAILED`, `ERR_HIP_NO_LOCATOR`, `ERR_HIP_ABORTED`, `ERR_HIP_STREAM_REFUSED` ...).
   * @example
   * ```ts
   * const ac = new AbortController();
   * const s = host.connect({ hit: peerHit, port: 7, signal: ac.signal });
   * s.on('connect', () => s.end('hello'));
   * s.on('data', (d) => console.log(d.toString(), 'from', s.remoteHit));
   * ```
   */
  connect(options: HiplConnectOptions): HiplStream {
    if (options === null || typeof options !== 'object') {
      throw new HipArgumentError('ERR_HIP_INVALID_ARGUMENT', 'connect() needs options: { hit, port }', { options });
    }
    const hit = canonicalHit(options.hit);
    if (options.via) this.peers.add(hit, options.via);
    if (options.signal?.aborted) throw new HipError('ERR_HIP_ABORTED', `connect to ${hit} aborted`);
    const stream = this.core.openStream(hit, options.port, options.localPort === undefined ? {} : { localPort: options.localPort });
    let connected = false;
    stream.once('connect', () => {
      connected = true;
    });
    if (this.libhipl) {
      // A libhipl peer's stream is its TCP connection: open once the association is.
      const onEst = (e: EstablishedInfo) => {
        if (e.peerHit !== hit) return;
        this.core.off('established', onEst);
        if (!connected) stream.emit('connect');
      };
      this.core.on('established', onEst);
      stream.once('close', () => this.core.off('established', onEst));
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        if (!connected && !stream.destroyed) stream.destroy(new HipError('ERR_HIP_ABORTED', `connect to ${hit} aborted`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  /**
   * A stream server; `onConnection` (optional) handles each `'connection'`.
   *
   * @example
   * ```ts
   * const server = host.createServer((s) => s.pipe(s));
   * await server.listen(7);
   * ```
   */
  createServer(onConnection?: (stream: HiplStream) => void): HiplServer {
    this.assertOpen();
    return new HiplServer(this, onConnection);
  }

  /** Whether an association with `hit` is established. */
  isEstablished(hit: string): boolean {
    return this.core.isEstablished(hit);
  }

  /** Traffic counters of the association with `hit`, if any. */
  stats(hit: string): SessionStats | undefined {
    return this.core.associationStats(hit);
  }

  /**
   * We moved (new address or NAT mapping): tell every peer with an UPDATE; each checks that we
   * answer there before it follows. NAT mode does this by itself when the address set changes.
   */
  updateLocators(addresses?: string[]): void {
    this.core.updateLocators(addresses);
  }

  /** New ESP keys with `hit` (`dh: true`: a new DH secret too); resolves once both sides use them. */
  rekey(hit: string, opts: { dh?: boolean } = {}): Promise<void> {
    return this.core.rekey(hit, opts);
  }

  /**
   * Close the association with `hit` (CLOSE / CLOSE_ACK); resolves when it is gone, or after
   * `graceMs` (default 1000) without a CLOSE_ACK (a peer that restarted or vanished): it is then
   * dropped here, `'disconnect'` by `'timeout'`.
   */
  async disconnect(hit: string, graceMs = 1000): Promise<void> {
    await this.core.close(hit, { graceMs });
  }

  /**
   * Close the host: its sockets and servers close, every association is closed (waiting at most
   * `graceMs` for the CLOSE_ACKs), every stream still open is destroyed (`'close'`, as closing a
   * net.Server's sockets), then the carriers; `'close'` follows. Idempotent.
   */
  close(graceMs = 1000): Promise<void> {
    this.closing ??= (async () => {
      for (const u of [...this.users]) u.close();
      await this.core.shutdown(graceMs);
      this.emit('close');
    })();
    return this.closing;
  }

  /** `await using host = await createHost()`: closes the host at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Keep the process alive while the host is open (the default), as net.Server's `ref()`. */
  ref(): this {
    this.isRefed = true;
    this.refChanged();
    return this;
  }

  /**
   * Let the process exit while the host is open, as net.Server's `unref()`: its carriers and
   * connections no longer keep the event loop alive.
   */
  unref(): this {
    this.isRefed = false;
    this.refChanged();
    return this;
  }

  /** @internal The port datagram sockets must bind in libhipl mode. */
  get libhiplPort(): number | undefined {
    return this.libhipl ? this.core.udpAddress?.port : undefined;
  }

  /** @internal */
  track(user: HiplUser): void {
    this.users.add(user);
    this.refChanged();
  }

  /** @internal */
  untrack(user: HiplUser): void {
    this.users.delete(user);
    this.refChanged();
  }

  /**
   * @internal The carriers keep the process alive while the host is referenced and, once it
   * has sockets or servers, while one of them is.
   */
  refChanged(): void {
    const users = [...this.users];
    const want = this.isRefed && (users.length === 0 || users.some((u) => u.refed));
    if (want) this.core.ref();
    else this.core.unref();
  }

  private assertOpen(): void {
    if (this.closing) throw new HipError('ERR_HIP_HOST_CLOSED', 'the host is closed');
  }
}
