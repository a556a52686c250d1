/**
 * Small checks for configuration options, shared by the engine and the host: each failure is a
 * `HipArgumentError` with code `ERR_HIP_BAD_OPTION` whose message and `details.option` name the
 * option, so a bad setting fails at creation instead of breaking the first exchange (issue 8).
 * @module
 */
import { HipArgumentError } from '../errors.js';

/** Error code of every rejected option. */
export const BAD_OPTION = 'ERR_HIP_BAD_OPTION';

/** A rejected option: `details.option` is its dotted name, `details.value` what was given. */
export function badOption(option: string, rule: string, value: unknown): HipArgumentError {
  return new HipArgumentError(BAD_OPTION, `option ${option} ${rule}, got ${show(value)}`, { option, value });
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v !== null && typeof v === 'object') return Object.keys(v).length === 0 ? '{}' : 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** An integer in `min..max`. */
export function checkInteger(option: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badOption(option, max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer ${min}..${max}`, v);
  }
}

/** A finite number of milliseconds (or other quantity) of at least `min`. */
export function checkNumber(option: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw badOption(option, `must be a finite number of at least ${min}`, v);
  }
}

/** A boolean. */
export function checkBoolean(option: string, v: unknown): void {
  if (typeof v !== 'boolean') throw badOption(option, 'must be true or false', v);
}

/** One of the listed values. */
export function checkOneOf(option: string, v: unknown, values: readonly unknown[]): void {
  if (!values.includes(v)) throw badOption(option, `must be one of ${values.map(show).join(', ')}`, v);
}

/** A non-empty list of IDs, each one of `known`. */
export function checkIdList(option: string, v: unknown, known: (id: number) => boolean): void {
  if (!Array.isArray(v) || v.length === 0) throw badOption(option, 'must be a non-empty list', v);
  for (const id of v) if (typeof id !== 'number' || !known(id)) throw badOption(option, `lists ${show(id)}, which hipl does not implement`, v);
}
