/**
 * The builds load where the README says they do: `deno run` imports the npm build, the browser
 * build and src/ directly; Chromium loads the browser build from a plain static page with
 * <script type="module">. jose is a chunk the browser entry imports on demand (deviceJwt), so the
 * page and Deno (no permission flag) also mint a JWT with the built bundle: the chunk loads from
 * beside the entry. Needs `npm run build` first (npm test does it).
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { parse as nodeUrlParse } from "node:url";
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

function denoEval(specifier: string, extraFlags: string[] = [], then = "console.log(JSON.stringify(Object.keys(m)));"): string[] {
  const code = `const m = await import(${JSON.stringify(specifier)}); ${then}`;
  const r = spawnSync(deno, ["eval", ...extraFlags, code], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `deno eval failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/**
 * Mints a device JWT with module `m` (a fresh ES256 key) and checks it with WebCrypto: header,
 * claims and signature. Runs as it is in Deno and in the page (plain JS, no imports).
 */
const MINT_AND_VERIFY = `
  const kp = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const token = await m.deviceJwt({ privateKey: kp.privateKey, alg: "ES256", thingId: "kiosk-1", audience: "collect" })();
  const [h, c, s] = token.split(".");
  const b64 = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  const text = (t) => JSON.parse(new TextDecoder().decode(b64(t)));
  const verified = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, kp.publicKey, b64(s), new TextEncoder().encode(h + "." + c));
  const jwt = { header: text(h), sub: text(c).sub, aud: text(c).aud, verified };`;
const MINTED = { header: { alg: "ES256", typ: "JWT", kid: "kiosk-1" }, sub: "kiosk-1", aud: "collect", verified: true };

test("deno imports the browser build with no permission flag", () => {
  const file = requireBuild("dist/browser/thingwire.js");
  const names = denoEval(`file://${file}`);
  for (const n of [...contract, "openIndexedDbStore"]) assert.ok(names.includes(n), `browser build lacks ${n}`);
}, 60_000);

test("deno mints a JWT with both browser builds, no permission flag (the jose chunk loads beside the entry)", () => {
  for (const build of ["dist/browser/thingwire.js", "dist/browser/thingwire.min.js"]) {
    const file = requireBuild(build);
    const jwt = denoEval(`file://${file}`, [], `${MINT_AND_VERIFY} console.log(JSON.stringify(jwt));`);
    assert.deepEqual(jwt, MINTED, build);
  }
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
        window.__chunksBeforeMint = performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.includes("-jose-"));
        const m = tw;
        try {
          ${MINT_AND_VERIFY}
          window.__jwt = jwt;
        } catch (e) {
          window.__jwt = { error: String(e && e.stack || e) };
        }
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
    // jose is not loaded with the entry: only deviceJwt's first mint fetches its chunk, from beside the entry
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __chunksBeforeMint: string[] }).__chunksBeforeMint), []);
    await page.waitForFunction(() => (window as unknown as { __jwt?: unknown }).__jwt !== undefined, null, { timeout: 15_000 });
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __jwt: unknown }).__jwt), MINTED);
    const chunks = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((n) => n.includes("-jose-")));
    assert.equal(chunks.length, 1, `one jose chunk fetched: ${chunks.join(", ")}`);
    assert.match(chunks[0]!, /^\/dist\/browser\/thingwire\.min-jose-[A-Z0-9]+\.js$/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}, 60_000);

test("the browser build's `url` shim for mqtt.js parses broker URLs as Node's url.parse does (the fields mqtt.js reads)", () => {
  const shim = createRequire(import.meta.url)("../../scripts/browser-mqtt/url.cjs") as { parse(href: string, q: true): Record<string, unknown> };
  const urls = [
    "ws://127.0.0.1:8080",
    "ws://127.0.0.1:8080/mqtt",
    "wss://abc123-ats.iot.us-east-1.amazonaws.com/mqtt",
    "wss://abc123-ats.iot.us-east-1.amazonaws.com:443/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab12&X-Amz-Security-Token=a%2Bb%2Fc%3D%3D",
    "ws://user:pa%40ss@host.example:1883/path/x?a=1&a=2&clientId=kiosk-1",
    "WSS://Broker.Example.COM:8443/mqtt",
    "mqtt://broker.example",
    "ws://[::1]:9001/mqtt",
    "ws://host.example/mqtt?empty=&flag",
    "/mqtt?clientId=kiosk-1",
  ];
  for (const href of urls) {
    const want = nodeUrlParse(href, true);
    const got = shim.parse(href, true);
    for (const field of ["protocol", "hostname", "port", "auth", "path"] as const) assert.equal(got[field], want[field], `${field} of ${href}`);
    assert.deepEqual({ ...(got.query as object) }, { ...want.query }, `query of ${href}`);
  }
});

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
