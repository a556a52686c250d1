/**
 * Random CBC IVs without a call into the CSPRNG for every packet.
 *
 * CBC IVs must be unpredictable (RFC 3602 §2.4). Bytes are drawn from node:crypto in 4 KiB
 * batches and handed out once each; an IV is public the moment its packet is sent, so sharing
 * one pool between SAs leaks nothing.
 * @internal
 * @module
 */

import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let pos = POOL_SIZE;

/** Write `n` (at most 4096) fresh random bytes into `out` at `offset`. */
export function fillRandomIv(out: Buffer, offset: number, n: number): void {
  if (pos + n > POOL_SIZE) {
    randomFillSync(pool);
    pos = 0;
  }
  pool.copy(out, offset, pos, pos + n);
  pos += n;
}
