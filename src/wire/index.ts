/**
 * The HIP wire codec: packet and parameter parsing and emission, checksums and the bytes
 * covered by MACs and signatures. No crypto, no state.
 *
 * Import from `hipl/wire`. Programs normally need only the root `hipl` module.
 * @module hipl/wire
 */
export * from './constants.js';
export * from './types.js';
export * from './error-codes.js';
export * from './header.js';
export * from './tlv.js';
export * from './params.js';
export * from './params-addresses.js';
export * from './packet.js';
export * from './checksum.js';
export * from './auth-bytes.js';
export * from './pcap.js';
