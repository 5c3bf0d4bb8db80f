/** The harness for shared suites under `deno test`. */
import assert from "node:assert/strict";
import type { Assert, Harness } from "../suites/harness.ts";

const prefix: string[] = [];

export const denoHarness: Harness = {
  runtime: "deno",
  test: (name, fn, o) => {
    const full = [...prefix, name].join(" > ");
    Deno.test({
      name: full,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = o?.timeout ?? 10_000;
        try {
          await Promise.race([
            Promise.resolve(fn()),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`test timed out after ${limit} ms`)), limit);
            }),
          ]);
        } finally {
          clearTimeout(timer);
        }
      },
    });
  },
  describe: (name, fn) => {
    prefix.push(name);
    try {
      fn();
    } finally {
      prefix.pop();
    }
  },
  assert: assert as unknown as Assert,
};
