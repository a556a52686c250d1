/**
 * The libhipl-shaped API: HIPL's `lhipl.h` calls as Node functions. Each returns a Promise of
 * what the C function returns (a byte count, an id, 0, or a negative errno such as
 * `-EWAITBEX`); none throws for bad input. See `examples/README.md` for the call-by-call mapping.
 *
 * @example
 * ```ts
 * await hiplLibInitAll(HIPL_LIB_LOG_NONE);
 * await hiplAddPeerInfo(peerHit, '127.0.0.1');
 * const id = await hiplSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
 * await hiplBind(id, { address: '127.0.0.1', port: 22345 });
 * const n = await hiplSendto(id, 'Hello Sailor!', 13, 0, peerHit, 22300);
 * ```
 * @module
 */
export * from './constants.js';
export { hiplLibInitAll, hiplLibSetBexFeedback, hiplLibBexFeedback, hiplLibSetNonblock, hiplLibGetSockfd, hiplAddPeerInfo, hiplGetDefaultHit, type HiplLibOptions } from './lib.js';
export { hiplSocket, hiplBind, hiplListen, hiplAccept, hiplConnect, hiplClose, hiplGetsockname, hiplLibShutdownAll, type HiplSocketOptions, type HiplSockAddr } from './sockets.js';
export { hiplSendto, hiplRecvfrom, type HiplPeer } from './io.js';
export { hiplSelect, type HiplSelectSets, type HiplSelectResult } from './select.js';
export type { HiplLogSink } from './log.js';
