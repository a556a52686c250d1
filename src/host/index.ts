/**
 * The host: one identity with its engine, UDP/TCP carriers, ESP security associations, timers,
 * datagram and stream services, pcap recording and the Wireshark key log.
 *
 * Import from `hipl/host`. Programs normally need only the root `hipl` module.
 * @module hipl/host
 */
export { HipHost, type ConnectOptions, type HostOptions, type TcpAdmissionOptions, type HostEvents, type HostBexEvent, type EstablishedInfo, type DatagramInfo } from './host.js';
export { PeerTable, canonicalHit, type PeerAddress, type PeerEntry } from './peer-table.js';
export type { HostLocator } from './locator.js';
export type { SessionStats } from './session.js';
export { KeyLogWriter, espSaUatLine, tsharkEspOptions, tsharkDecodeAsUdpEsp, type KeylogSa, type EspSaUatOptions } from './keylog.js';
export type { StreamConfig } from './stream-protocol.js';
export { NAT_KEEPALIVE_MS, type NatModeOptions } from './mobility.js';
export type { HostRegistrationEvent, RegisterOptions, Registration, RegistrationStatus, TransportAddress } from './registrations.js';
