/**
 * Log lines for a host's life: each BEX step, established and closed associations, failures
 * and dropped HIP packets. `createHost({ log })` sends them to a function; without one they go
 * to `util.debuglog('hipl')`, printed when `NODE_DEBUG=hipl` is set. The `hipl` command's
 * `--verbose` prints the same lines.
 * @module
 */
import { debuglog } from 'node:util';
import type { HipHost } from '../host/host.js';
import { packetTypeName } from '../wire/constants.js';

/** Where a host's log lines go: one call per line, without a trailing newline. */
export type HiplLog = (line: string) => void;

/** The sink `NODE_DEBUG=hipl` turns on, or undefined when it is off (nothing is formatted then). */
export function nodeDebugLog(): HiplLog | undefined {
  const debug = debuglog('hipl');
  return debug.enabled ? (line) => debug('%s', line) : undefined;
}

/** Write a line to `log` for each event of `host` worth a line. */
export function attachLog(host: HipHost, log: HiplLog): void {
  host.on('bex', (e) => log(`BEX ${e.step} (${packetTypeName(e.packetType)}${e.retransmission ? ', again' : ''}) peer ${e.peerHit} +${e.elapsedMs.toFixed(1)} ms`));
  host.on('established', (e) => log(`established with ${e.peerHit}: HIPv${e.version}, ${e.role}, ${e.carrier} ${e.address}:${e.port}, suite ${e.suite}, ${e.elapsedMs.toFixed(1)} ms`));
  host.on('closed', (e) => log(`association with ${e.peerHit} closed (${e.by})`));
  host.on('failed', (e) => log(`base exchange with ${e.peerHit} failed: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`));
  host.on('dropped', (e) => {
    const what = e.packetType === undefined ? 'a HIP packet' : packetTypeName(e.packetType);
    log(`dropped ${what}${e.peerHit ? ` from ${e.peerHit}` : ''}: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`);
  });
}
