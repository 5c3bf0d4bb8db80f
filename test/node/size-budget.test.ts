/**
 * The weight budget (issue 8). Bundle size is deterministic, so it is tested here, unlike speed:
 *   - a device's core without mqtt (createDevice, memoryStore, tokenAuth, sigv4), minified ESM for
 *     browsers, stays under the 20 KiB gzip goal;
 *   - the whole core surface (src/mod.ts, mqtt and idb external) and the full browser bundle
 *     (src/browser.ts, everything inside, mqtt.js from its sources as tsup.config.ts builds it) stay
 *     under their caps, measured as a page loads them: what it loads first (the entry and any chunk
 *     the entry imports statically), and everything (plus the chunks loaded on demand: jose, for
 *     deviceJwt), each file gzipped on its own. The full bundle is compared with mqtt.js's own
 *     browser build (dist/mqtt.esm.js, minified the same way).
 * Same esbuild settings, gzip level and code (bench/lib/bundle.ts) as bench/weight.bench.ts.
 * Failing? See which module grew in the message (bytes per input), or run `node bench/weight.bench.ts`.
 */
import { bundle, bundleSplit } from "../../bench/lib/bundle.ts";
import { mqttFromSource } from "../../scripts/browser-mqtt.ts";
import { test } from "vitest";
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const KiB = 1024;
const kib = (b: number) => `${(b / KiB).toFixed(2)} KiB`;

/** The largest inputs of a bundle, for the failure message. */
function top(inputs: Record<string, number>): string {
  return Object.entries(inputs).sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([path, bytes]) => `${path.replace(/^.*node_modules\//, "")} ${bytes} B`).join(", ");
}

/**
 * Issue 8's goals, and where they stand (2026-11-23, esbuild minify, gzip -9; bench/notes/weight-split.md):
 *   - a device's core (createDevice + memoryStore + tokenAuth + sigv4, mqtt external): goal 20 KiB, MET
 *     — enforced below at the goal itself;
 *   - the full browser bundle: goal mqtt.js + 20 KiB, MET: first load mqtt.js + 10.1 KiB, with the
 *     jose chunk mqtt.js + 16.0 KiB (mqtt.js from its sources is 30.6 KiB smaller than its own build);
 *   - the whole core surface (every export of src/mod.ts: + codecs, DBC, JWT): goal 20 KiB, MISSED:
 *     first load 36.5 KiB, with the jose chunk 42.5 KiB.
 * The caps are today's size plus 1 KiB, so nothing grows unnoticed; lower them as code shrinks,
 * never raise them to pass.
 */
const DEVICE_CORE_GOAL = 20 * KiB;
const SURFACE_FIRST_LOAD_CAP = 37.5 * KiB; // goal 20 KiB, missed
const SURFACE_ALL_CAP = 43.5 * KiB; // goal 20 KiB, missed
const FULL_FIRST_LOAD_OVER_MQTT_CAP = 11 * KiB; // goal 20 KiB, met
const FULL_ALL_OVER_MQTT_CAP = 17 * KiB; // goal 20 KiB, met

test("a device's core (createDevice, memoryStore, tokenAuth, sigv4; mqtt external) is under the 20 KiB gzip goal", async () => {
  const core = await bundle({ contents: `export { createDevice, memoryStore, tokenAuth, sigv4 } from "./src/mod.ts";`, resolveDir: root }, { external: ["mqtt", "idb"] });
  assert.ok(
    core.weight.gzip <= DEVICE_CORE_GOAL,
    `device core is ${kib(core.weight.gzip)} gzip (${core.weight.raw} B minified), over the 20 KiB goal. Largest inputs: ${top(core.inputs)}`,
  );
}, 60_000);

test("the whole core surface (src/mod.ts, mqtt external) stays under its caps, first load and with its chunks (goal 20 KiB: missed)", async () => {
  const core = await bundleSplit(root + "src/mod.ts", { external: ["mqtt", "idb"] });
  assert.ok(
    core.initial.gzip <= SURFACE_FIRST_LOAD_CAP,
    `core surface, first load, is ${kib(core.initial.gzip)} gzip (${core.initial.raw} B minified), over its ${kib(SURFACE_FIRST_LOAD_CAP)} cap. Largest inputs: ${top(core.inputs)}`,
  );
  assert.ok(
    core.all.gzip <= SURFACE_ALL_CAP,
    `core surface with its chunks (${core.chunks.map((c) => c.file).join(", ")}) is ${kib(core.all.gzip)} gzip, over its ${kib(SURFACE_ALL_CAP)} cap. Largest inputs: ${top(core.inputs)}`,
  );
}, 60_000);

test("the full browser bundle, first load and with its chunks, stays under mqtt.js's own build + its caps (goal + 20 KiB: met)", async () => {
  const [full, mqtt] = await Promise.all([
    bundleSplit(root + "src/browser.ts", { plugins: [mqttFromSource()] }),
    bundle(root + "node_modules/mqtt/dist/mqtt.esm.js"),
  ]);
  const m = mqtt.weight.gzip;
  assert.ok(
    full.initial.gzip <= m + FULL_FIRST_LOAD_OVER_MQTT_CAP,
    `full browser bundle, first load, is ${kib(full.initial.gzip)} gzip, mqtt.js's own build ${kib(m)}: ` +
      `${kib(full.initial.gzip - m)} over it, cap ${kib(FULL_FIRST_LOAD_OVER_MQTT_CAP)}. Largest inputs: ${top(full.inputs)}`,
  );
  assert.ok(
    full.all.gzip <= m + FULL_ALL_OVER_MQTT_CAP,
    `full browser bundle with its chunks (${full.chunks.map((c) => c.file).join(", ")}) is ${kib(full.all.gzip)} gzip, mqtt.js's own build ${kib(m)}: ` +
      `${kib(full.all.gzip - m)} over it, cap ${kib(FULL_ALL_OVER_MQTT_CAP)}. Largest inputs: ${top(full.inputs)}`,
  );
  // jose (deviceJwt) is loaded on demand, not with the entry
  assert.ok(full.chunks.some((c) => !c.initial && Object.keys(c.inputs).some((p) => p.includes("node_modules/jose/"))), "jose is not in a chunk of its own");
}, 60_000);
