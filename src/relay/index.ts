/**
 * Servers other hosts register with: the rendezvous server (RFC 8004) and its whitelist file.
 * @module
 */
export { createRelay, RelayServer, type RelayClient, type RelayOptions, type RelayStats } from './server.js';
export { loadWhitelist, parseWhitelist } from './whitelist.js';
