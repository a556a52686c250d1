/**
 * The protocol engine: a deterministic, sans-IO HIP state machine (base exchange, close,
 * notify, UPDATE: mobility, rekeying, liveness) for HIPv2 and HIPv1.
 *
 * Import from `hipl/engine`. Programs normally need only the root `hipl` module.
 * @module hipl/engine
 */
export { HipEngine, type EngineDeps, type AssociationInfo } from './engine.js';
export { resolveEngineConfig, DEFAULT_ENGINE_CONFIG, LOSS_PROBE_RETRIES, type EngineConfig, type EngineOptions, type PuzzleConfig, type RetransmitConfig, type PeerPolicy } from './config.js';
export type { BexStep, DropReason, EngineEvent, EspSaParams, FailureReason, PeerLocator, Transmit } from './events.js';
export { HipState, type HipStateValue } from './association.js';
export type { EngineStats } from './context.js';
export type { PathInfo, PathState } from './paths.js';
export {
  Registry,
  RegFailure,
  encodeLifetime,
  lifetimeSeconds,
  withViaRvs,
  type LocatorCodec,
  type RegistrarOptions,
  type RegistrationInfo,
  type RegistrationOutcome,
  type RegistrationRequest,
  type RegistryStats,
  type RegFailureEntry,
  type WireTransportAddress,
  type LocatorAddress,
} from './registration.js';
export { type RelayLimits, type RelayServiceStats } from './relay.js';
