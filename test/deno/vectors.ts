/** The golden codec vectors for Deno runners: ../shared/vectors beside the repository (CI clones it there); THINGWIRE_VECTORS overrides. */
import { loadVectors, type Vectors } from "../suites/codec-vectors.suite.ts";

export function denoVectors(): Promise<Vectors> {
  let env: string | undefined;
  try {
    env = Deno.env.get("THINGWIRE_VECTORS");
  } catch {
    // no --allow-env: use the default location
  }
  const root = env ? new URL(`file://${env.endsWith("/") ? env : env + "/"}`) : new URL("../../../shared/vectors/", import.meta.url);
  return loadVectors(async (path) => {
    try {
      return await Deno.readFile(new URL(path, root));
    } catch {
      return undefined;
    }
  });
}
