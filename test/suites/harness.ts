/**
 * The harness shared suites are written against, so that one suite runs under Vitest (Node),
 * `deno test` and Vitest browser mode (Chromium) through thin runners:
 *
 *   test/node/x.test.ts     import { vitestHarness } from "../helpers/vitest-harness.ts"; xSuite(vitestHarness);
 *   test/deno/x.test.ts     import { denoHarness } from "./harness.ts"; xSuite(denoHarness);
 *   test/browser/x.test.ts  import { browserHarness } from "./harness.ts"; xSuite(browserHarness);
 *
 * Suites use `h.assert` (the `node:assert/strict` subset below) and never import a runner.
 */

export interface Assert {
  ok(value: unknown, message?: string): asserts value;
  equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  notEqual(actual: unknown, expected: unknown, message?: string): void;
  deepEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  match(value: string, re: RegExp, message?: string): void;
  /** `expected` may be a predicate returning true, or an object whose keys must match. */
  throws(fn: () => unknown, expected?: ErrorMatcher, message?: string): void;
  rejects(fn: Promise<unknown> | (() => Promise<unknown>), expected?: ErrorMatcher, message?: string): Promise<void>;
  fail(message?: string): never;
}

export type ErrorMatcher = RegExp | ((e: unknown) => boolean) | Record<string, unknown>;

export interface TestOptions {
  /** ms; default 10 s. */
  timeout?: number;
}

export interface Harness {
  /** Which runner: suites may tailor sizes (fuzz counts) but must not skip silently. */
  readonly runtime: "node" | "deno" | "browser";
  test(name: string, fn: () => void | Promise<void>, options?: TestOptions): void;
  /** Groups tests under a name. */
  describe(name: string, fn: () => void): void;
  readonly assert: Assert;
}

/** A shared suite. */
export type Suite = (h: Harness) => void;
