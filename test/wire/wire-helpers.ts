/**
 * Helpers shared by the wire tests: hex packets, error assertions and a plain view of parsed
 * values (byte arrays as hex) for readable deep comparisons.
 */
import { expect } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/bytes.js';
import { HipWireError } from '../../src/errors.js';

export const HIT_I = hexToBytes('20010010000000000000000000000001');
export const HIT_R = hexToBytes('20010010000000000000000000000002');

/** A packet from a header prefix and TLV hex: computes Header Length, checksum 0. */
export function packet(version: 1 | 2, type: number, tlvHex = '', controls = 0): Uint8Array {
  const body = hexToBytes(tlvHex);
  const out = new Uint8Array(40 + body.length);
  out[0] = 59;
  out[1] = out.length / 8 - 1;
  out[2] = type;
  out[3] = (version << 4) | 1;
  out[6] = controls >> 8;
  out[7] = controls & 0xff;
  out.set(HIT_I, 8);
  out.set(HIT_R, 24);
  out.set(body, 40);
  return out;
}

/** Run `fn` and assert it throws a HipWireError with `code`; returns the error. */
export function expectWireError(fn: () => unknown, code: string): HipWireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HipWireError);
    expect((e as HipWireError).code).toBe(code);
    return e as HipWireError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Deep copy with every Uint8Array replaced by its hex string, bigints kept. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${bytesToHex(v)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/** Hex without spaces. */
export function hx(s: string): string {
  return s.replace(/\s+/g, '').toLowerCase();
}

/**
 * A TLV from hex written as Type | Length | contents: bytes past the contents must be zero (they
 * are dropped) and zero padding to a multiple of 8 is appended, so hand-written cases need not
 * count padding. Several TLVs may be given; they are concatenated.
 */
export function tlv(...parts: string[]): string {
  let out = '';
  for (const part of parts) {
    const b = hx(part);
    const len = parseInt(b.slice(4, 8), 16);
    const used = 2 * (4 + len);
    if (b.length < used) throw new Error(`test TLV ${part.slice(0, 20)}: contents shorter than Length ${len}`);
    if (/[^0]/.test(b.slice(used))) throw new Error(`test TLV ${part.slice(0, 20)}: non-zero bytes past the contents`);
    const size = Math.ceil((4 + len) / 8) * 8;
    out += b.slice(0, used) + '00'.repeat(size - 4 - len);
  }
  return out;
}
