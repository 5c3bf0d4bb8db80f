import { readFile } from "node:fs/promises";
import { codecCompressedAsyncSuite } from "../suites/codec-compressed-async.suite.ts";
import { loadVectors } from "../suites/codec-vectors.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

// ../shared/vectors beside the repository (CI clones it there); THINGWIRE_VECTORS overrides.
const env = process.env.THINGWIRE_VECTORS;
const root = env ? new URL(`file://${env.endsWith("/") ? env : env + "/"}`) : new URL("../../../shared/vectors/", import.meta.url);
const vectors = await loadVectors(async (path) => {
  try {
    return new Uint8Array(await readFile(new URL(path, root)));
  } catch {
    return undefined;
  }
});
codecCompressedAsyncSuite(vitestHarness, vectors);
