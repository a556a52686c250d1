/**
 * The UDP carrier: one `node:dgram` socket that carries HIP control packets behind the
 * non-ESP marker (RFC 5770) and, unmarked on the same 5-tuple, ESP packets or a libhipl
 * peer's clear-text data.
 * @module
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { HipArgumentError } from '../errors.js';
import { HipTransportError, TransportErrorCode, fromNodeError } from './errors.js';
import { MARKER_LENGTH, isMarkedHipDatagram, plainView, withMarker } from './demux.js';
import { type CarrierPeer, type CarrierStats, newCarrierStats, checkDestination, checkPort, peerFromNode } from './peer.js';

/**
 * The socket's name lookup. Every address it sees is an IP literal (checkDestination and
 * resolveBindAddress see to it), which Node's default (dns.lookup) answers a tick later: one
 * more hop through the event loop for every datagram sent. This one answers at once, so the send
 * reaches the kernel within `socket.send`. @internal
 */
export function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  const family = isIP(address);
  if (family === 0) return void dnsLookup(address, (err, a, f) => cb(err, a, f));
  cb(null, address, family);
}

/** Receive and send buffer asked of the kernel for a carrier socket. @internal (the benchmark's plain UDP anchor asks the same) */
export const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Options of {@link UdpCarrier.bind}. */
export interface UdpBindOptions {
  /** Local address; defaults to `'0.0.0.0'` for family 4 and `'::'` for family 6. */
  address?: string;
  /** Local port; 0 (the default) picks an ephemeral one. */
  port?: number;
  /** IP version of the socket; defaults to the family of `address`, else 4. */
  family?: 4 | 6;
  /** Let several sockets bind the same address and port (SO_REUSEADDR). Default false. */
  reuseAddr?: boolean;
  /** On a family-6 socket, refuse IPv4 (IPV6_V6ONLY). Default false: dual stack. */
  ipv6Only?: boolean;
}

/** Traffic counters of a {@link UdpCarrier}: bytes are whole UDP payloads, marker included. */
export type UdpCarrierStats = CarrierStats;

/** Events of a {@link UdpCarrier}. */
export interface UdpCarrierEvents {
  /** A HIP control packet (marker stripped) arrived. */
  hip: [packet: Uint8Array, from: CarrierPeer];
  /** Any other datagram arrived, as is (ESP, libhipl data, or a packet that only resembles HIP). */
  payload: [bytes: Uint8Array, from: CarrierPeer];
  /** A send failed or the socket reported an error; the carrier stays open. */
  error: [err: Error];
  /** The socket is closed; no event follows. */
  close: [];
}

/** IPv4 and IPv6 limits on a UDP payload (65535 minus the IP and UDP headers). */
const MAX_UDP_PAYLOAD: Record<4 | 6, number> = { 4: 65507, 6: 65527 };

/**
 * A bound UDP socket speaking HIP-over-UDP. Received datagrams are sorted into `'hip'` (zero
 * marker followed by exactly one plausible HIP header, see {@link isMarkedHipDatagram}) and
 * `'payload'` (everything else, including empty datagrams; the host tells ESP from libhipl
 * clear text by the peer).
 *
 * Sending never throws because of the carrier's state: after {@link close}, or when the
 * operating system refuses a datagram, the send is counted in `stats.sendErrors` and dropped;
 * OS refusals and oversize datagrams are also reported as `'error'` events (code
 * `ERR_TRANSPORT_SEND` / `ERR_TRANSPORT_TOO_LARGE`), a send after close is not. Only a bad
 * destination (not an IP address, bad port, wrong family) throws, synchronously.
 *
 * Received bytes are zero-copy views of the datagram Node allocated; they are never reused.
 * Bytes passed to a send are read later in the same turn of the event loop or the next, so do
 * not overwrite them right after the call.
 *
 * @example
 * ```ts
 * const udp = await UdpCarrier.bind({ port: HIP_NAT_UDP_PORT });
 * udp.on('hip', (packet, from) => engine.receive(packet, from));
 * udp.on('payload', (bytes, from) => esp.open(bytes, from));
 * udp.sendHip(i1Bytes, { address: '192.0.2.7', port: 10500, family: 4 });
 * await udp.close();
 * ```
 */
export class UdpCarrier extends EventEmitter<UdpCarrierEvents> {
  /** The bound local address and port. */
  readonly local: CarrierPeer;
  /** Live traffic counters. */
  readonly stats: UdpCarrierStats = newCarrierStats();

  readonly #socket: Socket;
  readonly #family: 4 | 6;
  /** A dual-stack IPv6 socket reaches IPv4 peers through their IPv4-mapped address. */
  readonly #dualStack: boolean;
  #closing: Promise<void> | undefined;
  #closed = false;
  #inFlight = 0;
  readonly #drainWaiters: (() => void)[] = [];

  private constructor(socket: Socket, family: 4 | 6, dualStack: boolean) {
    super();
    this.#socket = socket;
    this.#family = family;
    this.#dualStack = dualStack;
    const a = socket.address();
    this.local = peerFromNode(a.address, a.port, a.family);
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', (err) => this.emit('error', fromNodeError(TransportErrorCode.SOCKET, 'UDP socket error', err)));
    socket.on('close', () => this.#onClose());
  }

  /**
   * Open and bind a UDP socket.
   *
   * @throws {@link HipTransportError} `ERR_TRANSPORT_BIND` (rejected) when the address cannot
   *   be bound, e.g. the port is in use (`details.osCode` `'EADDRINUSE'`);
   *   `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for a bad address, port or family.
   * @example
   * ```ts
   * const udp6 = await UdpCarrier.bind({ address: '::1', port: 0 });
   * console.log(udp6.local); // { address: '::1', port: 53211, family: 6 }
   * ```
   */
  static override bind(opts: UdpBindOptions = {}): Promise<UdpCarrier> {
    let family: 4 | 6;
    let address: string;
    try {
      ({ family, address } = resolveBindAddress(opts.address, opts.family));
      checkPort(opts.port ?? 0, 0);
    } catch (e) {
      return Promise.reject(e);
    }
    const ipv6Only = family === 6 && opts.ipv6Only === true;
    const dualStack = family === 6 && !ipv6Only && (address === '::' || opts.address === undefined);
    return new Promise<UdpCarrier>((resolve, reject) => {
      const socket = createSocket({
        type: family === 6 ? 'udp6' : 'udp4',
        reuseAddr: opts.reuseAddr === true,
        ipv6Only,
        // One socket carries every association's packets: a busy event loop must not lose a
        // window's worth of them to the kernel's default buffer (~200 KiB). The kernel caps
        // these at net.core.rmem_max / wmem_max.
        recvBufferSize: UDP_SOCKET_BUFFER_BYTES,
        sendBufferSize: UDP_SOCKET_BUFFER_BYTES,
        lookup: literalLookup,
      });
      const onError = (err: Error): void => {
        socket.close();
        reject(
          fromNodeError(TransportErrorCode.BIND, `cannot bind UDP ${address}:${opts.port ?? 0}`, err, {
            address,
            port: opts.port ?? 0,
          }),
        );
      };
      socket.once('error', onError);
      socket.bind({ address, port: opts.port ?? 0, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(new UdpCarrier(socket, family, dualStack));
      });
    });
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Send a HIP control packet (checksum already 0) as `00000000` + packet in one datagram.
   * Returns false when the datagram was dropped (see the class notes); `onSent` runs once the
   * system has accepted it.
   *
   * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for a bad destination.
   */
  sendHip(packet: Uint8Array, to: CarrierPeer, onSent?: () => void): boolean {
    const dest = this.#destination(to);
    if (dest === null) return false;
    if (!this.#fits(MARKER_LENGTH + packet.length, to)) return false;
    const out = withMarker(packet);
    this.#send(out, dest, to, onSent);
    this.stats.hipOut++;
    return true;
  }

  /**
   * Send bytes as one datagram, unchanged (an ESP packet, or clear text to a libhipl peer).
   * Pieces (an ESP packet as `OutboundSa.sealParts` gives it) go out as one datagram by a
   * gathered send, never joined in a copy. Returns false when the datagram was dropped (see the class notes); `onSent` runs once the
   * system has accepted it.
   *
   * @throws `HipArgumentError` `ERR_TRANSPORT_BAD_ARGUMENT` for a bad destination.
   */
  sendPayload(bytes: Uint8Array | readonly Uint8Array[], to: CarrierPeer, onSent?: () => void): boolean {
    const dest = this.#destination(to);
    if (dest === null) return false;
    let length = 0;
    if (bytes instanceof Uint8Array) length = bytes.length;
    else for (const part of bytes) length += part.length;
    if (!this.#fits(length, to)) return false;
    this.#send(bytes, dest, to, onSent);
    this.stats.payloadOut++;
    return true;
  }

  /** Let the socket keep the process alive (the default). */
  ref(): void {
    if (!this.#closed) this.#socket.ref();
  }

  /** Let the process exit while the socket is open. */
  unref(): void {
    if (!this.#closed) this.#socket.unref();
  }

  /**
   * Close the socket once the datagrams already handed to it have left; sends made after this
   * call are dropped. Safe to call more than once; every call resolves after `'close'`.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      // Closing the socket cancels sends libuv has not done yet (a CLOSE_ACK, say): let them go first.
      this.#closing = this.#drained().then(
        () =>
          new Promise<void>((resolve) => {
            if (this.#closed) return resolve();
            this.#socket.once('close', () => resolve());
            try {
              this.#socket.close();
            } catch {
              // Node throws ERR_SOCKET_DGRAM_NOT_RUNNING when the socket is already gone.
              resolve();
            }
          }),
      );
    }
    return this.#closing;
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing ??= Promise.resolve();
    this.emit('close');
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const from = peerFromNode(rinfo.address, rinfo.port, rinfo.family);
    this.stats.bytesIn += msg.length;
    if (isMarkedHipDatagram(msg)) {
      this.stats.hipIn++;
      this.emit('hip', plainView(msg, MARKER_LENGTH), from);
    } else {
      this.stats.payloadIn++;
      this.emit('payload', plainView(msg), from);
    }
  }

  /** Validate `to` and pick the address text the socket needs; null when closed. */
  #destination(to: CarrierPeer): string | null {
    const kind = checkDestination(to);
    if (this.#closing) {
      this.stats.sendErrors++;
      return null;
    }
    if (this.#family === 4) {
      if (kind === 6) {
        throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'an IPv4 UDP carrier cannot send to an IPv6 peer', {
          address: to.address,
        });
      }
      return to.address;
    }
    if (kind === 4) {
      if (!this.#dualStack) {
        throw new HipArgumentError(
          TransportErrorCode.BAD_ARGUMENT,
          'this IPv6 UDP carrier is not dual-stack and cannot send to an IPv4 peer',
          { address: to.address },
        );
      }
      return `::ffff:${to.address}`;
    }
    return to.address;
  }

  #fits(length: number, to: CarrierPeer): boolean {
    const max = MAX_UDP_PAYLOAD[to.family === 6 ? 6 : 4];
    if (length <= max) return true;
    this.stats.sendErrors++;
    this.emit(
      'error',
      new HipTransportError(TransportErrorCode.TOO_LARGE, `datagram of ${length} bytes exceeds the UDP limit ${max}`, {
        length,
        max,
      }),
    );
    return false;
  }

  #send(bytes: Uint8Array | readonly Uint8Array[], address: string, to: CarrierPeer, onSent?: () => void): void {
    if (bytes instanceof Uint8Array) this.stats.bytesOut += bytes.length;
    else for (const part of bytes) this.stats.bytesOut += part.length;
    this.#inFlight++;
    try {
      this.#socket.send(bytes, to.port, address, (err) => {
        this.#sent();
        if (err) this.#sendFailed(err, to);
        else onSent?.();
      });
    } catch (err) {
      this.#sent();
      this.#sendFailed(err, to);
    }
  }

  #sent(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Resolves once every datagram handed to the socket so far has left (or failed). */
  #drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #sendFailed(err: unknown, to: CarrierPeer): void {
    this.stats.sendErrors++;
    // A send that raced close() is not worth an event: the caller asked for the close.
    if (this.#closing) return;
    this.emit(
      'error',
      fromNodeError(TransportErrorCode.SEND, `UDP send to ${to.address}:${to.port} failed`, err, {
        address: to.address,
        port: to.port,
      }),
    );
  }
}

/**
 * Validate bind options and fill in the wildcard address of the family.
 * @internal Shared with the TCP carrier.
 */
export function resolveBindAddress(address: string | undefined, family: 4 | 6 | undefined): { family: 4 | 6; address: string } {
  if (family !== undefined && family !== 4 && family !== 6) {
    throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'family must be 4 or 6', { family });
  }
  if (address === undefined) {
    const f = family ?? 4;
    return { family: f, address: f === 6 ? '::' : '0.0.0.0' };
  }
  const kind = typeof address === 'string' ? isIP(address) : 0;
  if (kind === 0) throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'bind address is not an IP address', { address });
  if (family !== undefined && family !== kind) {
    throw new HipArgumentError(TransportErrorCode.BAD_ARGUMENT, 'bind address does not match family', { address, family });
  }
  return { family: kind as 4 | 6, address };
}
