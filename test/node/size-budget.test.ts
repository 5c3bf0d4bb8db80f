/**
 * The weight budget (issue 8). Bundle size is deterministic, so it is tested here, unlike speed:
 *   - the core without mqtt (src/mod.ts, mqtt and idb external), minified ESM for browsers,
 *     stays under 20 KiB gzip;
 *   - the full browser bundle (src/browser.ts, everything inside) stays under mqtt.js's own
 *     browser build (dist/mqtt.esm.js, minified the same way) plus 20 KiB gzip.
 * Same esbuild settings and gzip level as bench/weight.bench.ts. Failing? See which module grew
 * in the message (bytes per input), or run `npm run bench -- --only=weight`.
 */
import { build, type Metafile } from "esbuild";
import { gzipSync } from "node:zlib";
import { test } from "vitest";
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const KiB = 1024;

async function gzipSize(entry: string, external: string[] = []): Promise<{ gzip: number; raw: number; top: string }> {
  const r = await build({
    entryPoints: [root + entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external,
    outfile: "out.js",
  });
  const out = r.outputFiles.find((f) => f.path.endsWith(".js"))!.contents;
  const meta: Metafile = r.metafile;
  const inputs = Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs));
  const top = inputs.sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 8)
    .map(([path, i]) => `${path.replace(/^.*node_modules\//, "")} ${i.bytesInOutput} B`).join(", ");
  return { gzip: gzipSync(out, { level: 9 }).byteLength, raw: out.byteLength, top };
}

test("the core without mqtt is under 20 KiB gzip", async () => {
  const core = await gzipSize("src/mod.ts", ["mqtt", "idb"]);
  assert.ok(
    core.gzip <= 20 * KiB,
    `core bundle is ${(core.gzip / KiB).toFixed(2)} KiB gzip (${core.raw} B minified), over the 20 KiB budget. Largest inputs: ${core.top}`,
  );
}, 60_000);

test("the full browser bundle is under mqtt.js's own build + 20 KiB gzip", async () => {
  const [full, mqtt] = await Promise.all([gzipSize("src/browser.ts"), gzipSize("node_modules/mqtt/dist/mqtt.esm.js")]);
  assert.ok(
    full.gzip <= mqtt.gzip + 20 * KiB,
    `full browser bundle is ${(full.gzip / KiB).toFixed(2)} KiB gzip, mqtt.js's own build ${(mqtt.gzip / KiB).toFixed(2)} KiB: ` +
      `${((full.gzip - mqtt.gzip) / KiB).toFixed(2)} KiB over it, budget 20 KiB. Largest inputs: ${full.top}`,
  );
}, 60_000);
