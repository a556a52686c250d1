/**
 * What the libhipl-style API remembers between calls: the library settings, the HIT-to-address
 * table, and one record per socket id with the HipHost it runs on.
 *
 * libhipl keeps one default host identity and one kernel socket per id. Here each id runs on its
 * own {@link HipHost} (an accepted stream shares its listener's), bound to the socket's own
 * address and port, so the carrier ports are the application's ports exactly as in libhipl.
 * @module
 */
import type { EngineOptions } from '../core/config.js';
import { HostIdentity } from '../crypto/identity.js';
import { HipHost, type HostBexEvent, type HostOptions } from '../host/host.js';
import type { HostStream } from '../host/stream-mux.js';
import { canonicalHit } from '../host/peer-table.js';
import { Errno, HIPL_LIB_LOG_NONE, SOCK_DGRAM, type HiplLibLogLevel } from './constants.js';
import { errnoOf } from './errno-map.js';
import { pendingControlPackets } from './host-adapter.js';
import { HiplLogger } from './log.js';

const ZERO_HIT = '::';

/** One received datagram waiting for `hiplRecvfrom`. */
export interface RxDatagram {
  /** Payload. */
  data: Uint8Array;
  /** Sender HIT text. */
  hit: string;
  /** Sender port. */
  port: number;
}

/** The end of a datagram socket's association with one peer (its CLOSE), in arrival order. */
export interface RxEnd {
  /** Always true. */
  eof: true;
  /** The peer whose association closed. */
  hit: string;
}

/** What a socket is doing. */
export type SockRole = 'new' | 'bound' | 'listening' | 'connecting' | 'connected' | 'accepted';

/**
 * A HipHost shared by the sockets that use it, with the bookkeeping for BEX feedback: the host
 * processes received control packets one per call while a socket drives a BEX step by step.
 */
export class HostRef {
  /** Sockets using the host; it shuts down when the last one closes. */
  readonly sockets = new Set<HiplSock>();
  /** Peer HITs whose BEX a socket of this host started and has not yet seen through. */
  readonly driving = new Set<string>();
  /** An association of this host has been established at least once. */
  hadEstablished = false;
  /** Whether the host currently holds control packets back for steps. */
  stepping = false;

  constructor(readonly host: HipHost) {}
}

/** The state behind one libhipl socket id. */
export class HiplSock {
  /** Non-blocking mode (hiplLibSetNonblock). */
  nonblock = false;
  /** Address given to hiplBind. */
  bindAddr: { address: string; port: number; family: 4 | 6 } | undefined;
  /** What the socket does. */
  role: SockRole = 'new';
  /** The host this socket runs on, once it needs one. */
  ref: HostRef | undefined;
  /** Set by hiplClose. */
  closed = false;
  /** The peer this socket exchanges data with (UDP: the first association; TCP: the connected peer). */
  peerHit: string | undefined;
  /** Errno of a failed BEX or connect, handed out once by the next call. */
  failure: number | undefined;
  /** UDP: datagrams and end-of-association markers in arrival order. */
  readonly rx: (RxDatagram | RxEnd)[] = [];
  /** UDP: every peer this socket sent to or received from; each one's CLOSE is reported. */
  readonly peers = new Set<string>();
  /** UDP: the peer set by hiplConnect, used when hiplSendto names none. */
  defaultPeer: { hit: string; port: number } | undefined;
  /** TCP: the stream, once there is one. */
  stream: HostStream | undefined;
  /** TCP: bytes read from the stream but not yet handed out. */
  rxLeft: Uint8Array | undefined;
  /** TCP: the peer ended its direction. */
  eof = false;
  /** TCP: writes given before an accepted socket's stream exists. */
  readonly pendingWrites: Uint8Array[] = [];
  /** TCP: the peer given to hiplConnect. */
  connect: { hit: string; port: number } | undefined;
  /** Accepted socket: its listener. */
  listener: HiplSock | undefined;
  /** Listener: streams that arrived and wait for hiplAccept. */
  readonly readyStreams: HostStream[] = [];
  /** Listener: the port streams are accepted on. */
  listenPort: number | undefined;
  /** UDP: the datagram port bound on the host. */
  datagramPort: number | undefined;
  /** UDP: the host being created (so concurrent calls create one). */
  starting: Promise<number> | undefined;

  private readonly waiters = new Set<() => void>();

  constructor(
    /** The id handed to the program (0 for an accepted stream until hiplAccept returns it). */
    public id: number,
    /** AF_INET or AF_INET6. */
    readonly domain: number,
    /** SOCK_DGRAM or SOCK_STREAM. */
    readonly type: number,
    /** IPPROTO_UDP or IPPROTO_TCP. */
    readonly protocol: number,
    /** Identity given to hiplSocket, else the library default. */
    readonly identity: HostIdentity | undefined,
  ) {}

  /** Datagram socket? */
  get isDgram(): boolean {
    return this.type === SOCK_DGRAM;
  }

  /** Wake whoever waits for this socket's state to change. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Call `cb` on every change until the returned function is called. */
  onChange(cb: () => void): () => void {
    this.waiters.add(cb);
    return () => this.waiters.delete(cb);
  }
}

/** Library-wide settings and tables. */
export class LibState {
  /** hiplLibInitAll has run. */
  initialized = false;
  /** BEX feedback switch (hiplLibSetBexFeedback). */
  feedback = false;
  /** Protocol version of every host created from now on. */
  version: 1 | 2 = 2;
  /** Default identity of sockets created without one. */
  identity: HostIdentity | undefined;
  /** Engine options of every host. */
  engine: EngineOptions = {};
  /** Extra host options (pcap, keylog ...) of every host. */
  hostOptions: Partial<HostOptions> = {};
  /** How long hiplClose waits for a CLOSE_ACK before it lets go. */
  closeGraceMs = 250;
  /** Logger. */
  readonly log = new HiplLogger();
  /** hiplAddPeerInfo: canonical HIT → IP addresses. */
  readonly peerInfo = new Map<string, string[]>();
  /** Open sockets by id. */
  readonly sockets = new Map<number, HiplSock>();
  private nextId = 1;

  /** Reset to a fresh library (level and options of hiplLibInitAll). */
  configure(level: HiplLibLogLevel): void {
    this.initialized = true;
    this.log.level = level;
  }

  /** The default identity, created on first use. */
  defaultIdentity(): HostIdentity {
    if (!this.identity) this.identity = HostIdentity.generate(this.version === 1 ? { algorithm: 'rsa', rsaBits: 2048 } : {});
    return this.identity;
  }

  /** A new id: small integers from 1, like libhipl's, reused only after 65535. */
  allocateId(): number {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffff ? 1 : this.nextId + 1;
      if (!this.sockets.has(id)) return id;
    }
    return -1;
  }

  /** Ensure `hiplLibInitAll` defaults apply when a program skipped it. */
  ensureInit(): void {
    if (!this.initialized) this.configure(HIPL_LIB_LOG_NONE);
  }

  /** Create the host a socket runs on, wired to its sockets' state. */
  async createHost(sock: HiplSock, carriers: Pick<HostOptions, 'udp' | 'tcp'>): Promise<HostRef> {
    const identity = sock.identity ?? this.defaultIdentity();
    const host = await HipHost.create({
      ...this.hostOptions,
      identity,
      engine: { ...this.engine, version: this.version },
      libhiplClearText: this.version === 1,
      ...carriers,
    });
    const ref = new HostRef(host);
    const where = [host.udpAddress && `udp ${host.udpAddress.address}:${host.udpAddress.port}`, host.tcpAddress && `tcp ${host.tcpAddress.address}:${host.tcpAddress.port}`].filter(Boolean).join(', ');
    this.log.debug(`socket ${sock.id}: host ${host.hit(this.version)} on ${where || 'no listening carrier'}`);
    this.attach(ref, sock);
    this.wire(ref);
    this.updateStepping(ref);
    return ref;
  }

  /** Add a socket to a host's users. */
  attach(ref: HostRef, sock: HiplSock): void {
    ref.sockets.add(sock);
    sock.ref = ref;
  }

  /** Remove a socket from its host; shut the host down when no socket uses it any more. */
  async release(sock: HiplSock): Promise<void> {
    const ref = sock.ref;
    sock.ref = undefined;
    if (!ref) return;
    ref.sockets.delete(sock);
    if (ref.sockets.size === 0) await ref.host.shutdown(this.closeGraceMs);
  }

  /**
   * Stepping is on while feedback is on and a socket of the host still has a BEX to see
   * through: before its first association, or while it drives one it started.
   */
  updateStepping(ref: HostRef): void {
    const want = this.feedback && (!ref.hadEstablished || ref.driving.size > 0);
    if (want === ref.stepping) return;
    ref.stepping = want;
    ref.host.setBexStepping(want);
  }

  /** Apply the feedback switch to every host. */
  updateAllStepping(): void {
    for (const ref of this.refs()) this.updateStepping(ref);
  }

  /** Every live host. */
  refs(): Set<HostRef> {
    const out = new Set<HostRef>();
    for (const s of this.sockets.values()) if (s.ref) out.add(s.ref);
    return out;
  }

  /**
   * Whether a received control packet waits for a step on the socket's host: 'yes', 'no', or
   * 'unknown' when the host does not tell.
   */
  controlWaiting(sock: HiplSock): 'yes' | 'no' | 'unknown' {
    const ref = sock.ref;
    if (!ref || !ref.stepping) return 'no';
    const n = pendingControlPackets(ref.host);
    if (n === undefined) return 'unknown';
    return n > 0 ? 'yes' : 'no';
  }

  /** Learn the peer of the sockets that do not know theirs from BEX steps. */
  learnPeer(sock: HiplSock, steps: readonly HostBexEvent[]): void {
    if (sock.peerHit) return;
    for (const e of steps) {
      if (e.peerHit !== ZERO_HIT) {
        sock.peerHit = canonicalHit(e.peerHit);
        return;
      }
    }
  }

  private wire(ref: HostRef): void {
    const host = ref.host;
    const wake = () => {
      for (const s of ref.sockets) s.notify();
    };
    host.on('bex', (e) => {
      this.log.info(`BEX ${e.step} ${e.retransmission ? '(retransmission) ' : ''}peer ${e.peerHit} after ${e.elapsedMs.toFixed(1)} ms`);
      // A datagram socket owns its host alone: every step is its own.
      for (const s of ref.sockets) if (s.isDgram) this.learnPeer(s, [e]);
      wake();
    });
    // A control packet now waits for a feedback step: select() and blocked calls look again.
    host.on('bexPending', wake);
    host.on('established', (e) => {
      this.log.info(`association with ${e.peerHit} established (HIPv${e.version}, ${e.role}, ${e.carrier} ${e.address}:${e.port})`);
      ref.hadEstablished = true;
      // After the step that established it (never inside it: one packet per step).
      queueMicrotask(() => this.updateStepping(ref));
      wake();
    });
    host.on('failed', (e) => {
      this.log.error(`BEX with ${e.peerHit} failed: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`);
      ref.driving.delete(e.peerHit);
      const errno = e.reason === 'timeout' ? Errno.ETIMEDOUT : e.reason === 'unreachable' ? Errno.EHOSTUNREACH : Errno.ECONNREFUSED;
      for (const s of ref.sockets) {
        if (s.peerHit === e.peerHit || (s.isDgram && s.peers.has(e.peerHit)) || (s.connect && canonicalHit(s.connect.hit) === e.peerHit)) {
          s.failure = errno;
          if (s.isDgram) {
            if (s.peerHit === e.peerHit) s.peerHit = undefined;
            s.peers.delete(e.peerHit);
          }
        }
      }
      queueMicrotask(() => this.updateStepping(ref));
      wake();
    });
    host.on('closed', (e) => {
      this.log.info(`association with ${e.peerHit} closed (${e.by})`);
      ref.driving.delete(e.peerHit);
      for (const s of ref.sockets) {
        if (!s.isDgram || !(s.peers.has(e.peerHit) || s.peerHit === e.peerHit)) continue;
        s.peers.delete(e.peerHit);
        if (e.by !== 'local') s.rx.push({ eof: true, hit: e.peerHit });
      }
      wake();
    });
    host.on('error', (e) => {
      this.log.error(`${e.code}: ${e.message}`);
      wake();
    });
  }
}

/** The one library state of this process (libhipl's globals). */
export const lib = new LibState();

/** Errno of any error, for a call that must not throw. */
export function toErrno(e: unknown): number {
  return -errnoOf(e);
}
