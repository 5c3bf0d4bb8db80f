#!/usr/bin/env node
/**
 * `npm run demo`: the whole thing on one machine with nothing else to install.
 *   1. builds dist/ (tsup) when the browser bundle is missing;
 *   2. starts the embedded aedes broker (WebSocket, default port 8080, a free one when busy);
 *   3. starts the simulated truck as a child process, the CLI under Node:
 *      node src/cli/main.ts simulate --url ws://… --thing truck-1 --dbc web-demo/public/vehicle.dbc --store .tmp/demo/truck-1.db
 *   4. serves the kiosk (web-demo/ + the browser bundle, node:http, default port 5173) and prints its URL.
 * Ctrl-C stops everything. Options: --port N (kiosk), --broker-port N, --thing ID, --host H, --interval MS.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;

const { values: opts } = parseArgs({
  options: {
    port: { type: "string", default: "5173" },
    "broker-port": { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    thing: { type: "string", default: "truck-1" },
    interval: { type: "string", default: "100" },
    store: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});
if (opts.help) {
  console.log("Usage: npm run demo -- [--port 5173] [--broker-port 8080] [--thing truck-1] [--host 127.0.0.1] [--interval 100] [--store FILE]");
  process.exit(0);
}

const say = (line) => process.stdout.write(`demo: ${line}\n`);

// 1. build when needed (the page needs only the browser bundle; the device runs from src/)
const bundleBuilt = () => existsSync(join(root, "dist/browser/thingwire.js")) && existsSync(join(root, "dist/browser/thingwire.min.js"));
if (!bundleBuilt()) {
  say("building the browser bundle (tsup) …");
  const r = spawnSync(process.execPath, [join(root, "node_modules/tsup/dist/cli-default.js")], { cwd: root, stdio: "inherit" });
  if (!bundleBuilt()) {
    say('the build failed; run "npx tsup" to see why');
    process.exit(1);
  }
  if (r.status !== 0) say("part of the build failed (see above), but the browser bundle is there: going on");
}

const { startBroker } = await import("../src/cli/broker.ts");
const { startKioskServer } = await import("../web-demo/serve.ts");

// 2. the broker, on the asked port or a free one
async function brokerOn(port) {
  try {
    return await startBroker({ host: opts.host, wsPort: port });
  } catch (e) {
    if (e?.code !== "EADDRINUSE") throw e;
    say(`port ${port} is busy; the broker takes a free port instead`);
    return startBroker({ host: opts.host, wsPort: 0 });
  }
}
const broker = await brokerOn(Number(opts["broker-port"]));

// 3. the kiosk page
const kiosk = await startKioskServer({ host: opts.host, port: Number(opts.port), fallbackToFree: true });

// 4. the simulated truck
const storePath = opts.store ?? join(root, ".tmp/demo", `${opts.thing}.db`);
mkdirSync(join(storePath, ".."), { recursive: true });
const child = spawn(
  process.execPath,
  [
    join(root, "src/cli/main.ts"), "simulate",
    "--url", broker.wsUrl,
    "--thing", opts.thing,
    "--dbc", join(root, "web-demo/public/vehicle.dbc"),
    "--store", storePath,
    "--interval", opts.interval,
    "--mqtt", "4",
  ],
  { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
);
const prefixLines = (stream, out) => {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      out.write(`[${opts.thing}] ${buf.slice(0, nl)}\n`);
      buf = buf.slice(nl + 1);
    }
  });
};
prefixLines(child.stdout, process.stdout);
prefixLines(child.stderr, process.stderr);

const query = new URLSearchParams({ broker: broker.wsUrl, thing: opts.thing });
const pageUrl = `${kiosk.url}?${query.toString().replaceAll("%3A", ":").replaceAll("%2F", "/")}`;
say(`broker  ${broker.wsUrl}  (aedes, MQTT 3.1.1 over WebSocket)`);
say(`device  ${opts.thing}: simulated truck, outbox ${storePath}`);
say(`kiosk   ${pageUrl}`);
say("open the kiosk URL in a browser; Ctrl-C stops everything");

// Ctrl-C: the child first (it flushes and closes its store), then the page server and the broker.
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  say("stopping …");
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM"); // not SIGINT: a terminal's Ctrl-C already sent it one, and a second would end it mid-flush
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await kiosk.close();
  await broker.close();
  say("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
child.on("exit", (code, signal) => {
  if (stopping) return;
  say(`the simulated device exited (${signal ?? `code ${code}`}); stopping`);
  void stop(1);
});
