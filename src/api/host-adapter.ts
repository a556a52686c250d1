/**
 * What libhipl's BEX feedback needs from a host: "is a received control packet waiting?" (what
 * select(2) reports for a libhipl socket during a BEX) and "process one, but do not wait if none
 * is there" (libhipl reads its socket non-blocking during a feedback step). Kept in one place so
 * the callers do not depend on the host's stepping API directly.
 * @module
 */
import type { HipHost, HostBexEvent } from '../host/host.js';

/**
 * Number of received control packets waiting for a BEX step. Always known; `undefined` stays in
 * the type for callers written against hosts that cannot tell.
 */
export function pendingControlPackets(host: HipHost): number | undefined {
  return host.pendingControlPackets;
}

/**
 * Process exactly one waiting control packet and return the BEX steps it caused; undefined when
 * none was waiting. Never waits for a packet to arrive.
 */
export function tryStepBex(host: HipHost): Promise<HostBexEvent[] | undefined> {
  return host.stepBex({ wait: false });
}
