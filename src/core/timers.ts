/**
 * Retransmission timing: exponential backoff with a ceiling (RFC 7401 4.4.3 leaves the numbers
 * to the implementation; the defaults are in config.ts).
 * @module
 */
import type { RetransmitConfig } from './config.js';

/** Timeout before retransmission number `attempt` (0 = the first send). */
export function backoff(cfg: Pick<RetransmitConfig, 'initialMs' | 'maxMs'>, attempt: number): number {
  return Math.min(cfg.maxMs, cfg.initialMs * 2 ** Math.min(attempt, 30));
}
