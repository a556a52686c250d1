/**
 * Locators as the host hands them to the engine: the engine sees only `key`; the host keeps the
 * carrier, the peer's transport address and, for TCP, the connection.
 * @module
 */
import type { PeerLocator } from '../core/events.js';
import { peerKey, type CarrierPeer, type TcpConnection } from '../transport/index.js';

/** A peer locator with the host's transport details. */
export interface HostLocator extends PeerLocator {
  /** The carrier the peer is reached over. */
  carrier: 'udp' | 'tcp';
  /** The peer's transport address (for TCP: the remote end of the connection). */
  peer: CarrierPeer;
  /** The TCP connection this locator means (TCP only). */
  conn?: TcpConnection;
}

/** Locator of a UDP peer. */
export function udpLocator(peer: CarrierPeer): HostLocator {
  return { key: peerKey('udp', peer), carrier: 'udp', peer };
}

/** Locator of a TCP connection. */
export function tcpLocator(conn: TcpConnection): HostLocator {
  return { key: peerKey('tcp', conn.remote), carrier: 'tcp', peer: conn.remote, conn };
}

/**
 * UDP locators by source, made once per run of packets from one source: a flow's packets all come
 * from one address and port, and a new locator per packet (its key is a string built from the
 * address) was a measurable part of receiving one. Holds only the last source, so it is bounded.
 */
export class UdpLocatorCache {
  #last: HostLocator | undefined;

  /** The locator of `peer`: the last one returned if it is the same address, port and family. */
  get(peer: CarrierPeer): HostLocator {
    const last = this.#last;
    if (last !== undefined && last.peer.port === peer.port && last.peer.address === peer.address && last.peer.family === peer.family) return last;
    return (this.#last = udpLocator(peer));
  }
}
