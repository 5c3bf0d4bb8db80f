/**
 * The rules of the house that a type check cannot see: the core (src/ without cli/ and
 * store/sqlite.ts) imports no node:* module and touches no Buffer or process, and no source
 * file throws a bare Error.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "vitest";
import assert from "node:assert/strict";

const src = new URL("../../src/", import.meta.url).pathname;
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  );
}
const all = files(src).map((f) => ({ path: relative(src, f), text: readFileSync(f, "utf8") }));
const core = all.filter((f) => !f.path.startsWith("cli/") && f.path !== "store/sqlite.ts");
/** Source without comments and string contents, so doc examples don't count. */
const code = (t: string) => t.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");

test("the core imports no node:* module", () => {
  const bad = core.filter((f) => /from\s+["']node:|import\(\s*["']node:/.test(code(f.text))).map((f) => f.path);
  assert.deepEqual(bad, []);
});

test("the core uses no Buffer and no process global", () => {
  const bad = core.filter((f) => /\bBuffer\.(from|alloc|allocUnsafe|concat|isBuffer|byteLength)\b|\bnew Buffer\b|\bprocess\.(env|argv|exit|on|once|stdout|stderr|stdin|cwd|platform|versions?|getBuiltinModule|nextTick|hrtime|memoryUsage)\b/.test(code(f.text))).map((f) => f.path);
  assert.deepEqual(bad, []);
});

test("source files carry .ts import specifiers", () => {
  const bad = all.filter((f) => /from\s+["']\.{1,2}\/[^"']*(?<!\.ts)["']/.test(code(f.text))).map((f) => f.path);
  assert.deepEqual(bad, []);
});

test("no bare `throw new Error` outside the CLI entry", () => {
  const bad = all.filter((f) => f.path !== "cli/main.ts" && /throw new (Range|Type)?Error\(/.test(code(f.text))).map((f) => f.path);
  assert.deepEqual(bad, []);
});
