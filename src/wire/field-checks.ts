/**
 * Range checks for values about to be written, shared by the parameter encoders. Each failure
 * is a HipWireError ERR_HIP_BAD_FIELD naming the parameter and field.
 * @module
 */
import { paramTypeName } from './constants.js';
import { WireErrorCode, wireError } from './error-codes.js';

/** Throw ERR_HIP_BAD_FIELD for `field` of a parameter of type `type`. */
export function badParamField(type: number, field: string, value: unknown, why: string): never {
  throw wireError(
    WireErrorCode.BAD_FIELD,
    `${paramTypeName(type)}.${field} ${why}`,
    { paramType: type, field, value },
  );
}

/** `v` as an unsigned integer of `bits` bits (8, 16 or 32), or throw. */
export function checkUint(type: number, field: string, v: unknown, bits: 4 | 7 | 8 | 12 | 16 | 32): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    badParamField(type, field, v, `must be an integer in 0..${max}`);
  }
  return v;
}

/** `v` as a Uint8Array, of exactly `len` bytes when given, or throw. */
export function checkBytes(type: number, field: string, v: unknown, len?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) badParamField(type, field, typeof v, 'must be a Uint8Array');
  if (len !== undefined && v.length !== len) {
    badParamField(type, field, v.length, `must be ${len} bytes long`);
  }
  return v;
}

/** `v` as an array of unsigned integers of `bits` bits, or throw. */
export function checkUintList(type: number, field: string, v: unknown, bits: 8 | 16 | 32): number[] {
  if (!Array.isArray(v)) badParamField(type, field, typeof v, 'must be an array');
  for (let i = 0; i < v.length; i++) checkUint(type, `${field}[${i}]`, v[i], bits);
  return v as number[];
}
