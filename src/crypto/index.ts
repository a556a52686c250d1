export * from './hit.js';
export * from './host-id.js';
export * from './identity.js';
export * from './keyfile.js';
