/**
 * The contract every parser keeps with untrusted bytes (issue 8): it returns a value or throws a
 * {@link HipError} subclass with a stable `ERR_*` code; a TypeError, RangeError or anything else
 * escaping is a bug.
 */
import { expect } from 'vitest';
import { HipError } from '../../src/errors.js';

/** Run `fn`; return its value, or the typed error it threw. Fails the test on any other throw. */
export function valueOrTypedError<T>(fn: () => T): T | HipError {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof HipError)) {
      expect.fail(`expected a value or a HipError, got ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
    }
    expect(e.code).toMatch(/^ERR_[A-Z0-9_]+$/);
    return e;
  }
}

/** fast-check runs per property: enough to find layout bugs, small enough for a shared machine. */
export const FUZZ_RUNS = 400;
