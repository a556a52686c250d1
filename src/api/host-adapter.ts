/**
 * The two things libhipl's BEX feedback needs from a host that HipHost's public surface does
 * not say directly: "is a received control packet waiting?" (what select(2) reports for a
 * libhipl socket during a BEX) and "process one, but do not wait if none is there" (libhipl
 * reads its socket non-blocking during a feedback step). Kept in one place so a host API for
 * both can replace these without touching the callers.
 * @module
 */
import type { HipHost, HostBexEvent } from '../host/host.js';
import { HipError } from '../errors.js';

/**
 * Number of received control packets waiting for a BEX step, or undefined when the host does
 * not tell (the caller then polls with {@link tryStepBex}).
 */
export function pendingControlPackets(host: HipHost): number | undefined {
  const h = host as unknown as { pendingControlPackets?: unknown; controlQueue?: unknown };
  if (typeof h.pendingControlPackets === 'number') return h.pendingControlPackets;
  if (typeof h.pendingControlPackets === 'function') {
    const n: unknown = (h.pendingControlPackets as () => unknown).call(host);
    if (typeof n === 'number') return n;
  }
  if (Array.isArray(h.controlQueue)) return h.controlQueue.length;
  return undefined;
}

/**
 * Process exactly one waiting control packet and return the BEX steps it caused; undefined when
 * none was waiting. Never waits for a packet to arrive.
 */
export async function tryStepBex(host: HipHost): Promise<HostBexEvent[] | undefined> {
  if (pendingControlPackets(host) === 0) return undefined;
  // stepBex processes a queued packet synchronously and only parks when the queue is empty;
  // aborting right away turns that park into "nothing waiting".
  const ac = new AbortController();
  const step = host.stepBex(ac.signal);
  ac.abort();
  try {
    return await step;
  } catch (e) {
    if (e instanceof HipError && e.code === 'ERR_HIP_ABORTED') return undefined;
    throw e;
  }
}
