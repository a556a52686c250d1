/**
 * The types of the host's interface: its options, what `connect` takes and gives, and its
 * events. Apart from host.ts, which holds the machinery.
 * @module
 */
import type { EngineOptions } from '../core/config.js';
import type { RegistrationRequest } from '../core/registration.js';
import type { BexStep, DropReason, FailureReason } from '../core/events.js';
import type { HostIdentity } from '../crypto/identity.js';
import type { HipError } from '../errors.js';
import type { EspSequenceMode } from '../esp/sa.js';
import type { HipHost } from './host.js';
import type { NatModeOptions } from './mobility.js';
import type { HostRegistrationEvent } from './registrations.js';
import type { PeerAddress } from './peer-table.js';
import type { StreamConfig } from './stream-protocol.js';

/** Options of {@link HipHost.create}. */
export interface HostOptions {
  /** The host identity. Default: a fresh ECDSA P-256 identity (not saved). */
  identity?: HostIdentity;
  /** Protocol engine options (versions, suites, puzzle, retransmission, UAL ...). */
  engine?: EngineOptions;
  /** Crypto provider. Default 'node'. The noble one is portable but its RSA and MODP are not constant time (the host warns). */
  provider?: 'node' | 'noble';
  /** UDP carrier to bind, or false for none. Default: an ephemeral port on 0.0.0.0. */
  udp?:
    | false
    | {
        /** Local address; default `'0.0.0.0'` (family 4) or `'::'` (family 6). */
        address?: string;
        /** Local port; 0 (the default) picks an ephemeral one. */
        port?: number;
        /** IP version; default: the family of `address`, else 4. */
        family?: 4 | 6;
      };
  /** TCP listener for incoming connections, or false (default) for none. */
  tcp?:
    | false
    | ({
        /** Local address; default `'0.0.0.0'` (family 4) or `'::'` (family 6). */
        address?: string;
        /** Local port; 0 (the default) picks an ephemeral one. */
        port?: number;
        /** IP version; default: the family of `address`, else 4. */
        family?: 4 | 6;
      } & TcpAdmissionOptions);
  /** Record every HIP and ESP packet sent or received into this pcap file. */
  pcap?: string;
  /** Append each ESP SA's keys to this file in Wireshark's esp_sa form. */
  keylog?: string;
  /** Bytes of application data queued per peer while its BEX runs. Default 1 MiB. */
  queueLimitBytes?: number;
  /**
   * Milliseconds a base exchange we start may take before connect() (and every send or stream
   * waiting for it) fails with `ERR_HIP_CONNECT_TIMEOUT`. Default 10 000: four I1s (at 0, 1, 3
   * and 7 s with the default backoff) ride out ordinary loss, and a peer that is down is reported
   * long before the engine's own retransmissions give up (about 47 s). 0 turns it off.
   */
  connectTimeoutMs?: number;
  /** ESP anti-replay window. Default 64. */
  replayWindow?: number;
  /**
   * Outbound ESP sequence number from which the host emits `rekey` (new keys are due).
   * Default 2^64 - 2^32, far enough below exhaustion for a rekey to complete.
   */
  rekeyThreshold?: bigint;
  /**
   * What the ESP integrity check covers of the sequence number in HIPv1 associations: `'esn'`
   * (the default, RFC 5202 §3.3.1: the 64-bit extended sequence number) or `'32bit'` (HIPL's
   * hipd: only the 32 bits on the wire; such an SA never goes past 2^32 - 1 packets, and starts
   * its replay window over after a readdress, when hipd restarts its counter). Both ends must
   * agree, or every ESP packet is dropped as `auth`. Per peer: `peers.add(hit, locator,
   * { espSequence })`. HIPv2 associations always use `'esn'`.
   */
  espSequenceV1?: EspSequenceMode;
  /**
   * INSECURE, for libhipl interop only: with HIPv1 peers, send and accept application data in
   * clear text on the carrier, as libhipl does (HIPV1-PROFILE 12). Default false.
   */
  libhiplClearText?: boolean;
  /** Stream tuning (segment size, windows, retransmission). */
  stream?: Partial<StreamConfig>;
  /**
   * NAT mode (HIPL's `hipconf daemon nat plain-udp`): UDP port 10500 unless `udp.port` says
   * otherwise, UDP-ENCAPSULATION offered and accepted (RFC 5770), keepalives on idle paths, path
   * liveness probes, and our address changes announced to every peer. Default false.
   */
  natMode?: boolean | NatModeOptions;
  /**
   * When the TCP connection under an established association breaks, the side that dialed it
   * dials again for up to this many ms and resumes the association with an UPDATE; the side that
   * accepted it waits as long. 0 ends the association at once. Default 15000.
   */
  tcpResumeMs?: number;
}

/**
 * How a host's TCP listener treats connections from peers whose base exchange has not completed
 * (strangers): each may hold a connection only so long, and only so many at once.
 */
export interface TcpAdmissionOptions {
  /** At most this many such connections; one more closes the oldest. Default 128. */
  maxUnverified?: number;
  /** A connection whose BEX has not completed this long after it was accepted is closed. Default 30 000 ms. */
  verifyTimeoutMs?: number;
  /**
   * A connection whose BEX has not completed and that, having sent something, then sends nothing
   * for this long is closed. Default 10 000 ms.
   */
  idleTimeoutMs?: number;
}

/** Options of {@link HipHost.connect}. */
export interface ConnectOptions {
  /** Where the peer is, instead of the peer table's first locator. */
  via?: PeerAddress;
  /** Protocol version. Default: the peer table's, else the HIT's own (v1 HITs → 1). */
  version?: 1 | 2;
  /** Abort the wait (and a TCP connect in progress). */
  signal?: AbortSignal;
  /** Overrides the host's `connectTimeoutMs` for a BEX this call starts. */
  timeoutMs?: number;
  /** TCP carrier only: the local port to connect from (libhipl's bound socket). */
  localPort?: number;
  /** TCP carrier only: the local address to connect from. */
  localAddress?: string;
  /**
   * The local port of the stream that asked for the association. In libhipl's clear-text TCP
   * mode the stream is the TCP connection, so that port becomes the carrier's local port.
   */
  streamLocalPort?: number;
  /** Ask the peer for a registration (RFC 8003) in this base exchange; see {@link HipHost.registerWith}. */
  register?: RegistrationRequest;
}

/** A BEX step as the host reports it. */
export interface HostBexEvent {
  /** Which BEX packet, and whether it went out or came in. */
  step: BexStep;
  /** HIP packet type of that packet. */
  packetType: number;
  /** Canonical HIT text of the peer (all-zero HIT text in an opportunistic I1's case). */
  peerHit: string;
  /** Milliseconds since this association's BEX started. */
  elapsedMs: number;
  /** True for a packet sent again (timer retransmission, or an R2 repeated for a repeated I2). */
  retransmission: boolean;
}

/** Facts about an established association. */
export interface EstablishedInfo {
  /** Canonical HIT text of the peer. */
  peerHit: string;
  /** HIP version the association speaks. */
  version: 1 | 2;
  /** Whether we started the base exchange or answered it. */
  role: 'initiator' | 'responder';
  /** ESP transform suite ID of the SA pair ({@link "hipl/wire"!EspSuite}). */
  suite: number;
  /** The carrier the association runs over. */
  carrier: 'udp' | 'tcp';
  /** The peer's IP address on that carrier. */
  address: string;
  /** The peer's port on that carrier. */
  port: number;
  /** Milliseconds the BEX took. */
  elapsedMs: number;
  /** What the ESP integrity check covers of the sequence number (`'32bit'`: hipd's form). */
  espSequence: EspSequenceMode;
}

/** Meta data of a received datagram. */
export interface DatagramInfo {
  /** Peer HIT text. */
  hit: string;
  /** The peer's (source) port. */
  port: number;
  /** Our (destination) port. */
  localPort: number;
  /** The peer's IP address: the locator its association runs over. */
  address: string;
  /** IP version of `address`. */
  family: 4 | 6;
}

/** Events of a {@link HipHost}. */
export interface HostEvents {
  /** Each base exchange packet sent or received (BEX feedback). */
  bex: [HostBexEvent];
  /** An association reached ESTABLISHED and its ESP SAs are installed. */
  established: [EstablishedInfo];
  /** A base exchange or an association failed. */
  failed: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** Why, as a stable code. */
      reason: FailureReason;
      /** Human-readable detail, for logs only. */
      detail?: string;
    }
  ];
  /** An association ended and its SAs were removed. */
  closed: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** Who ended it: we did, the peer did, the idle timer, a CLOSE that got no answer, or the carrier went away. */
      by: 'local' | 'peer' | 'idle' | 'timeout' | 'transport';
    }
  ];
  /** A NOTIFY arrived from a peer (informational; changes no state). */
  notify: [
    {
      /** Canonical HIT text of the sender. */
      peerHit: string;
      /** Notify message type ({@link "hipl/wire"!NotifyType}). */
      notifyType: number;
      /** Notification data, as sent. */
      data: Uint8Array;
      /** True when signed by the peer's known key; false when anyone could have sent it. */
      authentic: boolean;
    }
  ];
  /**
   * The engine dropped a received HIP packet (an I1 for a HIT that is not ours, one the
   * responder policy refused, a bad signature ...); also counted in the stats. For logs.
   */
  dropped: [
    {
      /** Why, as a stable code. */
      reason: DropReason;
      /** HIP packet type, when the header could be read. */
      packetType?: number;
      /** The sender's HIT text, when known. */
      peerHit?: string;
      /** Human-readable detail, for logs only. */
      detail?: string;
    },
  ];
  /** With BEX stepping on, a received control packet now waits for `stepBex()`. */
  bexPending: [
    {
      /** Control packets now waiting. */
      count: number;
    },
  ];
  /** The outbound ESP sequence number passed the rekey threshold: new keys are due. */
  rekey: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
    }
  ];
  /**
   * The peer's verified address changed (it moved, or its NAT rebound it): it answered a
   * return-routability check there, and all traffic now goes to `address`:`port`.
   */
  locator: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** The carrier. */
      carrier: 'udp' | 'tcp';
      /** The new address. */
      address: string;
      /** The new port. */
      port: number;
      /** The address used until now. */
      previousAddress: string;
      /** The port used until now. */
      previousPort: number;
    },
  ];
  /** New ESP keys are installed for a peer (UPDATE rekey finished). */
  rekeyed: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** The new inbound SPI. */
      localSpi: number;
      /** The new outbound SPI. */
      peerSpi: number;
    },
  ];
  /**
   * Liveness of the path to a peer: `dead` when a probe, announcement or rekey got no
   * acknowledgement after every retransmission; `alive` when the peer is heard again.
   */
  path: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** Dead, or alive again. */
      state: 'dead' | 'alive';
      /** Human-readable detail, for logs only. */
      detail?: string;
    },
  ];
  /**
   * A peer stopped answering although we sent it data (a loss probe went unacknowledged): it most
   * likely restarted and lost the association. Its streams fail with `ERR_HIP_PEER_LOST`, the
   * base exchange runs again, and the `resending` datagrams sent since it was last heard go out
   * again once it is established (`established` follows, or `failed`).
   */
  peerLost: [
    {
      /** Canonical HIT text of the peer. */
      peerHit: string;
      /** Datagrams that will be sent again on the new association. */
      resending: number;
    },
  ];
  /** A carrier error not tied to one association (e.g. the UDP socket failed). */
  error: [HipError];
  /** A registration (RFC 8003) was granted, refused or cancelled, as registrar or as requester. */
  registration: [HostRegistrationEvent];
}
