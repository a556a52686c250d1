/**
 * Small byte helpers used across layers. A leaf module: imports nothing of ours.
 * @module
 */

/**
 * Hex string (spaces and colons ignored) to bytes.
 *
 * @example
 * ```ts
 * hexToBytes('2001 0010') // Uint8Array [0x20, 0x01, 0x00, 0x10]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(`not a hex string: ${hex.slice(0, 40)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Bytes to lower-case hex without separators.
 *
 * @example
 * ```ts
 * bytesToHex(new Uint8Array([1, 255])) // '01ff'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Concatenate byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time-ish equality for byte arrays of possibly different length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Compare as unsigned big-endian integers of equal length: -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** A DataView over exactly the given bytes. */
export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The number of bytes in `bytes`, or in all its pieces together when given as pieces. */
export function byteLength(bytes: Uint8Array | readonly Uint8Array[]): number {
  if (!Array.isArray(bytes)) return (bytes as Uint8Array).length;
  let n = 0;
  for (const b of bytes as readonly Uint8Array[]) n += b.length;
  return n;
}
