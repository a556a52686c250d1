/**
 * hipl: the Host Identity Protocol for Node.js over plain UDP and TCP sockets.
 *
 * This root module is what programs use: {@link createHost} and the {@link HiplHost} it returns
 * (datagram sockets, {@link HiplStream} byte streams, servers), the libhipl-shaped `hipl*`
 * calls and their constants, host identities ({@link HostIdentity},
 * {@link loadOrCreateIdentity}), HIT helpers and the typed errors.
 *
 * The layers underneath have their own entry points, for tools, tests and debugging; they are
 * public but lower level, and may change faster than this module:
 *
 * | import | holds |
 * |---|---|
 * | `hipl/host` | `HipHost`, the driver under a `HiplHost` (stepping, counters, key log) |
 * | `hipl/engine` | the sans-IO protocol engine (`HipEngine`) and its options |
 * | `hipl/transport` | the UDP and TCP carriers and their framing |
 * | `hipl/esp` | ESP security associations, replay window, SPIs |
 * | `hipl/crypto` | crypto providers, DH groups, KEYMAT, puzzle, key conversion |
 * | `hipl/wire` | the HIP packet codec, checksums, pcap reader and writer |
 *
 * @module hipl
 */
export * from './errors.js';
export { HipTransportError, TransportErrorCode } from './transport/errors.js';
export * from './socket/index.js';
export * from './api/index.js';
export { HostIdentity, type IdentityAlgorithm, type GenerateIdentityOptions } from './crypto/identity.js';
export { loadOrCreateIdentity } from './crypto/load-or-create.js';
export type { WriteKeyFileOptions } from './crypto/keyfile.js';
export type {
  KeyAlgorithm,
  PrivateKeyMaterial,
  PublicKeyMaterial,
  EcdsaPrivateKey,
  EcdsaPublicKey,
  RsaPrivateKey,
  RsaPublicKey,
  Ed25519PrivateKey,
  Ed25519PublicKey,
} from './crypto/keys.js';
export { formatHit, parseHit, isHit, hitVersion } from './crypto/hit.js';
export { PeerTable, type PeerAddress, type PeerEntry } from './host/peer-table.js';
export type { EstablishedInfo } from './host/host.js';
export type { SessionStats } from './host/session.js';
export type { EngineOptions, PuzzleConfig, RetransmitConfig, PeerPolicy } from './core/config.js';
export type { BexStep, FailureReason } from './core/events.js';
export type { CarrierPeer } from './transport/peer.js';
export { createRelay, RelayServer, loadWhitelist, parseWhitelist, type RelayClient, type RelayOptions, type RelayStats } from './relay/index.js';
export type { RelayLimits, RelayServiceStats } from './core/relay.js';
