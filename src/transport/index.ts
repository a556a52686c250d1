/**
 * The transport layer: UDP and TCP carriers for HIP control packets and ESP (or, for libhipl
 * peers, clear-text) data. Imports only Node built-ins and the shared leaf modules.
 *
 * Import from `hipl/transport`. Programs normally need only the root `hipl` module.
 * @module hipl/transport
 */

export { HipTransportError, TransportErrorCode } from './errors.js';
export { type CarrierPeer, type CarrierStats, HIP_NAT_UDP_PORT, canonicalAddress, isLoopbackPeer, normalizePeer, peerKey } from './peer.js';
export {
  HIP_MAX_PACKET_LENGTH,
  MARKER_LENGTH,
  announcedHipLength,
  hasZeroMarker,
  isMarkedHipDatagram,
  withMarker,
} from './demux.js';
export { UdpCarrier, type UdpBindOptions, type UdpCarrierEvents, type UdpCarrierStats } from './udp-carrier.js';
export {
  type Framing,
  type RecordKind,
  type RecordSink,
  HIPL_LENGTH_FIELD,
  HIPL_MAX_FRAME,
  HIPL_MIN_FRAME,
  HiplFrameDecoder,
  LibhiplStreamDecoder,
  encodeHiplHip,
  encodeHiplPayload,
} from './tcp-framing.js';
export {
  DEFAULT_CONTROL_PAUSE_MS,
  DEFAULT_PARTIAL_HOLD_MS,
  TcpConnection,
  type TcpConnectionEvents,
  type TcpConnectionOptions,
  type TcpConnectionStats,
} from './tcp-connection.js';
export {
  DEFAULT_DETECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_UNVERIFIED,
  DEFAULT_VERIFY_TIMEOUT_MS,
  TcpListener,
  type TcpListenerStats,
  type TcpConnectOptions,
  type TcpListenOptions,
  type TcpListenerEvents,
  tcpConnect,
} from './tcp-carrier.js';
