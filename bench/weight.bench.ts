/**
 * Weight: what a browser downloads. esbuild bundles (minified ESM, browser platform) of
 *   - thingwire's full browser entry (src/browser.ts: core + IndexedDB store + mqtt.js + idb + fflate),
 *     built as tsup.config.ts builds dist/browser: code splitting on (jose, for deviceJwt, is a chunk
 *     loaded on demand) and mqtt.js from its sources (scripts/browser-mqtt.ts). Reported twice: the
 *     first load (the entry and any chunk it imports statically) and with every chunk (the sum of
 *     the files, each compressed on its own);
 *   - thingwire's core without mqtt (src/mod.ts, mqtt and idb external), the same two ways,
 *   - mqtt.js's own browser build (node_modules/mqtt/dist/mqtt.esm.js, re-minified the same way),
 *   - aws-iot-device-sdk-v2's browser entry (its package.json "browser" field), installed into
 *     bench/.work with `npm install --prefix` (never the repo's node_modules, never committed).
 * Sizes raw, gzip -9 and brotli q11 from node:zlib.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { byPackage, bundle, bundleSplit, type SplitBundle, type Weight, weigh } from "./lib/bundle.ts";
import { mqttFromSource } from "../scripts/browser-mqtt.ts";
import { type Chart, round, row, type Row, writeResult } from "./lib/results.ts";
import { KiB } from "./lib/stats.ts";

const root = new URL("..", import.meta.url).pathname;
const work = join(root, "bench/.work");
const AWS = "aws-iot-device-sdk-v2";
const AWS_VERSION = "1.28.0";
const BUDGET_CORE_GZIP = 20 * KiB;
const BUDGET_OVER_MQTT_GZIP = 20 * KiB;

function ensureAws(): string {
  const pkgFile = join(work, "node_modules", AWS, "package.json");
  if (!existsSync(pkgFile)) {
    console.log(`weight: installing ${AWS}@${AWS_VERSION} into bench/.work (npm install --prefix)`);
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
    const r = spawnSync(npm[0]!, [...npm.slice(1), "install", "--prefix", work, "--no-audit", "--no-fund", "--no-save", `${AWS}@${AWS_VERSION}`], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`npm install --prefix bench/.work ${AWS} failed`);
  }
  return pkgFile;
}

const notes: string[] = [];
const rows: Row[] = [];
const weights: Record<string, Weight | null> = {};
const kib = (b: number) => round(b / KiB, 1);

async function measure(name: string, fn: () => Promise<Weight>): Promise<Weight | null> {
  try {
    const w = await fn();
    weights[name] = w;
    console.log(`weight: ${name}: raw ${w.raw} B, gzip ${w.gzip} B, brotli ${w.brotli} B`);
    return w;
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n").slice(0, 3).join(" ") : String(e);
    notes.push(`Not measured: ${name} (${why}).`);
    console.log(`weight: ${name}: not measured: ${why}`);
    weights[name] = null;
    return null;
  }
}

const mqttPkg = JSON.parse(readFileSync(join(root, "node_modules/mqtt/package.json"), "utf8"));
const mqttFile = join(root, "node_modules/mqtt/dist/mqtt.esm.js");

const splits: Record<string, SplitBundle> = {};
async function measureSplit(name: string, fn: () => Promise<SplitBundle>): Promise<SplitBundle | null> {
  const r = await measure(`${name}, first load`, async () => (splits[name] = await fn()).initial);
  if (!r) return null;
  const s = splits[name]!;
  weights[`${name}, with its chunks`] = s.all;
  console.log(`weight: ${name}, with its chunks (${s.chunks.map((c) => c.file).join(", ")}): raw ${s.all.raw} B, gzip ${s.all.gzip} B, brotli ${s.all.brotli} B`);
  return s;
}

const full = await measureSplit("thingwire full (src/browser.ts)", async () => {
  const r = await bundleSplit(join(root, "src/browser.ts"), { plugins: [mqttFromSource()] });
  notes.push(`thingwire full bundle by package, entry and chunks (minified bytes before compression): ${byPackage(r.inputs).map(([k, v]) => `${k} ${(v / KiB).toFixed(1)} KiB`).join(", ")}.`);
  notes.push(`thingwire full bundle files: ${["entry " + kib(r.entry.gzip) + " KiB", ...r.chunks.map((c) => `${c.file} ${kib(c.weight.gzip)} KiB (${c.initial ? "loaded with the entry" : "loaded on demand"})`)].join(", ")} gzip.`);
  return r;
});
const core = await measureSplit("thingwire whole surface without mqtt (src/mod.ts)", async () =>
  bundleSplit(join(root, "src/mod.ts"), { external: ["mqtt", "idb"] }));
// What a device ships (the test's "device core", test/node/size-budget.test.ts): createDevice, memoryStore, tokenAuth, sigv4.
const deviceCore = await measure("thingwire device core without mqtt", async () =>
  (await bundle({ contents: `export { createDevice, memoryStore, tokenAuth, sigv4 } from "./src/mod.ts";`, resolveDir: root }, { external: ["mqtt", "idb"] })).weight);
const mqttShipped = weigh(readFileSync(mqttFile));
const mqttBuild = await measure(`mqtt.js ${mqttPkg.version} browser build`, async () => (await bundle(mqttFile)).weight);
// mqtt.js as thingwire's browser bundle carries it: from its sources, with small shims (scripts/browser-mqtt.ts).
const mqttSource = await measure(`mqtt.js ${mqttPkg.version} from its sources`, async () => {
  const r = await bundle({ contents: `import mqtt from "mqtt"; export default mqtt;`, resolveDir: root }, { plugins: [mqttFromSource()] });
  return r.weight;
});
let awsVersion = "?";
const aws = await measure(`${AWS} browser build`, async () => {
  const pkgFile = ensureAws();
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  awsVersion = pkg.version;
  const browserField = typeof pkg.browser === "string" ? pkg.browser : "./dist/browser.js";
  const r = await bundle(join(work, "node_modules", AWS, browserField), { external: ["util"] });
  notes.push(`${AWS} ${pkg.version}: bundled from its package.json "browser" entry (${browserField}) with esbuild; its greengrass module imports Node's \`util\`, left external (not counted), so its figure is slightly low.`);
  return r.weight;
});

const mqttName = `mqtt.js ${mqttPkg.version} own build`;
const awsName = `${AWS} ${awsVersion}`;
if (mqttBuild) {
  notes.push(`mqtt.js's shipped dist/mqtt.esm.js as is: raw ${kib(mqttShipped.raw)} KiB, gzip ${kib(mqttShipped.gzip)} KiB, brotli ${kib(mqttShipped.brotli)} KiB (the table uses it re-minified by esbuild, like the others).`);
}
const fullViews = full ? ([["first load", full.initial], ["with its chunks", full.all]] as const) : [];
for (const kind of ["gzip", "brotli", "raw"] as const) {
  for (const [view, w] of fullViews) {
    rows.push(row({
      case: `full browser bundle, ${view}, ${kind}`,
      thingwire: kib(w[kind]),
      baseline: mqttBuild ? kib(mqttBuild[kind]) : null,
      baselineName: mqttName,
      unit: "KiB",
      better: "lower",
      ...(kind === "gzip" ? { goal: "≤ mqtt.js + 20 KiB", ...(mqttBuild ? { met: w.gzip <= mqttBuild.gzip + BUDGET_OVER_MQTT_GZIP } : {}) } : {}),
    }));
    rows.push(row({
      case: `full browser bundle, ${view}, ${kind}`,
      thingwire: kib(w[kind]),
      baseline: aws ? kib(aws[kind]) : null,
      baselineName: awsName,
      unit: "KiB",
      better: "lower",
      ...(kind === "gzip" ? { goal: "well under (≤ 0.9×)", ...(aws ? { met: w.gzip <= 0.9 * aws.gzip } : {}) } : {}),
    }));
  }
}
if (mqttBuild) {
  for (const [view, w] of fullViews) {
    rows.push(row({
      case: `full bundle, ${view}, minus mqtt.js's own build, gzip`,
      thingwire: kib(w.gzip - mqttBuild.gzip),
      baseline: kib(BUDGET_OVER_MQTT_GZIP),
      baselineName: "budget",
      unit: "KiB",
      better: "lower",
      goal: "≤ 20 KiB",
      met: w.gzip - mqttBuild.gzip <= BUDGET_OVER_MQTT_GZIP,
    }));
  }
  if (mqttSource) {
    rows.push(row({
      case: "mqtt.js from its sources, as the full bundle carries it, gzip",
      thingwire: kib(mqttSource.gzip),
      baseline: kib(mqttBuild.gzip),
      baselineName: mqttName,
      unit: "KiB",
      better: "lower",
    }));
  }
}
rows.push(row({
  case: "device core without mqtt (createDevice, memoryStore, tokenAuth, sigv4), gzip",
  thingwire: deviceCore ? kib(deviceCore.gzip) : null,
  baseline: kib(BUDGET_CORE_GZIP),
  baselineName: "budget",
  unit: "KiB",
  better: "lower",
  goal: "< 20 KiB",
  ...(deviceCore ? { met: deviceCore.gzip < BUDGET_CORE_GZIP } : {}),
}));
for (const [view, w] of core ? ([["first load", core.initial], ["with its chunks", core.all]] as const) : []) {
  rows.push(row({
    case: `whole core surface without mqtt (every export of src/mod.ts), ${view}, gzip`,
    thingwire: kib(w.gzip),
    baseline: kib(BUDGET_CORE_GZIP),
    baselineName: "budget",
    unit: "KiB",
    better: "lower",
    goal: "< 20 KiB",
    met: w.gzip < BUDGET_CORE_GZIP,
  }));
  rows.push(row({ case: `whole core surface, ${view}, brotli`, thingwire: kib(w.brotli), baseline: null, baselineName: "", unit: "KiB", better: "lower" }));
  rows.push(row({ case: `whole core surface, ${view}, raw (minified)`, thingwire: kib(w.raw), baseline: null, baselineName: "", unit: "KiB", better: "lower" }));
}
// Where the core's bytes go: each area bundled alone (mqtt and idb external), gzip.
const areas: Array<[string, string]> = [
  ["device: createDevice + memoryStore", `export { createDevice } from "./src/device/device.ts"; export { memoryStore } from "./src/store/memory.ts";`],
  ["codecs without DBC (telemetry, compressed, CAN, detect; fflate inside)", `export * from "./src/codec/telemetry.ts"; export * from "./src/codec/compressed.ts"; export * from "./src/codec/can.ts"; export * from "./src/codec/detect.ts";`],
  ["DBC parser and decoder", `export * from "./src/codec/dbc.ts";`],
  ["auth: SigV4 + credentials", `export * from "./src/auth/sigv4.ts"; export * from "./src/auth/credentials.ts";`],
  ["auth: JWT (jose inside; a chunk loaded on demand in the split builds)", `export * from "./src/auth/jwt.ts";`],
];
if (core) {
  const parts: string[] = [];
  for (const [name, contents] of areas) {
    try {
      const r = await bundle({ contents, resolveDir: root }, { external: ["mqtt", "idb"] });
      parts.push(`${name} ${kib(r.weight.gzip)} KiB`);
    } catch (e) {
      parts.push(`${name}: not bundled (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
    }
  }
  notes.push(`The core's gzip weight by area, each bundled alone (shared code counted in each, so they add up to more than the whole): ${parts.join("; ")}.`);
}
notes.push("esbuild: bundle, minify, format esm, platform browser, target es2022 (code splitting for the full bundle and the surface, as tsup builds dist/browser); gzip level 9 and brotli quality 11 from node:zlib, each file on its own. Sizes are deterministic: one run.");

const names = Object.keys(weights).filter((k) => weights[k]);
const chart: Chart = {
  file: "weight.png",
  title: "Browser bundle weight (KiB, lower is better)",
  kind: "bar",
  xLabel: "",
  yLabel: "KiB",
  categories: names.map((n) => n.replace(/ \([^)]*\)/, "").replace(/ browser build$/, "")),
  series: (["raw", "gzip", "brotli"] as const).map((k) => ({ name: k, points: names.map((n, i) => [i, kib(weights[n]![k])] as [number, number]) })),
};
writeResult("weight", {
  title: "Weight: browser bundles (KiB)",
  rows,
  notes,
  charts: names.length ? [chart] : [],
});
