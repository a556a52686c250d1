/**
 * Waiting helpers of the libhipl-style API: wake on a socket change, on a BEX step, or after a
 * short poll when the host cannot say whether a control packet is waiting.
 * @module
 */
import type { HipHost } from '../host/host.js';
import type { HiplSock } from './state.js';

/**
 * Poll period for received control packets while a host holds them for BEX steps: their
 * arrival raises no event, so waits look again this often.
 */
export const CONTROL_POLL_MS = 5;

/**
 * Resolve on the next change of any of `socks`, after `timeoutMs` (if finite), when `signal`
 * aborts, or after {@link CONTROL_POLL_MS} while the host of one of them holds control packets
 * for BEX steps.
 */
export function nextChange(socks: readonly HiplSock[], timeoutMs?: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // The host announces queued control packets ('bexPending' wakes the sockets), so a stepping
    // host needs no polling unless it cannot tell.
    const poll = socks.some((s) => s.ref?.stepping === true && s.ref.host.pendingControlPackets === undefined);
    const ms = Math.min(timeoutMs ?? Infinity, poll ? CONTROL_POLL_MS : Infinity);
    let timer: NodeJS.Timeout | undefined;
    const offs = socks.map((s) => s.onChange(done));
    if (ms !== Infinity) timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      for (const off of offs) off();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Let timers and I/O run once, so a loop of calls that have nothing to do cannot starve them. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolve true once the host reports `step` for `peerHit` (e.g. 'i1-sent': the I1 is out, and
 * for TCP the carrier connection is up) or the association is established, false if the BEX
 * with that peer fails or `signal` aborts first.
 */
export function bexStep(host: HipHost, peerHit: string, step: string, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => finish(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    const onBex = (e: { step: string; peerHit: string }) => {
      if (e.peerHit === peerHit && e.step === step) finish(true);
    };
    const onEstablished = (e: { peerHit: string }) => {
      if (e.peerHit === peerHit) finish(true);
    };
    const onFailed = (e: { peerHit: string }) => {
      if (e.peerHit === peerHit) finish(false);
    };
    host.on('bex', onBex);
    host.on('established', onEstablished);
    host.on('failed', onFailed);
    function finish(ok: boolean): void {
      host.off('bex', onBex);
      host.off('established', onEstablished);
      host.off('failed', onFailed);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    }
  });
}
