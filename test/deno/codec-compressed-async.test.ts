import { codecCompressedAsyncSuite } from "../suites/codec-compressed-async.suite.ts";
import { loadVectors } from "../suites/codec-vectors.suite.ts";
import { denoHarness } from "./harness.ts";

// ../shared/vectors beside the repository (CI clones it there); THINGWIRE_VECTORS overrides.
let env: string | undefined;
try {
  env = Deno.env.get("THINGWIRE_VECTORS");
} catch {
  // no --allow-env: use the default location
}
const root = env ? new URL(`file://${env.endsWith("/") ? env : env + "/"}`) : new URL("../../../shared/vectors/", import.meta.url);
const vectors = await loadVectors(async (path) => {
  try {
    return await Deno.readFile(new URL(path, root));
  } catch {
    return undefined;
  }
});
codecCompressedAsyncSuite(denoHarness, vectors);
