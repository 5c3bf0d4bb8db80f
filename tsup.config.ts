import { defineConfig, type Options } from "tsup";
import { mqttFromSource } from "./scripts/browser-mqtt.ts";

/**
 * Three builds:
 * 1. npm: dist/index.js, sqlite.js, indexeddb.js (+ .d.ts), dependencies external;
 * 2. browser: dist/browser/thingwire.js (+ .min.js), a self-contained ESM entry with mqtt.js,
 *    idb and fflate inside, loadable with <script type="module"> and no bundler, plus
 *    the chunks it imports on demand (jose, for deviceJwt), named after their entry
 *    (thingwire-jose-<hash>.js, thingwire.min-jose-<hash>.js) so the two builds never share or
 *    overwrite one; serve each entry with its chunks beside it. mqtt.js is bundled from its own
 *    sources with small shims (scripts/browser-mqtt.ts), not from its prebuilt dist/mqtt.esm.js;
 * 3. cli: dist/cli.js for the `thingwire` bin (Node).
 */
/** A browser build of src/browser.ts into dist/browser: `name`.js and its chunks `name`-<chunk>-<hash>.js. */
function browserBuild(name: string, extra: Options): Options {
  return {
    entry: { [name]: "src/browser.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "browser",
    outDir: "dist/browser",
    noExternal: [/.*/],
    treeshake: true,
    splitting: true,
    esbuildPlugins: [mqttFromSource()],
    esbuildOptions(options) {
      options.chunkNames = `${name}-[name]-[hash]`;
    },
    ...extra,
  };
}

export default defineConfig([
  {
    entry: { index: "src/mod.ts", sqlite: "src/store/sqlite.ts", indexeddb: "src/store/indexeddb.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "neutral",
    dts: true,
    clean: true,
    sourcemap: true,
    treeshake: true,
    outDir: "dist",
  },
  browserBuild("thingwire", { sourcemap: true }),
  browserBuild("thingwire.min", { minify: true }),
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    target: "node22",
    platform: "node",
    outDir: "dist",
    banner: { js: "#!/usr/bin/env node" },
    sourcemap: true,
  },
]);
