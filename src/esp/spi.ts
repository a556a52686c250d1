/**
 * Choosing the SPIs a host asks its peers to send to.
 *
 * Each inbound SA needs an SPI that is unpredictable (RFC 7402 §4.1: random, new per peer, per
 * base exchange and per rekey) and unique among the host's live inbound SAs, since the SPI alone
 * selects the SA for an arriving packet. Values 0–255 are never used: 0 is reserved for local
 * use (and marks a non-ESP packet in UDP encapsulation) and 1–255 are reserved by IANA
 * (RFC 4303 §2.1).
 * @module
 */

import { HipEspError } from '../errors.js';

/** The smallest SPI a host may choose. */
export const MIN_SPI = 256;

// Drawing a taken or reserved value twice in a row is already unlikely (1 in 2^24 when few SPIs
// are live); this many in a row means the random source is broken or the space is full.
const MAX_DRAWS = 64;

/**
 * Hands out random inbound SPIs, unique among the ones not yet released.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const spis = new SpiAllocator();
 * const spi = spis.allocate(randomBytes); // carried in our ESP_INFO as NEW SPI
 * // ... when the SA is deleted:
 * spis.release(spi);
 * ```
 */
export class SpiAllocator {
  readonly #live = new Set<number>();

  /**
   * Draw a fresh SPI ≥ 256 that no live SA uses, and mark it live.
   *
   * @param random returns n random bytes; only the first 4 of each draw are used.
   * @throws HipEspError `ERR_ESP_BAD_RANDOM` when `random` returns fewer than 4 bytes,
   *   `ERR_ESP_SPI_EXHAUSTED` when 64 draws in a row gave reserved or taken values.
   */
  allocate(random: (n: number) => Uint8Array): number {
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const r = random(4);
      if (!(r instanceof Uint8Array) || r.length < 4) {
        throw new HipEspError('ERR_ESP_BAD_RANDOM', 'random source returned fewer than 4 bytes');
      }
      const spi = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
      if (spi >= MIN_SPI && !this.#live.has(spi)) {
        this.#live.add(spi);
        return spi;
      }
    }
    throw new HipEspError('ERR_ESP_SPI_EXHAUSTED', `no free SPI after ${String(MAX_DRAWS)} random draws`, { live: this.#live.size });
  }

  /**
   * Return an SPI to the pool (when its SA is deleted).
   *
   * @returns whether the SPI was live.
   */
  release(spi: number): boolean {
    return this.#live.delete(spi);
  }

  /** Whether the SPI is currently handed out. */
  has(spi: number): boolean {
    return this.#live.has(spi);
  }

  /** How many SPIs are currently handed out. */
  get size(): number {
    return this.#live.size;
  }
}
