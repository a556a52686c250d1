/**
 * Big-integer helpers for the portable provider (MODP Diffie-Hellman and RSA without
 * node:crypto). Plain `bigint`, no dependencies.
 * @module
 */

/** Unsigned big-endian bytes to a bigint (empty bytes are 0). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return BigInt('0x' + hex);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A non-negative bigint to big-endian bytes. With `length` the result is left-padded to exactly
 * that many bytes (returns `undefined` when the value does not fit); without it, the minimal
 * encoding (at least one byte).
 */
export function bigIntToBytes(value: bigint, length?: number): Uint8Array | undefined {
  if (value < 0n) return undefined;
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  const minimal = hex.length / 2;
  const len = length ?? minimal;
  if (minimal > len) {
    // "00" is the minimal hex of zero; it fits any length
    if (value !== 0n) return undefined;
  }
  const out = new Uint8Array(len);
  const skip = Math.max(0, minimal - len);
  for (let i = skip; i < minimal; i++) {
    out[len - minimal + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Number of bits in a non-negative bigint (0 for 0). */
export function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/**
 * `base ** exp mod mod` by left-to-right sliding-window exponentiation. The window trades a
 * small table of odd powers for far fewer multiplications than plain square-and-multiply, which
 * matters for 1024-bit-and-up RSA and MODP exponents. Not constant-time.
 */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod <= 0n) throw new RangeError('modulus must be positive');
  if (mod === 1n) return 0n;
  if (exp < 0n) throw new RangeError('negative exponent');
  let b = base % mod;
  if (b < 0n) b += mod;
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const n = bits.length;
  const w = n > 671 ? 6 : n > 239 ? 5 : n > 79 ? 4 : n > 23 ? 3 : 1;
  // table[k] = b^(2k+1)
  const table: bigint[] = [b];
  if (w > 1) {
    const b2 = (b * b) % mod;
    for (let k = 1; k < 1 << (w - 1); k++) table.push((table[k - 1]! * b2) % mod);
  }
  let result = 1n;
  let started = false;
  let i = 0;
  while (i < n) {
    if (bits.charCodeAt(i) === 48 /* '0' */) {
      if (started) result = (result * result) % mod;
      i++;
      continue;
    }
    let j = Math.min(i + w, n);
    while (bits.charCodeAt(j - 1) === 48) j--;
    const val = parseInt(bits.slice(i, j), 2);
    if (started) {
      for (let s = i; s < j; s++) result = (result * result) % mod;
      result = (result * table[(val - 1) >> 1]!) % mod;
    } else {
      result = table[(val - 1) >> 1]!;
      started = true;
    }
    i = j;
  }
  return result;
}
