/**
 * The builds load where the README says they do: `deno run` imports the npm build, the browser
 * build and src/ directly; Chromium loads the browser build from a plain static page with
 * <script type="module">. Needs `npm run build` first (npm test does it).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "../helpers/chromium.ts";

const root = new URL("../../", import.meta.url).pathname;
const deno = join(root, "node_modules/.bin/deno");
const contract = ["createDevice", "memoryStore", "presignMqttUrl", "encodeTelemetry", "decodeTelemetry", "encodeCompressed",
  "decodeCompressed", "encodeCan", "decodeCan", "decodePayload", "parseDbc", "ThingwireError"];

function requireBuild(file: string): string {
  const path = join(root, file);
  if (!existsSync(path)) throw new Error(`${file} is missing: run "npm run build" first (npm test builds it).`);
  return path;
}

function denoEval(specifier: string, extraFlags: string[] = []): string[] {
  const code = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
  const r = spawnSync(deno, ["eval", ...extraFlags, code], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `deno eval failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("deno imports the browser build with no permission flag", () => {
  const file = requireBuild("dist/browser/thingwire.js");
  const names = denoEval(`file://${file}`);
  for (const n of [...contract, "openIndexedDbStore"]) assert.ok(names.includes(n), `browser build lacks ${n}`);
}, 60_000);

test("deno imports the npm build", () => {
  const file = requireBuild("dist/index.js");
  const names = denoEval(`file://${file}`, ["--allow-read", "--allow-env"]);
  for (const n of contract) assert.ok(names.includes(n), `npm build lacks ${n}`);
}, 60_000);

test("deno runs src/ directly", () => {
  const names = denoEval(`file://${join(root, "src/mod.ts")}`, ["--allow-read", "--allow-env"]);
  for (const n of contract) assert.ok(names.includes(n), `src/mod.ts lacks ${n}`);
  const sqlite = denoEval(`file://${join(root, "src/store/sqlite.ts")}`, ["--allow-read", "--allow-env"]);
  assert.ok(sqlite.includes("openSqliteStore"));
}, 60_000);

let server: Server;
let base = "";
beforeAll(async () => {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json" };
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><script type="module">
        import * as tw from "/dist/browser/thingwire.min.js";
        window.__names = Object.keys(tw);
        const bytes = tw.encodeCan({ token: "t", points: [{ timestamp: 1, readings: [{ canId: 1, bus: 0, dlc: 2, data: new Uint8Array([1, 2]) }] }] });
        window.__decoded = tw.decodePayload(bytes).format;
      </script>`);
      return;
    }
    const path = join(root, url.pathname);
    if (!path.startsWith(join(root, "dist")) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test("Chromium loads the browser build from a plain static page", async () => {
  requireBuild("dist/browser/thingwire.min.js");
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/");
    await page.waitForFunction(() => (window as unknown as { __decoded?: string }).__decoded !== undefined, null, { timeout: 15_000 });
    const names = await page.evaluate(() => (window as unknown as { __names: string[] }).__names);
    for (const n of [...contract, "openIndexedDbStore"]) assert.ok(names.includes(n), `page bundle lacks ${n}`);
    assert.equal(await page.evaluate(() => (window as unknown as { __decoded: string }).__decoded), "can");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}, 60_000);

test("the built CLI (dist/cli.js, what `npx thingwire` runs) encodes and decodes", () => {
  const cli = requireBuild("dist/cli.js");
  const node = join(root, "node_modules/.bin/node");
  const input = JSON.stringify({ token: "t", points: [{ timestamp: 1, readings: [{ canId: 291, bus: 1, dlc: 2, data: "0102" }] }] });
  const enc = spawnSync(node, [cli, "encode", "--format", "can+gzip"], { input, timeout: 30_000 });
  assert.equal(enc.status, 0, enc.stderr?.toString());
  assert.equal(enc.stdout[0], 0xfc, "can+gzip starts with 0xFC");
  const dec = spawnSync(node, [cli, "decode"], { input: enc.stdout, encoding: "utf8", timeout: 30_000 });
  assert.equal(dec.status, 0, dec.stderr);
  const out = JSON.parse(dec.stdout);
  assert.equal(out.format, "can+gzip");
  assert.deepEqual(out.message.points[0].readings[0], { canId: 291, bus: 1, dlc: 2, data: "0102" });
  const help = spawnSync(node, [cli, "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  for (const c of ["broker", "run", "bootstrap", "send", "inbox", "service", "bridge", "decode", "encode"]) assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
}, 60_000);
