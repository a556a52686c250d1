/**
 * The HIP wire codec: packet and parameter parsing and emission, checksums and the bytes
 * covered by MACs and signatures. No crypto, no state.
 * @module
 */
export * from './constants.js';
export * from './types.js';
