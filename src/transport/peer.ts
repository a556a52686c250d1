/**
 * Peer addresses as the carriers report them, their validation, and the map keys the host
 * layer files associations under.
 * @module
 */

import { BlockList, SocketAddress, isIP } from 'node:net';
import { HipArgumentError } from '../errors.js';
import { TransportErrorCode } from './errors.js';

/**
 * Where a datagram came from or goes to, or the far end of a TCP connection.
 * `address` is in Node's text form (`'127.0.0.1'`, `'::1'`, `'fe80::1%eth0'`). IPv4 peers seen
 * through a dual-stack IPv6 socket are reported as family 4 (`'127.0.0.1'`, not
 * `'::ffff:127.0.0.1'`), so one peer has one form whatever socket it reached.
 */
export interface CarrierPeer {
  /** IP address in text form. */
  address: string;
  /** UDP or TCP port, 0..65535 (0 only in a local address before binding). */
  port: number;
  /** IP version of `address`. */
  family: 4 | 6;
}

/** The loopback networks: 127.0.0.0/8 and ::1. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether `peer` is a loopback address (127.0.0.0/8, ::1, also written as IPv4-mapped or in a
 * long IPv6 form): packets to it never leave this machine, and the loopback interface carries
 * datagrams of up to 64 KiB whole.
 *
 * @example
 * ```ts
 * isLoopbackPeer({ address: '127.0.0.2', port: 10500, family: 4 }); // true
 * isLoopbackPeer({ address: '192.0.2.7', port: 10500, family: 4 }); // false
 * ```
 */
export function isLoopbackPeer(peer: CarrierPeer): boolean {
  const family = isIP(peer.address);
  return family !== 0 && LOOPBACK.check(peer.address, family === 6 ? 'ipv6' : 'ipv4');
}

/** Traffic counters of a carrier (a UDP socket or a TCP connection). */
export interface CarrierStats {
  /** HIP control packets received. */
  hipIn: number;
  /** HIP control packets handed to the socket. */
  hipOut: number;
  /** Other datagrams or records (ESP, libhipl clear text, garbage) received. */
  payloadIn: number;
  /** Payload datagrams or records handed to the socket. */
  payloadOut: number;
  /** Bytes received (UDP payloads or stream bytes, marker and framing included). */
  bytesIn: number;
  /** Bytes handed to the socket. */
  bytesOut: number;
  /** Sends dropped: carrier closed or ending, too large, or refused by the operating system. */
  sendErrors: number;
}

/** Fresh, all-zero {@link CarrierStats}. */
export function newCarrierStats(): CarrierStats {
  return { hipIn: 0, hipOut: 0, payloadIn: 0, payloadOut: 0, bytesIn: 0, bytesOut: 0, sendErrors: 0 };
}

/** The UDP port HIP responders and relays listen on (RFC 5770; HIPL's HIP_NAT_UDP_PORT). */
export const HIP_NAT_UDP_PORT = 10500;

const MAPPED_PREFIX = '::ffff:';

function badArgument(message: string, details: Record<string, unknown>): HipArgumentError {
  return new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, message, details);
}

/**
 * Canonical text of an IP address: IPv6 in RFC 5952 form (lower case, longest zero run
 * compressed) with its zone kept, IPv4-mapped IPv6 turned into plain IPv4. Returns `null` when
 * the text is not an IP address.
 */
export function canonicalAddress(address: string): Pick<CarrierPeer, 'address' | 'family'> | null {
  const kind = isIP(address);
  if (kind === 4) return { address, family: 4 };
  if (kind !== 6) return null;
  const pct = address.indexOf('%');
  const bare = pct < 0 ? address : address.slice(0, pct);
  const zone = pct < 0 ? '' : address.slice(pct);
  let text: string;
  try {
    text = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  } catch {
    return null;
  }
  if (text.startsWith(MAPPED_PREFIX) && isIP(text.slice(MAPPED_PREFIX.length)) === 4 && zone === '') {
    return { address: text.slice(MAPPED_PREFIX.length), family: 4 };
  }
  return { address: text + zone, family: 6 };
}

/**
 * The same peer in canonical form (see {@link canonicalAddress}).
 *
 * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` when the address is not an IP
 *   address, the port is not an integer in 0..65535, or `family` contradicts the address.
 * @example
 * ```ts
 * normalizePeer({ address: '::ffff:10.0.0.1', port: 10500, family: 6 })
 * // { address: '10.0.0.1', port: 10500, family: 4 }
 * ```
 */
export function normalizePeer(p: CarrierPeer): CarrierPeer {
  checkPort(p?.port, 0);
  const canon = typeof p.address === 'string' ? canonicalAddress(p.address) : null;
  if (!canon) throw badArgument('peer address is not an IP address', { address: p.address });
  const mapped = canon.family === 4 && isIP(p.address) === 6;
  if (p.family !== canon.family && !(mapped && p.family === 6)) {
    throw badArgument('peer family does not match its address', { address: p.address, family: p.family });
  }
  return { address: canon.address, port: p.port, family: canon.family };
}

/**
 * Check a destination peer before handing it to a socket: a real IP address of the stated
 * family and a port in 1..65535. Returns the address family Node will see (IPv4-mapped IPv6
 * counts as 6 here, since that is what a dual-stack socket needs).
 * @internal
 */
export function checkDestination(p: CarrierPeer): 4 | 6 {
  if (p === null || typeof p !== 'object') throw badArgument('peer must be an object', { peer: p });
  checkPort(p.port, 1);
  const kind = typeof p.address === 'string' ? isIP(p.address) : 0;
  if (kind === 0) throw badArgument('peer address is not an IP address', { address: p.address });
  if (kind !== p.family) {
    const mapped = kind === 6 && p.family === 4 && canonicalAddress(p.address)?.family === 4;
    if (!mapped) throw badArgument('peer family does not match its address', { address: p.address, family: p.family });
  }
  return kind;
}

/** @internal */
export function checkPort(port: unknown, min: number): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw badArgument(`port must be an integer ${min}..65535`, { port });
  }
}

/**
 * A peer as reported by Node (`rinfo`, `socket.address()`, `remoteAddress`). Node already
 * prints addresses canonically (inet_ntop), so only IPv4-mapped IPv6 needs rewriting; this runs
 * once per received datagram and stays cheap.
 * @internal
 */
export function peerFromNode(address: string, port: number, family: string | number): CarrierPeer {
  if (family === 'IPv4' || family === 4) return { address, port, family: 4 };
  if (address.length > MAPPED_PREFIX.length && address.slice(0, MAPPED_PREFIX.length).toLowerCase() === MAPPED_PREFIX) {
    const v4 = address.slice(MAPPED_PREFIX.length);
    if (isIP(v4) === 4) return { address: v4, port, family: 4 };
  }
  return { address, port, family: isIP(address) === 4 ? 4 : 6 };
}

/**
 * A stable string key for a peer on a carrier, for maps of associations or connections. The
 * address is canonicalized first, so `'0:0::1'` and `'::1'` give the same key, and an
 * IPv4-mapped address the key of its IPv4 address.
 *
 * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for an invalid peer.
 * @example
 * ```ts
 * peerKey('udp', { address: '127.0.0.1', port: 22300, family: 4 }) // 'udp:127.0.0.1:22300'
 * peerKey('udp', { address: '::1', port: 22300, family: 6 })       // 'udp:[::1]:22300'
 * ```
 */
export function peerKey(carrier: 'udp' | 'tcp', p: CarrierPeer): string {
  const n = normalizePeer(p);
  return n.family === 6 ? `${carrier}:[${n.address}]:${n.port}` : `${carrier}:${n.address}:${n.port}`;
}
