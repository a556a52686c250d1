/**
 * The Node socket API: {@link createHost} and the {@link HiplHost} it returns, datagram
 * sockets ({@link HiplSocket}), streams (Duplex, {@link HiplStream}) and servers
 * ({@link HiplServer}), with peers named by HIT.
 * @module
 */
export { createHost, HiplHost, type CarrierBindOptions, type HiplAddresses, type HiplVia, type CreateHostOptions, type HiplBexEvent, type HiplConnectOptions, type HiplHostEvents } from './host.js';
export { HiplSocket, type HiplLocalPort, type HiplRemoteInfo, type HiplSocketEvents } from './datagram.js';
export { HiplServer, HiplStream, type HiplServerEvents } from './server.js';
export type { HiplLog } from './log.js';
