/**
 * Crypto: HITs, Host Identity encodings, identities and key files, the two crypto providers
 * (node:crypto and @noble) behind one interface, DH groups, KEYMAT, the puzzle and key
 * conversion.
 *
 * Import from `hipl/crypto`. Programs normally need only the root `hipl` module.
 * @module hipl/crypto
 */
export * from './hit.js';
export * from './host-id.js';
export * from './identity.js';
export * from './load-or-create.js';
export * from './keyfile.js';
export * from './provider.js';
export * from './node-provider.js';
export * from './noble-provider.js';
export * from './get-provider.js';
export * from './dh-groups.js';
export * from './hash-info.js';
export * from './keymat.js';
export * from './puzzle.js';
export * from './key-convert.js';
export * from './keys.js';
