/**
 * Keeps the export maps honest (as hono's build/validate-exports.ts does): package.json
 * "exports" and deno.json "exports" name the same entry points, every package.json target is
 * built by tsup from the source file deno.json names, and the bin points at the CLI build.
 */
import { readFileSync } from "node:fs";
import { test } from "vitest";
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const read = (p: string) => JSON.parse(readFileSync(new URL(p, root), "utf8"));
const pkg = read("package.json");
const deno = read("deno.json");
const tsupSource = readFileSync(new URL("tsup.config.ts", root), "utf8");

test("package.json and deno.json export the same entry points", () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(deno.exports).sort());
});

test("every npm export is built by tsup from the source deno.json names", () => {
  for (const [key, target] of Object.entries<{ import: string; types: string }>(pkg.exports)) {
    const entryName = target.import.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
    const source = String(deno.exports[key]).replace(/^\.\//, "");
    assert.ok(
      tsupSource.includes(`${entryName}: "${source}"`),
      `tsup.config.ts must build dist/${entryName}.js from ${source} (export "${key}")`,
    );
    assert.equal(target.types, target.import.replace(/\.js$/, ".d.ts"), `types of "${key}"`);
  }
});

test("the thingwire bin is the CLI build", () => {
  assert.equal(pkg.bin.thingwire, "./dist/cli.js");
  assert.ok(tsupSource.includes(`cli: "src/cli/main.ts"`));
});

test("deno.json maps every runtime dependency of package.json", () => {
  for (const dep of Object.keys(pkg.dependencies)) {
    assert.ok(deno.imports[dep], `deno.json "imports" lacks ${dep}`);
    assert.match(deno.imports[dep], new RegExp(`^npm:${dep}@`), `deno.json maps ${dep} to npm:${dep}`);
  }
});

test("package is ESM only, side-effect free, Node >= 22.13", () => {
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.engines.node, ">=22.13");
});
