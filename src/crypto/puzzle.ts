/**
 * The HIP puzzle (RFC 7401 sections 4.1.2 and 5.2.4; RFC 5201 for v1): find #J such that the K
 * lowest-order bits of RHASH(#I | HIT-I | HIT-R | #J) are zero. HIT-I is always the
 * Initiator's HIT and HIT-R the Responder's, whichever way the packet goes.
 * @module
 */

import { HipCryptoError } from '../errors.js';
import { hashLength } from './hash-info.js';
import type { HashName } from './keys.js';
import type { CryptoProvider } from './provider.js';

/** The inputs that identify one puzzle. */
export interface PuzzleInput {
  /** RHASH (v1: always SHA-1). */
  hash: HashName;
  /** #I from the PUZZLE parameter (RHASH_len / 8 bytes in v2, 8 in v1). */
  i: Uint8Array;
  /** The Initiator's HIT. */
  hitI: Uint8Array;
  /** The Responder's HIT. */
  hitR: Uint8Array;
}

/** A proposed solution to check. */
export interface PuzzleSolution extends PuzzleInput {
  /** #J from the SOLUTION parameter; must be as long as #I. */
  j: Uint8Array;
  /** Difficulty #K in bits. */
  k: number;
}

/** Options of {@link solvePuzzle}. */
export interface SolvePuzzleOptions extends PuzzleInput {
  /** Difficulty #K in bits. */
  k: number;
  /** Length of #J in bytes; defaults to the length of #I. */
  jLength?: number;
  /** Source of the random starting #J; defaults to the provider's randomBytes. */
  random?: (n: number) => Uint8Array;
  /**
   * Give up after this many hashes. Defaults to 2^(K+6), which fails by bad luck with
   * probability about e^-64.
   */
  maxAttempts?: number;
  /** Give up once `now()` reaches this time (same clock as `now`, e.g. ms since the epoch). */
  deadline?: number;
  /** Clock for `deadline`; defaults to `Date.now`. */
  now?: () => number;
}

/** Options of {@link solvePuzzleAsync}. */
export interface SolvePuzzleAsyncOptions extends SolvePuzzleOptions {
  /** Stops the search at the next slice boundary. */
  signal?: AbortSignal;
  /** Hashes per slice between yields to the event loop (default 4096). */
  sliceAttempts?: number;
}

function checkHits(hitI: Uint8Array, hitR: Uint8Array): void {
  if (hitI.length !== 16 || hitR.length !== 16) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'puzzle HITs must be 16 bytes', {
      hitI: hitI.length,
      hitR: hitR.length,
    });
  }
}

/**
 * RHASH(#I | HIT-I | HIT-R | #J), the digest the puzzle is about.
 *
 * @example
 * ```ts
 * const d = puzzleHash(nodeCrypto, 'sha1', i, hitI, hitR, j);
 * ```
 */
export function puzzleHash(
  provider: CryptoProvider,
  hash: HashName,
  i: Uint8Array,
  hitI: Uint8Array,
  hitR: Uint8Array,
  j: Uint8Array,
): Uint8Array {
  checkHits(hitI, hitR);
  const buf = new Uint8Array(i.length + 32 + j.length);
  buf.set(i, 0);
  buf.set(hitI, i.length);
  buf.set(hitR, i.length + 16);
  buf.set(j, i.length + 32);
  return provider.hash(hash, buf);
}

/** Whether the `k` lowest-order bits of a big-endian digest are zero. */
export function lowBitsZero(digest: Uint8Array, k: number): boolean {
  const full = k >> 3;
  const rem = k & 7;
  if (full + (rem > 0 ? 1 : 0) > digest.length) return false;
  const last = digest.length - 1;
  for (let b = 0; b < full; b++) if (digest[last - b] !== 0) return false;
  return rem === 0 || (digest[last - full]! & ((1 << rem) - 1)) === 0;
}

/**
 * libhipl's verifier reads only the last 32 bits of a SHA-1 puzzle digest and fails when they
 * are all zero (HIPV1-PROFILE 10); a solver that may face libhipl must skip such a #J.
 */
function libhiplRejects(digest: Uint8Array, k: number): boolean {
  const n = digest.length;
  return k > 0 && (digest[n - 1]! | digest[n - 2]! | digest[n - 3]! | digest[n - 4]!) === 0;
}

function validK(k: number, hash: HashName): boolean {
  return Number.isInteger(k) && k >= 0 && k <= hashLength(hash) * 8;
}

/**
 * Check a puzzle solution as the RFC says: the K lowest-order bits of the digest are zero.
 * Returns false (never throws) for a wrong #J, a #J of another length than #I or an impossible
 * K; throws `HipCryptoError` `ERR_CRYPTO_BAD_LENGTH` only for HITs that are not 16 bytes.
 *
 * @example
 * ```ts
 * verifyPuzzle(nodeCrypto, { hash: 'sha256', i, hitI, hitR, j, k: 10 }) // true or false
 * ```
 */
export function verifyPuzzle(provider: CryptoProvider, s: PuzzleSolution): boolean {
  checkHits(s.hitI, s.hitR);
  if (s.j.length !== s.i.length || !validK(s.k, s.hash)) return false;
  return lowBitsZero(puzzleHash(provider, s.hash, s.i, s.hitI, s.hitR, s.j), s.k);
}

/**
 * One running search: a single input buffer whose #J tail is incremented in place, so each
 * attempt costs one hash and no allocation of ours. A caller that must not block (the
 * engine's initiator) runs it a slice at a time with {@link PuzzleSearch.run}.
 *
 * @example
 * ```ts
 * const search = new PuzzleSearch(nodeCrypto, { hash: 'sha256', i, hitI, hitR, k: 18 });
 * let j; while (!(j = search.run(4096))) await new Promise((r) => setImmediate(r));
 * ```
 */
export class PuzzleSearch {
  readonly #provider: CryptoProvider;
  readonly #hash: HashName;
  readonly #k: number;
  readonly #buf: Uint8Array;
  readonly #jOff: number;
  readonly #quirk: boolean;
  /** Hashes tried so far. */
  attempts = 0;

  /**
   * Start a search at a random #J (from `o.random`). Throws `ERR_PUZZLE_UNSOLVABLE` for an
   * impossible K and `ERR_CRYPTO_BAD_LENGTH` for a bad #J length.
   */
  constructor(provider: CryptoProvider, o: SolvePuzzleOptions) {
    checkHits(o.hitI, o.hitR);
    if (!validK(o.k, o.hash)) {
      throw new HipCryptoError('ERR_PUZZLE_UNSOLVABLE', `puzzle difficulty ${o.k} is impossible for ${o.hash}`, {
        k: o.k,
      });
    }
    const jLength = o.jLength ?? o.i.length;
    if (!Number.isInteger(jLength) || jLength < 1 || jLength > 64) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', '#J length must be 1..64 bytes', { jLength });
    }
    const start = (o.random ?? ((n: number) => provider.randomBytes(n)))(jLength);
    if (start.length !== jLength) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'random source returned the wrong length', {
        expected: jLength,
        length: start.length,
      });
    }
    this.#provider = provider;
    this.#hash = o.hash;
    this.#k = o.k;
    this.#jOff = o.i.length + 32;
    this.#buf = new Uint8Array(this.#jOff + jLength);
    this.#buf.set(o.i, 0);
    this.#buf.set(o.hitI, o.i.length);
    this.#buf.set(o.hitR, o.i.length + 16);
    this.#buf.set(start, this.#jOff);
    this.#quirk = o.hash === 'sha1';
  }

  /** Try up to `n` values of #J; the solution, or undefined if none was found. */
  run(n: number): Uint8Array | undefined {
    const buf = this.#buf;
    const provider = this.#provider;
    const hash = this.#hash;
    const k = this.#k;
    const last = buf.length - 1;
    const jOff = this.#jOff;
    for (let t = 0; t < n; t++) {
      this.attempts++;
      const d = provider.hash(hash, buf);
      if (lowBitsZero(d, k) && !(this.#quirk && libhiplRejects(d, k))) return buf.slice(jOff);
      // #J += 1, big-endian, wrapping
      for (let p = last; p >= jOff; p--) {
        const v = (buf[p]! + 1) & 0xff;
        buf[p] = v;
        if (v !== 0) break;
      }
    }
    return undefined;
  }
}

function attemptBudget(o: SolvePuzzleOptions): number {
  if (o.maxAttempts !== undefined) {
    if (!(o.maxAttempts >= 0)) {
      throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'maxAttempts must be a non-negative number', {
        maxAttempts: o.maxAttempts,
      });
    }
    return o.maxAttempts;
  }
  return 2 ** Math.min(o.k + 6, 52);
}

function timeout(attempts: number, why: string): HipCryptoError {
  return new HipCryptoError('ERR_PUZZLE_TIMEOUT', `puzzle not solved: ${why} after ${attempts} attempts`, {
    attempts,
  });
}

/** Clock checks cost more than a hash; look at the clock this often. */
const CLOCK_EVERY = 256;

/**
 * Solve a puzzle synchronously, starting from a random #J and counting up. Bounded by
 * `maxAttempts` and `deadline`; on either, throws `HipCryptoError` `ERR_PUZZLE_TIMEOUT`. An
 * impossible K throws `ERR_PUZZLE_UNSOLVABLE`. For SHA-1 it also skips the rare #J that libhipl
 * would wrongly reject. Blocks the thread: for K above ~16 prefer {@link solvePuzzleAsync}.
 *
 * @example
 * ```ts
 * const j = solvePuzzle(nodeCrypto, { hash: 'sha256', i, hitI, hitR, k: 10 });
 * ```
 */
export function solvePuzzle(provider: CryptoProvider, o: SolvePuzzleOptions): Uint8Array {
  const search = new PuzzleSearch(provider, o);
  const budget = attemptBudget(o);
  const now = o.now ?? Date.now;
  while (search.attempts < budget) {
    if (o.deadline !== undefined && now() >= o.deadline) throw timeout(search.attempts, 'deadline passed');
    const found = search.run(Math.min(CLOCK_EVERY, budget - search.attempts));
    if (found !== undefined) return found;
  }
  throw timeout(search.attempts, 'attempt limit reached');
}

const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Solve a puzzle without blocking the event loop: works in slices of `sliceAttempts` hashes and
 * yields between them, so timers, I/O and an `AbortSignal` get their turn. Rejects with
 * `HipCryptoError` `ERR_PUZZLE_TIMEOUT` (attempt limit or deadline, e.g. the puzzle lifetime)
 * or `ERR_PUZZLE_ABORTED` (the signal fired; its reason is in `details.reason`).
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const j = await solvePuzzleAsync(nodeCrypto, {
 *   hash: 'sha384', i, hitI, hitR, k: 18, deadline: Date.now() + 32_000, signal: ac.signal,
 * });
 * ```
 */
export async function solvePuzzleAsync(provider: CryptoProvider, o: SolvePuzzleAsyncOptions): Promise<Uint8Array> {
  const search = new PuzzleSearch(provider, o);
  const budget = attemptBudget(o);
  const now = o.now ?? Date.now;
  const slice = o.sliceAttempts ?? 4096;
  if (!Number.isInteger(slice) || slice < 1) {
    throw new HipCryptoError('ERR_CRYPTO_BAD_LENGTH', 'sliceAttempts must be a positive integer', {
      sliceAttempts: slice,
    });
  }
  for (;;) {
    if (o.signal?.aborted) {
      throw new HipCryptoError('ERR_PUZZLE_ABORTED', 'puzzle search aborted', { reason: o.signal.reason });
    }
    const sliceEnd = Math.min(search.attempts + slice, budget);
    while (search.attempts < sliceEnd) {
      if (o.deadline !== undefined && now() >= o.deadline) throw timeout(search.attempts, 'deadline passed');
      const found = search.run(Math.min(CLOCK_EVERY, sliceEnd - search.attempts));
      if (found !== undefined) return found;
    }
    if (search.attempts >= budget) throw timeout(search.attempts, 'attempt limit reached');
    await yieldToEventLoop();
  }
}
