import { expect } from 'vitest';
import { isVfioError } from '../../structs/index.js';

/**
 * Asserts that `call` throws an error of `expected`'s kind (TypeError for a wrong type,
 * RangeError for a wrong value, ...) with exactly its message, carrying an ERR_VFIO_ code.
 */
export function expectThrown(call: () => unknown, expected: Error): void {
  let got: unknown;
  try {
    call();
  } catch (e) {
    got = e;
  }
  expect(got, `expected to throw ${String(expected)}`).toBeInstanceOf(expected.constructor);
  expect((got as Error).message).toBe(expected.message);
  expect(isVfioError(got), `${String(got)} has no ERR_VFIO_ code`).toBe(true);
}

/** What `call` throws (undefined when it returns), for assertions on several of its fields. */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return e;
  }
  return undefined;
}
