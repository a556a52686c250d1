/**
 * What the engine tells its driver: packets to send and events. Plain data, no I/O.
 * @module
 */
import type { RegistrationOutcome } from './registration.js';

/**
 * Where a peer can be reached. Opaque to the engine: the host layer puts its transport details
 * (carrier, address, port) in an object that carries a stable `key`; the engine only compares
 * keys, mixes them into puzzle secrets and hands the object back in {@link Transmit}.
 */
export interface PeerLocator {
  /** Stable text that identifies the locator, e.g. `udp:127.0.0.1:22300`. */
  readonly key: string;
}

/** A packet the driver must send. */
export interface Transmit<L extends PeerLocator = PeerLocator> {
  /** Destination locator, one the driver gave the engine. */
  to: L;
  /** The HIP packet, without any carrier framing (no zero marker, checksum field 0). */
  packet: Uint8Array;
  /** HIP packet type, for logs and pcap annotations. */
  packetType: number;
  /** HIP version of the packet. */
  version: 1 | 2;
}

/** One step of the base exchange, as shown by the BEX feedback API. */
export type BexStep =
  | 'i1-sent'
  | 'i1-received'
  | 'r1-sent'
  | 'r1-received'
  | 'i2-sent'
  | 'i2-received'
  | 'r2-sent'
  | 'r2-received';

/** Why a base exchange or an association failed. */
export type FailureReason =
  | 'timeout'
  | 'dh-downgrade'
  | 'no-common-dh-group'
  | 'no-common-cipher'
  | 'no-common-esp-transform'
  | 'unsupported-hit-suite'
  | 'puzzle-unsolved'
  | 'peer-notify'
  | 'hit-mismatch'
  | 'bad-signature'
  | 'unsupported-version'
  | 'update-timeout'
  | 'unreachable';

/** Why the engine dropped a packet (each reason has a counter in `engine.stats.dropped`). */
export type DropReason =
  | 'malformed'
  | 'unknown-critical-parameter'
  | 'unsupported-version'
  | 'wrong-receiver-hit'
  | 'no-association'
  | 'wrong-state'
  | 'simultaneous-open-lost'
  | 'bad-puzzle'
  | 'stale-puzzle'
  | 'bad-mac'
  | 'bad-signature'
  | 'hit-mismatch'
  | 'bad-host-id'
  | 'bad-dh'
  | 'negotiation'
  | 'policy'
  | 'duplicate'
  | 'replay'
  | 'bad-echo'
  | 'controls'
  | 'missing-parameter'
  | 'rate-limited'
  | 'association-limit';

/**
 * Keys and parameters of one ESP security association pair, handed to the ESP layer once the
 * association is established. `outbound` protects what this host sends (to `peerSpi`),
 * `inbound` what it receives (on `localSpi`).
 */
export interface EspSaParams {
  /** ESP transform suite ID (e.g. 13 = AES-GCM with a 16-byte ICV). */
  suite: number;
  /** SPI the peer sends to (our inbound SA). */
  localSpi: number;
  /** SPI we send to (the peer's inbound SA). */
  peerSpi: number;
  /** Keys for what we send. `enc` includes the 4-byte salt for GCM suites. */
  outbound: {
    /** Encryption key (salt included; empty for NULL encryption). */
    enc: Uint8Array;
    /** Integrity key (empty for combined-mode suites). */
    auth: Uint8Array;
  };
  /** Keys for what we receive. */
  inbound: {
    /** Encryption key (salt included; empty for NULL encryption). */
    enc: Uint8Array;
    /** Integrity key (empty for combined-mode suites). */
    auth: Uint8Array;
  };
  /** KEYMAT index of the first ESP key (carried in ESP_INFO). */
  keymatIndex: number;
}

/** Everything the engine reports. Discriminated by `type`. */
export type EngineEvent =
  | ({
      /**
       * A registration exchange (RFC 8003) finished: as registrar we granted or refused a client's
       * REG_REQUEST; as requester the server's R2 said what it granted.
       */
      type: 'registration';
    } & RegistrationOutcome)
  | {
      /** A base exchange packet was sent or received (BEX feedback). */
      type: 'bex';
      /** Which packet, and whether it went out or came in. */
      step: BexStep;
      /** The peer's HIT (all zero while an opportunistic BEX waits for its R1). */
      peerHit: Uint8Array;
      /** HIP packet type of that packet. */
      packetType: number;
      /** Milliseconds since this association's BEX started. */
      elapsedMs: number;
      /** True for a packet sent again: a timer retransmission, or an R2 repeated for a repeated I2. */
      retransmission: boolean;
    }
  | {
      /** The association reached ESTABLISHED: keys are agreed and the ESP SAs can be installed. */
      type: 'established';
      /** The peer's HIT, proven by its signature. */
      peerHit: Uint8Array;
      /** Our HIT used for this association. */
      localHit: Uint8Array;
      /** HIP version the association speaks. */
      version: 1 | 2;
      /** Whether we started the BEX (initiator) or answered it (responder). */
      role: 'initiator' | 'responder';
      /** Where the peer was reached; send data there. */
      peerLocator: PeerLocator;
      /** The ESP SA pair to install. */
      sa: EspSaParams;
      /** Milliseconds the BEX took. */
      elapsedMs: number;
    }
  | {
      /** The base exchange (or an established association) failed; the engine forgot the peer. */
      type: 'failed';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** Why, as a stable code. */
      reason: FailureReason;
      /** Human-readable detail, for logs only. */
      detail?: string;
    }
  | {
      /** The association ended; its SAs should be removed. */
      type: 'closed';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** Who ended it: we did, the peer did, the idle timer, a CLOSE that got no answer, or the carrier (TCP connection) went away. */
      by: 'local' | 'peer' | 'idle' | 'timeout' | 'transport';
    }
  | {
      /**
       * The peer stopped answering although we sent it data: a loss probe (UPDATE with SEQ) got
       * no ACK, so the peer most likely restarted and lost the association (or is gone). The
       * engine has forgotten the association; run the BEX again (`connect()` to `locator`) and
       * resend what was sent since `lastHeard`.
       */
      type: 'peer-lost';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** Where the peer was reached. */
      locator: PeerLocator;
      /** HIP version of the lost association. */
      version: 1 | 2;
      /** When (driver clock) the peer was last heard: data sent since may never have arrived. */
      lastHeard: number;
    }
  | {
      /** A NOTIFY arrived from a peer; informational only, it changes no state. */
      type: 'notify';
      /** The sender's HIT. */
      peerHit: Uint8Array;
      /** Notify message type ({@link "hipl/wire"!NotifyType}). */
      notifyType: number;
      /** Notification data, as sent. */
      data: Uint8Array;
      /**
       * True when the NOTIFY was signed by the peer's known key. False when no key was known
       * (e.g. an answer to our I1): anyone could have sent it.
       */
      authentic: boolean;
    }
  | {
      /**
       * The peer's current locator changed: it answered a return-routability check at `locator`.
       * Send everything (control and data) there from now on.
       */
      type: 'locator';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** The new, verified locator. */
      locator: PeerLocator;
      /** The locator used until now (now deprecated). */
      previous: PeerLocator;
    }
  | {
      /**
       * A readdress (RFC 5206 / RFC 8046 LOCATOR exchange) finished: the peer announced a move
       * and returned our echo from there (`mover: 'peer'`, after the `locator` event), or the
       * peer acknowledged our own announcement (`mover: 'self'`). HIPL's hipd re-installs its
       * SAs at this point and starts its ESP sequence numbers at 1 again.
       */
      type: 'readdressed';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** Which end moved. */
      mover: 'peer' | 'self';
    }
  | {
      /**
       * A rekey finished (UPDATE with ESP_INFO): install `sa` (new SPIs and keys). Keep the old
       * inbound SA (`previousLocalSpi`) until the new one carries traffic.
       */
      type: 'rekeyed';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** The new SA pair. */
      sa: EspSaParams;
      /** Our inbound SPI of the SA pair being replaced. */
      previousLocalSpi: number;
    }
  | {
      /**
       * A rekey has agreed its new keys: start accepting packets on the new inbound SA
       * (`sa.localSpi`) now, since the peer may switch before the rekey is `rekeyed` here.
       */
      type: 'rekey-inbound';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** The new SA pair (only its inbound half is to be used yet). */
      sa: EspSaParams;
    }
  | {
      /**
       * Liveness of the path to the peer: `dead` when an UPDATE (probe, announcement, rekey) got
       * no acknowledgement after every retransmission; `alive` when the peer is heard again.
       */
      type: 'path';
      /** The peer's HIT. */
      peerHit: Uint8Array;
      /** Dead or alive again. */
      state: 'dead' | 'alive';
      /** The locator concerned (the current one). */
      locator: PeerLocator;
      /** Human-readable detail, for logs only. */
      detail?: string;
    }
  | {
      /** A received packet was dropped (also counted in `engine.stats.dropped`). */
      type: 'dropped';
      /** Why, as a stable code. */
      reason: DropReason;
      /** HIP packet type, when the header could be read. */
      packetType?: number;
      /** Sender's HIT, when known. */
      peerHit?: Uint8Array;
      /** Human-readable detail, for logs only. */
      detail?: string;
    };
