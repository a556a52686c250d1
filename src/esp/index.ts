/**
 * The ESP layer: security associations that seal and open ESP packets, their suites, the
 * anti-replay window and SPI allocation.
 *
 * Import from `hipl/esp`. Programs normally need only the root `hipl` module.
 * @module hipl/esp
 */

export { ESP_SUITES, espSuite, espKeymatLengths, espPacketLength, type EspSuiteInfo } from './suites.js';
export {
  OutboundSa,
  InboundSa,
  espSpi,
  type SaKeys,
  type OutboundSaOptions,
  type EspSequenceMode,
  type InboundSaOptions,
  type EspStats,
  type InboundEspStats,
  type EspDropReason,
  type OpenedEspPacket,
} from './sa.js';
export { ReplayWindow, REPLAY_WINDOW_LIMITS, type ReplayStatus } from './replay.js';
export { SpiAllocator, MIN_SPI } from './spi.js';
