/** The harness for shared suites under Vitest on Node. */
import assert from "node:assert/strict";
import { describe, test } from "vitest";
import type { Assert, Harness } from "../suites/harness.ts";

export const vitestHarness: Harness = {
  runtime: "node",
  test: (name, fn, o) => test(name, fn, o?.timeout ?? 10_000),
  describe: (name, fn) => describe(name, fn),
  assert: assert as unknown as Assert,
};
