/**
 * KEYMAT: the keying material both hosts derive after Diffie-Hellman, and the drawer that
 * slices it into HIP and ESP keys in the RFC order.
 *
 * - HIPv2 (RFC 7401 section 6.5, HIP-DIGEST 4): HKDF with RHASH, salt = #I | #J, IKM = Kij,
 *   info = the two HITs sorted as unsigned 128-bit integers.
 * - HIPv1 (RFC 5201 section 6.5, HIPV1-PROFILE 8.3): a SHA-1 chain,
 *   K1 = SHA-1(Kij | HIT_low | HIT_high | #I | #J | 0x01), Kn = SHA-1(Kij | K(n-1) | n).
 * @module
 */

import { compareBytes, concatBytes } from '../bytes.js';
import { HipCryptoError } from '../errors.js';
import type { HashName } from './keys.js';
import type { CryptoProvider } from './provider.js';

function checkHit(hit: Uint8Array, which: string): void {
  if (hit.length !== 16) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', `${which} must be 16 bytes`, { length: hit.length });
  }
}

/**
 * The two HITs as (lower, greater), compared as unsigned big-endian integers. Which host is
 * "g" and which is "l" in the KEYMAT draw order follows from this.
 *
 * @example
 * ```ts
 * const [low, high] = sortHits(myHit, peerHit);
 * const iAmGreater = high === myHit;
 * ```
 */
export function sortHits(a: Uint8Array, b: Uint8Array): [low: Uint8Array, high: Uint8Array] {
  return compareBytes(a, b) <= 0 ? [a, b] : [b, a];
}

/**
 * HIPv2 KEYMAT: `length` bytes of HKDF-RHASH(salt = i | j, IKM = kij, info = sorted HITs).
 * The HIT order of the arguments does not matter. Throws `HipCryptoError`
 * `ERR_CRYPTO_BAD_LENGTH` for HITs that are not 16 bytes or a length over 255 hash blocks.
 *
 * @example
 * ```ts
 * const km = keymatV2(nodeCrypto, 'sha256', kij, puzzleI, solutionJ, hitI, hitR, 96);
 * ```
 */
export function keymatV2(
  provider: CryptoProvider,
  hash: HashName,
  kij: Uint8Array,
  i: Uint8Array,
  j: Uint8Array,
  hitA: Uint8Array,
  hitB: Uint8Array,
  length: number,
): Uint8Array {
  checkHit(hitA, 'hitA');
  checkHit(hitB, 'hitB');
  const [low, high] = sortHits(hitA, hitB);
  return provider.hkdf(hash, kij, concatBytes(i, j), concatBytes(low, high), length);
}

/** Largest HIPv1 KEYMAT: the block counter is one byte. */
const V1_MAX = 255 * 20;

/**
 * HIPv1 KEYMAT (SHA-1 chain) as libhipl computes it; `kij` must be the unpadded secret
 * (HIPV1-PROFILE 8.2). The HITs are sorted inside. Throws `HipCryptoError`
 * `ERR_CRYPTO_BAD_LENGTH` for HITs that are not 16 bytes or a length outside 0..5100.
 *
 * @example
 * ```ts
 * const km = keymatV1(nodeCrypto, kij, hitI, hitR, puzzleI, solutionJ, 160);
 * ```
 */
export function keymatV1(
  provider: CryptoProvider,
  kij: Uint8Array,
  hitA: Uint8Array,
  hitB: Uint8Array,
  i: Uint8Array,
  j: Uint8Array,
  length: number,
): Uint8Array {
  checkHit(hitA, 'hitA');
  checkHit(hitB, 'hitB');
  if (!Number.isInteger(length) || length < 0 || length > V1_MAX) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', `HIPv1 KEYMAT length must be in 0..${V1_MAX}`, { length });
  }
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const [low, high] = sortHits(hitA, hitB);
  let k = provider.hash('sha1', concatBytes(kij, low, high, i, j, Uint8Array.of(1)));
  out.set(k.subarray(0, Math.min(20, length)));
  // the chain input is Kij | K(n-1) | n; reuse one buffer for it
  const chain = new Uint8Array(kij.length + 21);
  chain.set(kij);
  for (let n = 2, off = 20; off < length; n++, off += 20) {
    chain.set(k, kij.length);
    chain[kij.length + 20] = n;
    k = provider.hash('sha1', chain);
    out.set(k.subarray(0, Math.min(20, length - off)), off);
  }
  return out;
}

/**
 * Hands out consecutive slices of a KEYMAT: HIP-gl enc, HIP-gl int, HIP-lg enc, HIP-lg int,
 * then the ESP keys, each as long as its algorithm needs. `offset` is then the KEYMAT index
 * that goes in ESP_INFO.
 *
 * @example
 * ```ts
 * const d = new KeymatDrawer(km);
 * const glEnc = d.draw(16), glInt = d.draw(32), lgEnc = d.draw(16), lgInt = d.draw(32);
 * const keymatIndex = d.offset; // 96
 * ```
 */
export class KeymatDrawer {
  readonly #keymat: Uint8Array;
  #offset: number;

  /** Start drawing at `offset` (for a rekey, the KEYMAT index agreed in ESP_INFO). */
  constructor(keymat: Uint8Array, offset = 0) {
    if (!Number.isInteger(offset) || offset < 0 || offset > keymat.length) {
      throw new HipCryptoError('ERR_CRYPTO_KEYMAT_EXHAUSTED', `KEYMAT offset ${offset} outside 0..${keymat.length}`, {
        offset,
        length: keymat.length,
      });
    }
    this.#keymat = keymat;
    this.#offset = offset;
  }

  /** Bytes drawn so far (plus the starting offset). */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes still available. */
  get remaining(): number {
    return this.#keymat.length - this.#offset;
  }

  /**
   * The next `n` bytes, as an independent copy. Throws `HipCryptoError`
   * `ERR_CRYPTO_KEYMAT_EXHAUSTED` when fewer than `n` remain (derive a longer KEYMAT).
   */
  draw(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || n > this.remaining) {
      throw new HipCryptoError('ERR_CRYPTO_KEYMAT_EXHAUSTED', `cannot draw ${n} KEYMAT bytes, ${this.remaining} left`, {
        requested: n,
        remaining: this.remaining,
      });
    }
    const out = this.#keymat.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
}
