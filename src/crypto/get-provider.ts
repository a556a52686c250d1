/**
 * Provider selection by name.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import { nobleCrypto } from './noble-provider.js';
import { nodeCrypto } from './node-provider.js';
import type { CryptoProvider } from './provider.js';

/**
 * The crypto provider with the given name; node:crypto when no name is given.
 * Throws `HipCryptoError` `ERR_CRYPTO_UNSUPPORTED` for any other name.
 *
 * @example
 * ```ts
 * const portable = getProvider('noble');
 * ```
 */
export function getProvider(name: 'node' | 'noble' = 'node'): CryptoProvider {
  if (name === 'node') return nodeCrypto;
  if (name === 'noble') return nobleCrypto;
  throw new HipCryptoError('ERR_CRYPTO_UNSUPPORTED', `unknown crypto provider ${String(name)}`, { name });
}
