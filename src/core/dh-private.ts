/**
 * Length of the random private value drawn for each DH group. The engine draws it from its
 * (seedable) random source so a whole BEX is reproducible in tests.
 * @module
 */
import type { CryptoProvider, DhKeyPair } from '../crypto/provider.js';

/**
 * Private key bytes per group: the field size for ECDH, and for MODP an exponent of twice the
 * group's security strength (NIST SP 800-56A), which keeps key generation fast.
 */
export function privateKeyLength(group: number): number {
  switch (group) {
    case 7:
      return 32;
    case 8:
      return 48;
    case 1:
      return 24;
    case 3:
      return 32;
    case 11:
      return 32;
    case 4:
      return 48;
    default:
      return 32;
  }
}

/**
 * A fresh DH key pair from the engine's random source. An ECDH scalar outside [1, n-1] is
 * possible (about 2^-32 for P-256), so a refused draw is simply repeated.
 */
export function newDhKey(provider: CryptoProvider, random: (n: number) => Uint8Array, group: number): DhKeyPair {
  for (let attempt = 0; ; attempt++) {
    try {
      return provider.dhGenerate(group, random(privateKeyLength(group)));
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}
