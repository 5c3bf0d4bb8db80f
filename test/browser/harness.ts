/** The harness for shared suites under Vitest browser mode (Chromium): `node:assert` is not there, so map onto `expect`. */
import { describe, expect, test } from "vitest";
import type { Assert, ErrorMatcher, Harness } from "../suites/harness.ts";

function check(e: unknown, expected?: ErrorMatcher, message?: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    expect(String((e as Error)?.message ?? e), message).toMatch(expected);
  } else if (typeof expected === "function") {
    expect(expected(e), message ?? `error did not satisfy predicate: ${String(e)}`).toBe(true);
  } else {
    expect(e, message).toMatchObject(expected);
  }
}

const assert: Assert = {
  ok(value, message) {
    expect(Boolean(value), message).toBe(true);
  },
  equal(actual, expected, message) {
    expect(actual, message).toBe(expected);
  },
  notEqual(actual, expected, message) {
    expect(actual, message).not.toBe(expected);
  },
  deepEqual(actual, expected, message) {
    expect(actual, message).toStrictEqual(expected);
  },
  match(value, re, message) {
    expect(value, message).toMatch(re);
  },
  throws(fn, expected, message) {
    let thrown = false;
    try {
      fn();
    } catch (e) {
      thrown = true;
      check(e, expected, message);
    }
    expect(thrown, message ?? "expected function to throw").toBe(true);
  },
  async rejects(p, expected, message) {
    let thrown = false;
    try {
      await (typeof p === "function" ? p() : p);
    } catch (e) {
      thrown = true;
      check(e, expected, message);
    }
    expect(thrown, message ?? "expected promise to reject").toBe(true);
  },
  fail(message) {
    throw new Error(message ?? "failed");
  },
};

export const browserHarness: Harness = {
  runtime: "browser",
  test: (name, fn, o) => test(name, fn, o?.timeout ?? 10_000),
  describe: (name, fn) => describe(name, fn),
  assert,
};
