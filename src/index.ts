/**
 * hipl: the Host Identity Protocol for Node.js over plain UDP and TCP sockets.
 *
 * Layers, top to bottom (see DESIGN.md): the libhipl-style API and the Node socket API, the
 * host (identity, carriers, ESP, timers), the sans-IO protocol engine, ESP, crypto and the wire
 * codec. Everything a program needs is exported here; the lower layers are exported too, for
 * tools, tests and debugging.
 * @module
 */
export * from './errors.js';
export * from './bytes.js';
export * from './wire/index.js';
export * from './crypto/index.js';
export * from './esp/index.js';
export * from './core/index.js';
export * from './transport/index.js';
export * from './host/index.js';
export * from './api/index.js';
export * from './socket/index.js';
export * from './relay/index.js';
