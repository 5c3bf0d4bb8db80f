/**
 * `thingwire bridge` as a child process under Node and Deno: messages from a source broker (the
 * embedded aedes broker) pass through three handlers — stdout, mqtt (forward to Mosquitto with its
 * own username/password) and an http webhook that fails. The failing webhook is retried with
 * backoff, survives a restart of the bridge, and in the end receives every message; the mqtt
 * target receives each message exactly once (a handler that already succeeded is not run again).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { loadConfig } from "../../src/cli/config.ts";
import { denoPermissionFlags } from "../../src/cli/service.ts";
import { hasStackTrace, runCli, type Runtime, startCli } from "../helpers/cli.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { waitFor } from "../helpers/wait.ts";

let root: string;
let source: EmbeddedBroker;
let target: MosquittoBroker;
let http: Server;
let httpPort: number;
let webhookUp = false;
let failures = 0;
const hooked: Array<{ topic: string; payload: string; seq: number }> = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "tw-bridge-"));
  [source, target] = await Promise.all([startBroker({ wsPort: 0 }), startMosquitto({ passwords: { bridge: "bridge-password-42" } })]);
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (!webhookUp || req.headers["x-api-key"] !== "hook-key-1234") {
        failures++;
        res.writeHead(503).end("down");
        return;
      }
      hooked.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  httpPort = (http.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await Promise.all([source?.close(), target?.dispose(), new Promise((r) => (http ? http.close(r) : r(undefined)))]);
});

describe.each(["node", "deno"] as Runtime[])("thingwire bridge (%s)", (runtime) => {
  test("forwards between two brokers; a failing webhook retries, survives a restart and loses nothing", async () => {
    const dir = join(root, runtime);
    mkdirSync(dir);
    const cfg = join(dir, "bridge.yml");
    writeFileSync(cfg, `id: gw-${runtime}
broker: { url: "${source.wsUrl}", protocolVersion: 4 }
topics: { ingress: "devices/+/telemetry" }
store: data/gw.db
reconnect: { baseMs: 100, maxMs: 500 }
bridge:
  source: { topics: ["devices/+/telemetry"], qos: 1 }
  retry: { baseMs: 100, maxMs: 400 }
  handlers:
    - { type: stdout }
    - type: mqtt
      name: forward
      url: "${target.tcpAuthUrl}"
      auth: { type: token, username: bridge, passwordEnv: TARGET_PW }
      topic: "fleet/${runtime}/{topic}"
    - type: http
      name: webhook
      url: "http://127.0.0.1:${httpPort}/hook"
      headers: { x-api-key: hook-key-1234 }
      timeoutMs: 2000
`);
    const env = { ...process.env, TARGET_PW: "bridge-password-42" } as Record<string, string>;
    const denoFlags = denoPermissionFlags(await loadConfig(cfg, { cwd: dir, env }));
    assert.ok(denoFlags.some((f) => f.startsWith("--allow-net=") && f.includes(`127.0.0.1:${httpPort}`) && f.includes(new URL(target.tcpAuthUrl!).host)));

    const forwarded: string[] = [];
    const sub = await mqtt.connectAsync(target.tcpAuthUrl!, { username: "bridge", password: "bridge-password-42", clientId: `watch-${runtime}` });
    sub.on("message", (t, p) => forwarded.push(`${t} ${p.toString()}`));
    await sub.subscribeAsync(`fleet/${runtime}/#`, { qos: 1 });
    const pub = await mqtt.connectAsync(source.wsUrl, { protocolVersion: 4 });

    webhookUp = false;
    const failuresBefore = failures;
    // aedes keeps no session for the bridge until it subscribed: publish once it has.
    let subscribed = false;
    const onSubscribe = (subs: Array<{ topic: string }>, client: { id: string } | null) => {
      if (client?.id === `gw-${runtime}-bridge` && subs.some((x) => x.topic === "devices/+/telemetry")) subscribed = true;
    };
    source.aedes.on("subscribe", onSubscribe);
    const first = startCli(runtime, ["bridge", "--config", cfg, "--flush-timeout", "0.5"], { cwd: dir, denoFlags, env });
    const payloads = [1, 2, 3, 4, 5].map((i) => JSON.stringify({ n: i, runtime }));
    try {
      await waitFor(() => subscribed, { message: "the bridge to subscribe on the source broker" });
      source.aedes.off("subscribe", onSubscribe);
      for (const p of payloads) await pub.publishAsync(`devices/d1/telemetry`, p, { qos: 1 });
      await waitFor(() => forwarded.length >= 5, { timeoutMs: 15_000, message: "the mqtt handler to forward 5 messages" });
      await waitFor(() => failures - failuresBefore >= 3, { message: "the webhook to be retried" });
      assert.ok(first.stderr().includes('"msg":"handler failed; retrying"'));
      const stopped = await first.stop("SIGTERM");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(first.jsonLines().find((j) => j.msg === "stopped")?.pending, 5, "the 5 messages wait in the bridge's inbox");
      // stdout handler: one JSON line per message, in order.
      const lines = stopped.stdout.trim().split("\n").map((l) => JSON.parse(l) as { payload: string; topic: string });
      assert.deepEqual(lines.map((l) => l.payload), payloads);
    } finally {
      await first.stop("SIGKILL");
    }
    assert.deepEqual(forwarded, payloads.map((p) => `fleet/${runtime}/devices/d1/telemetry ${p}`));

    // The webhook comes back; a new bridge process delivers what it missed, and only that.
    webhookUp = true;
    const before = hooked.length;
    const second = startCli(runtime, ["bridge", "--config", cfg, "--log-level", "debug"], { cwd: dir, denoFlags, env });
    try {
      await waitFor(() => hooked.length - before >= 5, { timeoutMs: 15_000, message: "the webhook to receive the 5 messages" });
      await waitFor(() => second.jsonLines().filter((j) => j.msg === "message handled").length >= 5);
      const stopped = await second.stop("SIGTERM");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(second.jsonLines().find((j) => j.msg === "stopped")?.pending, 0);
      assert.equal(stopped.stdout, "", "stdout had printed them already: not again");
      assert.ok(!hasStackTrace(stopped.stderr));
    } finally {
      await second.stop("SIGKILL");
    }
    assert.deepEqual(hooked.slice(before).map((h) => [h.topic, h.payload]), payloads.map((p) => ["devices/d1/telemetry", p]));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(forwarded.length, 5, "the mqtt handler had succeeded: nothing forwarded twice");
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }, 60_000);

  test("run passes ingress to a handler module of your own, and acknowledges what it handled", async () => {
    const dir = join(root, `${runtime}-module`);
    mkdirSync(dir);
    writeFileSync(join(dir, "my-handler.mjs"), `export default (options, ctx) => ({
  name: "mine",
  async handle(m) { ctx.io.stdout(options.prefix + " " + m.topic + " " + new TextDecoder().decode(m.payload) + "\\n"); },
});
`);
    const cfg = join(dir, "thing.yml");
    writeFileSync(cfg, `id: mod-${runtime}\nbroker: { url: "${source.wsUrl}", protocolVersion: 4 }\ntopics: { ingress: "cmd/{thingId}" }\nstore: data/t.db\nhandlers: [ { type: module, path: ./my-handler.mjs, options: { prefix: GOT } } ]\n`);
    const denoFlags = denoPermissionFlags(await loadConfig(cfg, { cwd: dir, env: {} }));
    let subscribed = false;
    const onSubscribe = (subs: Array<{ topic: string }>) => {
      if (subs.some((x) => x.topic === `cmd/mod-${runtime}`)) subscribed = true;
    };
    source.aedes.on("subscribe", onSubscribe);
    const svc = startCli(runtime, ["run", "--config", cfg, "--log-level", "debug"], { cwd: dir, denoFlags });
    try {
      await waitFor(() => subscribed, { message: "run to subscribe" });
      source.aedes.off("subscribe", onSubscribe);
      const pub = await mqtt.connectAsync(source.wsUrl, { protocolVersion: 4 });
      await pub.publishAsync(`cmd/mod-${runtime}`, "reboot", { qos: 1 });
      await pub.endAsync();
      await svc.waitForLine((l) => l === `GOT cmd/mod-${runtime} reboot`);
      await svc.waitForLine((l) => l.includes('"msg":"message handled"'));
      assert.equal((await svc.stop("SIGTERM")).code, 0);
    } finally {
      await svc.stop("SIGKILL");
    }
    const list = await runCli(runtime, ["inbox", "--config", cfg, "list", "--json"], { cwd: dir, denoFlags });
    assert.deepEqual(JSON.parse(list.stdout).messages, [], "nothing left unacknowledged");
  }, 30_000);

  test("a config without bridge: is a config error naming the key (exit 2)", async () => {
    const dir = join(root, `${runtime}-nobridge`);
    mkdirSync(dir);
    const cfg = join(dir, "thing.yml");
    writeFileSync(cfg, "id: t\nbroker: ws://127.0.0.1:1\n");
    const r = await runCli(runtime, ["bridge", "--config", cfg], { cwd: dir, denoFlags: [`--allow-read=${dir}`, "--allow-env"] });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /thing\.yml: bridge: missing: expected a mapping with source and handlers/);
  });
});
