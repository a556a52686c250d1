/**
 * The host's side of registration (RFC 8003) and rendezvous (RFC 8004): the locator codec the
 * engine needs to read and write FROM / RELAY_FROM / REG_FROM addresses, and the options, results
 * and events of `registerWith()` / `unregisterFrom()` (the client itself: registration-client.ts).
 * @module
 */
import { isIP } from 'node:net';
import type { LocatorCodec, RegFailureEntry, RegistrationOutcome } from '../core/registration.js';
import { formatHit } from '../crypto/hit.js';
import { HipArgumentError, HipProtocolError } from '../errors.js';
import type { CarrierPeer } from '../transport/index.js';
import { mapIpv4, RegType, unmapIpv4 } from '../wire/index.js';
import { formatIpAddress } from '../wire/ip-frames.js';
import { parseIpv6 } from '../wire/pcap-writer.js';
import { udpLocator, type HostLocator } from './locator.js';

/** What {@link HipHost.registerWith} asks for. */
export interface RegisterOptions {
  /** The server's HIT. */
  hit: string;
  /** The server's IP address. */
  address: string;
  /** The server's UDP port. Default 10500. */
  port?: number;
  /**
   * The service: 'rendezvous' (RFC 8004), 'relay' (RFC 9028 control and data relay: types
   * RELAY_UDP_HIP and RELAY_UDP_ESP) or a registration type number. Default 'rendezvous'.
   */
  type?: 'rendezvous' | 'relay' | number;
  /** Wanted lifetime in seconds; the server clamps it to its bounds. Default 3600. */
  lifetime?: number;
  /** Register again before the granted lifetime ends. Default true. */
  renew?: boolean;
}

/** An address and port in text form. */
export interface TransportAddress {
  /** IP address text. */
  address: string;
  /** Port. */
  port: number;
}

/** A registration the server granted. */
export interface Registration {
  /** The server's HIT (canonical text). */
  hit: string;
  /** Registration types granted. */
  types: number[];
  /** Granted lifetime in seconds. */
  lifetime: number;
  /** Our address and port as the server saw them (REG_FROM), if it said. */
  reflexive?: TransportAddress;
}

/**
 * What a registration exchange came to: `'granted'` (some type granted, lifetime > 0),
 * `'cancelled'` (lifetime 0 answered: the registration is gone), `'refused'` (REG_FAILED only:
 * see `failed`), `'failed'` (no answer at all: the server is unreachable or lost our
 * association; see `error`).
 */
export type RegistrationStatus = 'granted' | 'cancelled' | 'refused' | 'failed';

/** A registration event of the host, for either role. */
export interface HostRegistrationEvent {
  /** 'registrar': a client registered with us (or was refused); 'requester': a server answered us (or did not). */
  role: 'registrar' | 'requester';
  /** What came of it. */
  status: RegistrationStatus;
  /** The other side's HIT (canonical text). */
  peerHit: string;
  /** Types granted. */
  granted: number[];
  /** Granted lifetime in seconds (0 when nothing was granted or it was a cancellation). */
  lifetime: number;
  /** Types refused, with RFC 8003 failure types (0 credentials required, 1 type unavailable, 2 no room). */
  failed: RegFailureEntry[];
  /** Requester: our address as the server saw it (REG_FROM). */
  reflexive?: TransportAddress;
  /** Status `'failed'`: why no answer came (text, for logs). */
  error?: string;
}

/** The engine's locator codec over the host's UDP carrier. */
export function hostLocatorCodec(udp: () => CarrierPeer | undefined): LocatorCodec<HostLocator> {
  return {
    addressOf(l) {
      const bytes = addressBytes(l.peer.address);
      return bytes ? { address: bytes, port: l.peer.port, protocol: l.carrier === 'udp' ? 17 : 6 } : undefined;
    },
    udpLocator(address, port) {
      const local = udp();
      if (!local) return undefined;
      const text = addressText(address);
      const family = text.includes(':') ? 6 : 4;
      // A family-4 socket cannot reach an IPv6 address.
      if (family === 6 && local.family === 4) return undefined;
      return udpLocator({ address: text, port, family });
    },
  };
}

/** The host's event for an engine registration outcome. */
export function registrationEvent(o: RegistrationOutcome): HostRegistrationEvent {
  const status: RegistrationStatus =
    o.error !== undefined ? 'failed' : o.granted.length === 0 ? 'refused' : o.lifetimeS === 0 ? 'cancelled' : 'granted';
  const e: HostRegistrationEvent = { role: o.role, status, peerHit: formatHit(o.peerHit), granted: o.granted, lifetime: o.lifetimeS, failed: o.failed };
  if (o.error !== undefined) e.error = o.error;
  if (o.reflexive) e.reflexive = { address: addressText(o.reflexive.address), port: o.reflexive.port };
  return e;
}

/** The registration type numbers of a {@link RegisterOptions.type}. */
export function registrationTypes(type: RegisterOptions['type']): number[] {
  if (type === undefined || type === 'rendezvous') return [RegType.RENDEZVOUS];
  if (type === 'relay') return [RegType.RELAY_UDP_HIP, RegType.RELAY_UDP_ESP];
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new HipArgumentError('ERR_HIP_BAD_ARGUMENT', `registration type must be 'rendezvous', 'relay' or 1..255, got ${String(type)}`);
  return [type];
}

/** Settle a registerWith() call from the server's answer. */
export function registrationResult(e: HostRegistrationEvent): Registration {
  if (e.status !== 'granted') {
    if (e.status === 'failed') throw new HipProtocolError('ERR_HIP_REGISTRATION_FAILED', `${e.peerHit} did not answer the registration (${e.error ?? 'no answer'})`, { failed: e.failed });
    const why = e.failed.map((f) => `type ${f.type}: ${FAILURES[f.failureType] ?? `failure type ${f.failureType}`}`).join(', ');
    throw new HipProtocolError('ERR_HIP_REGISTRATION_FAILED', `${e.peerHit} refused the registration (${why || 'no answer to the request'})`, { failed: e.failed });
  }
  const r: Registration = { hit: e.peerHit, types: e.granted, lifetime: e.lifetime };
  if (e.reflexive) r.reflexive = e.reflexive;
  return r;
}

const FAILURES: Record<number, string> = {
  0: 'not on the server whitelist',
  1: 'type not offered',
  2: 'server full',
};

/**
 * When to renew a registration of `lifetimeS`: at 80 % of it (RFC 8003 leaves it to the
 * requester; the rest leaves room for UPDATE retransmissions and a fallback base exchange), and
 * before an idle association would close at a server that does not keep registered clients.
 */
export function renewalDelayMs(lifetimeS: number, idleTimeoutMs: number): number {
  const byLifetime = lifetimeS * 1000 * 0.8;
  return idleTimeoutMs > 0 ? Math.min(byLifetime, idleTimeoutMs * 0.8) : byLifetime;
}

function addressBytes(text: string): Uint8Array | undefined {
  const kind = isIP(text);
  if (kind === 4) return mapIpv4(new Uint8Array(text.split('.').map(Number)));
  return kind === 6 ? parseIpv6(text) : undefined;
}

function addressText(bytes: Uint8Array): string {
  // Node reports IPv4 peers in dotted form: use the same text so locator keys match.
  return formatIpAddress(unmapIpv4(bytes) ?? bytes);
}
