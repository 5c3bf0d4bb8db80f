/** The golden codec vectors for Node runners: ../shared/vectors beside the repository (CI clones it there); THINGWIRE_VECTORS overrides. */
import { readFile } from "node:fs/promises";
import { loadVectors, type Vectors } from "../suites/codec-vectors.suite.ts";

export function nodeVectors(): Promise<Vectors> {
  const env = process.env.THINGWIRE_VECTORS;
  const root = env ? new URL(`file://${env.endsWith("/") ? env : env + "/"}`) : new URL("../../../shared/vectors/", import.meta.url);
  return loadVectors(async (path) => {
    try {
      return new Uint8Array(await readFile(new URL(path, root)));
    } catch {
      return undefined;
    }
  });
}
