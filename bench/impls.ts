/**
 * The contestants of the benchmark behind one small interface: plain TCP, node:tls (mutual TLS
 * 1.3 with P-256 certificates made at run time), and hipl streams over its UDP and TCP carriers;
 * for datagrams plain UDP and hipl over UDP. Each side runs in its own process (worker.ts).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { HipHost } from '../src/host/host.js';
import { HostIdentity } from '../src/crypto/identity.js';
import { UDP_SOCKET_BUFFER_BYTES } from '../src/transport/udp-carrier.js';
import { selfSignedP256, type SelfSigned } from './x509.js';

/** Stream contestants. */
export const STREAM_IMPLS = ['tcp', 'tls', 'hipl-udp', 'hipl-tcp'] as const;
/** Datagram contestants. */
export const DGRAM_IMPLS = ['udp', 'hipl-udp'] as const;
/** Any contestant. */
export type Impl = (typeof STREAM_IMPLS)[number] | (typeof DGRAM_IMPLS)[number];

/** What a server tells its clients (sent between processes as JSON). */
export interface ServerInfo {
  port: number;
  hit?: string;
  /** PEM of the server's certificate and of the client's key and certificate (tls). */
  serverCert?: string;
  client?: SelfSigned;
}

/** A running server. */
export interface Server {
  info: ServerInfo;
  close(): Promise<void>;
}

const LO = '127.0.0.1';
const STREAM_PORT = 7;

/** Start a stream server that hands each accepted stream to `onStream`. */
export async function streamServer(impl: Impl, onStream: (s: Duplex) => void): Promise<Server> {
  switch (impl) {
    case 'tcp': {
      const srv = net.createServer({ noDelay: true }, onStream);
      await new Promise<void>((r) => srv.listen(0, LO, r));
      return { info: { port: (srv.address() as net.AddressInfo).port }, close: () => new Promise((r) => srv.close(() => r())) };
    }
    case 'tls': {
      const s = selfSignedP256('bench-server');
      const c = selfSignedP256('bench-client');
      const srv = tls.createServer({ key: s.key, cert: s.cert, ca: [c.cert], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (sock) => {
        sock.setNoDelay(true);
        onStream(sock);
      });
      srv.on('tlsClientError', () => undefined);
      await new Promise<void>((r) => srv.listen(0, LO, r));
      return { info: { port: (srv.address() as net.AddressInfo).port, serverCert: s.cert, client: c }, close: () => new Promise((r) => srv.close(() => r())) };
    }
    case 'hipl-udp':
    case 'hipl-tcp': {
      const host = await HipHost.create(impl === 'hipl-udp' ? { udp: { address: LO } } : { udp: false, tcp: { address: LO } });
      host.listenStream(STREAM_PORT, onStream);
      const port = impl === 'hipl-udp' ? host.udpAddress!.port : host.tcpAddress!.port;
      return { info: { port, hit: host.hit() }, close: () => host.shutdown(0) };
    }
    default:
      throw new Error(`no stream server for ${impl}`);
  }
}

/** A client that can open streams to one server; `close` frees what it holds. */
export interface StreamClient {
  /** Resolves with a stream once it can carry data (connected, handshake done). */
  open(): Promise<Duplex>;
  /** The stream at once, as `net.connect` gives it: writes wait inside until it is connected. */
  start(): Duplex;
  close(): Promise<void>;
}

const identities = new Map<number, HostIdentity>();

/**
 * A new client (new socket, new handshake; for hipl a new host). A hipl client keeps the
 * identity of its `slot` across calls, as a TLS client keeps its one certificate; concurrent
 * clients take different slots, since one HIT is one host to the server. `slot` -1 gives a
 * fresh identity (many idle associations to one server need distinct HITs).
 */
export async function streamClient(impl: Impl, info: ServerInfo, slot = 0): Promise<StreamClient> {
  switch (impl) {
    case 'tcp':
      return {
        open: () =>
          new Promise((resolve, reject) => {
            const s = net.connect({ host: LO, port: info.port, noDelay: true }, () => resolve(s));
            s.once('error', reject);
          }),
        start: () => net.connect({ host: LO, port: info.port, noDelay: true }),
        close: async () => undefined,
      };
    case 'tls':
      return {
        open: () =>
          new Promise((resolve, reject) => {
            const s = tls.connect(
              { host: LO, port: info.port, key: info.client!.key, cert: info.client!.cert, ca: [info.serverCert!], checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' },
              () => {
                s.setNoDelay(true);
                resolve(s);
              },
            );
            s.once('error', reject);
          }),
        start: () => tls.connect({ host: LO, port: info.port, key: info.client!.key, cert: info.client!.cert, ca: [info.serverCert!], checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' }),
        close: async () => undefined,
      };
    case 'hipl-udp':
    case 'hipl-tcp': {
      let identity = identities.get(slot);
      if (!identity) {
        identity = HostIdentity.generate();
        if (slot >= 0) identities.set(slot, identity);
      }
      const host = await HipHost.create(impl === 'hipl-udp' ? { identity, udp: { address: LO } } : { identity, udp: false });
      host.peers.add(info.hit!, impl === 'hipl-udp' ? { address: LO, port: info.port } : { carrier: 'tcp', address: LO, port: info.port });
      return {
        open: () =>
          new Promise((resolve, reject) => {
            const s = host.openStream(info.hit!, STREAM_PORT);
            s.once('connect', () => resolve(s));
            s.once('error', reject);
          }),
        start: () => host.openStream(info.hit!, STREAM_PORT),
        close: () => host.shutdown(0),
      };
    }
    default:
      throw new Error(`no stream client for ${impl}`);
  }
}

/** A datagram endpoint: send to the other side, receive from it. */
export interface DgramEnd {
  info: ServerInfo;
  /** Send one datagram to `to` (the server's info; a server answers the last sender). */
  send(data: Uint8Array, to?: ServerInfo): void;
  onMessage(fn: (data: Uint8Array) => void): void;
  /** Resolves once datagrams can flow without a handshake in the way. */
  ready(to: ServerInfo): Promise<void>;
  close(): Promise<void>;
}

const DGRAM_PORT = 9;

/**
 * A datagram endpoint of `impl`; a server answers whoever sent to it last. `carrierBuffers`
 * gives a plain UDP socket the kernel buffers hipl's UDP carrier asks for (the bulk anchor, so
 * that a receiver's buffer is not what tells the two apart).
 */
export async function dgramEnd(impl: Impl, opts: { carrierBuffers?: boolean } = {}): Promise<DgramEnd> {
  if (impl === 'udp') {
    const buffers = opts.carrierBuffers ? { recvBufferSize: UDP_SOCKET_BUFFER_BYTES, sendBufferSize: UDP_SOCKET_BUFFER_BYTES } : {};
    const sock = dgram.createSocket({ type: 'udp4', ...buffers });
    await new Promise<void>((r) => sock.bind(0, LO, r));
    let last: { port: number } | undefined;
    let handler: (d: Uint8Array) => void = () => undefined;
    sock.on('message', (m, r) => {
      last = { port: r.port };
      handler(m);
    });
    return {
      info: { port: sock.address().port },
      send: (d, to) => sock.send(d, (to ?? last)!.port, LO),
      onMessage: (fn) => (handler = fn),
      ready: async () => undefined,
      close: () => new Promise((r) => sock.close(() => r())),
    };
  }
  if (impl !== 'hipl-udp') throw new Error(`no datagram endpoint for ${impl}`);
  const host = await HipHost.create({ udp: { address: LO } });
  let last: string | undefined;
  let handler: (d: Uint8Array) => void = () => undefined;
  host.bindDatagramPort(DGRAM_PORT, (d, i) => {
    last = i.hit;
    handler(d);
  });
  return {
    info: { port: host.udpAddress!.port, hit: host.hit() },
    send: (d, to) => void host.sendDatagram(to?.hit ?? last!, DGRAM_PORT, DGRAM_PORT, d).catch(() => undefined),
    onMessage: (fn) => (handler = fn),
    ready: async (to) => {
      host.peers.add(to.hit!, { address: LO, port: to.port });
      await host.connect(to.hit!);
    },
    close: () => host.shutdown(0),
  };
}
