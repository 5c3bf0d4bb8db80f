import { defineConfig } from "tsup";

/**
 * Three builds:
 * 1. npm: dist/index.js, sqlite.js, indexeddb.js (+ .d.ts), dependencies external;
 * 2. browser: dist/browser/thingwire.js (+ .min.js), one self-contained ESM file with mqtt's
 *    browser build, idb and fflate inside, loadable with <script type="module"> and no bundler;
 * 3. cli: dist/cli.js for the `thingwire` bin (Node).
 */
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
  {
    entry: { thingwire: "src/browser.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "browser",
    outDir: "dist/browser",
    noExternal: [/.*/],
    treeshake: true,
    sourcemap: true,
  },
  {
    entry: { "thingwire.min": "src/browser.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "browser",
    outDir: "dist/browser",
    noExternal: [/.*/],
    treeshake: true,
    minify: true,
  },
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
