/**
 * `thingwire run` and `thingwire send` as child processes under Node and Deno (with the permission
 * flags `thingwire service` would grant), against Mosquitto with persistence:
 * - run receives ingress into the inbox (and through its stdout handler), survives a broker
 *   restart, and stops cleanly on SIGTERM with exit 0;
 * - send delivers through the durable outbox; with the broker down it exits 1 saying the message is
 *   queued, and a later `run` delivers it;
 * - send --http POSTs to the collect endpoint with a device JWT the server verifies.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importSPKI, jwtVerify } from "jose";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, test } from "vitest";
import { loadConfig } from "../../src/cli/config.ts";
import { denoPermissionFlags } from "../../src/cli/service.ts";
import { makeCerts } from "../helpers/certs.ts";
import { hasStackTrace, runCli, type Runtime, startCli } from "../helpers/cli.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { waitFor } from "../helpers/wait.ts";

let root: string;
let mosq: MosquittoBroker;
let http: Server;
let httpPort: number;
const collected: Array<{ sub?: string; body: unknown }> = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "tw-run-send-"));
  mosq = await startMosquitto({ ws: true, persistence: true });
  const certs = makeCerts();
  const pub = await importSPKI(createPublicKey(certs.client.key).export({ type: "spki", format: "pem" }) as string, "ES256");
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      try {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
        const { payload } = await jwtVerify(token, pub, { audience: "collect-test", issuer: "thing-1" });
        collected.push({ ...(payload.sub ? { sub: payload.sub } : {}), body: JSON.parse(body) });
        res.writeHead(201, { "content-type": "application/json" }).end('{"stored":true}');
      } catch {
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  httpPort = (http.address() as { port: number }).port;
  writeFileSync(join(root, "thing.key"), certs.client.key);
  chmodSync(join(root, "thing.key"), 0o600);
}, 60_000);

afterAll(async () => {
  await Promise.all([mosq?.dispose(), new Promise((r) => (http ? http.close(r) : r(undefined)))]);
});

/** A fresh thing directory with a config for `runtime`. */
function thingDir(runtime: Runtime, name: string, id: string): { cfg: string; dir: string } {
  const dir = join(root, `${runtime}-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "thing.key"), makeCerts().client.key, { mode: 0o600 });
  const cfg = join(dir, "thing.yml");
  writeFileSync(cfg, `id: ${id}
broker: { url: "${mosq.wsUrl}", protocolVersion: 5 }
topics: { ingress: "ingress/{thingId}", egress: "egress/{thingId}", pubsub: "pubsub/{thingId}" }
store: data/thing.db
reconnect: { baseMs: 100, maxMs: 500, stableMs: 1000 }
operationTimeoutMs: 8000
handlers: [ { type: stdout } ]
collect: { url: "http://127.0.0.1:${httpPort}/collect", jwt: { privateKey: thing.key, issuer: thing-1, audience: collect-test } }
`);
  return { cfg, dir };
}

async function flagsFor(cfg: string): Promise<string[]> {
  return denoPermissionFlags(await loadConfig(cfg, { cwd: root, env: {} }));
}

async function client(): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(mosq.tcpUrl, { protocolVersion: 5, reconnectPeriod: 200, connectTimeout: 5_000 });
}

describe.each(["node", "deno"] as Runtime[])("run and send (%s)", (runtime) => {
  test("run stores ingress in the inbox, hands it to its handlers, survives a broker restart, stops with exit 0", async () => {
    const id = `run-${runtime}`;
    const { cfg, dir } = thingDir(runtime, "run", id);
    const denoFlags = await flagsFor(cfg);
    const svc = startCli(runtime, ["run", "--config", cfg, "--log-level", "debug"], { cwd: dir, denoFlags });
    const pub = await client();
    try {
      await svc.waitForLine((l) => l.includes('"state":"online"'));
      // The subscription is made right after CONNACK; probe until the first message lands.
      let n = 0;
      await waitFor(async () => {
        await pub.publishAsync(`ingress/${id}`, `before-${n++}`, { qos: 1 });
        return svc.stderr().includes('"msg":"message"');
      }, { timeoutMs: 10_000, intervalMs: 200, message: "run to receive an ingress message" });

      await mosq.restart();
      await svc.waitForLine((l) => l.includes('"state":"offline"'));
      // Published while run may still be reconnecting: its persistent session keeps the subscription.
      const pub2 = await client();
      await pub2.publishAsync(`ingress/${id}`, "after-restart", { qos: 1 });
      await pub2.endAsync();
      await svc.waitForLine((l) => l.includes('"payload":"after-restart"'), 20_000);
      // stderr and stdout are separate pipes: the log line may trail the handler's output.
      await waitFor(() => svc.jsonLines().filter((j) => j.msg === "status" && j.state === "online").length >= 2, { message: "online again after the restart" });

      const done = await svc.stop("SIGTERM");
      assert.equal(done.code, 0, done.stderr);
      assert.ok(!hasStackTrace(done.stderr));
      const stopped = svc.jsonLines().find((j) => j.msg === "stopped");
      assert.equal(stopped?.signal, "SIGTERM");
    } finally {
      await pub.endAsync().catch(() => {});
      await svc.stop("SIGKILL");
    }
    const list = await runCli(runtime, ["inbox", "--config", cfg, "list", "--all", "--json"], { cwd: dir, denoFlags: await flagsFor(cfg) });
    assert.equal(list.code, 0, list.stderr);
    const msgs = (JSON.parse(list.stdout) as { messages: Array<{ payload: string; ackedAt?: string }> }).messages;
    assert.ok(msgs.some((m) => m.payload.startsWith("before-")));
    assert.ok(msgs.some((m) => m.payload === "after-restart"));
    assert.ok(msgs.every((m) => m.ackedAt), "acknowledged once the stdout handler had them");
  }, 60_000);

  test("send delivers through the outbox; with the broker down it stays queued and run delivers it later", async () => {
    const id = `send-${runtime}`;
    const { cfg, dir } = thingDir(runtime, "send", id);
    const denoFlags = await flagsFor(cfg);
    const sub = await client();
    const got: string[] = [];
    sub.on("message", (_t, p) => got.push(p.toString()));
    await sub.subscribeAsync(`egress/${id}`, { qos: 1 });

    const ok = await runCli(runtime, ["send", "--config", cfg], { cwd: dir, denoFlags, stdin: '{"temp":21.5}' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^delivered: seq \\d+ to egress/${id} \\(13 bytes\\)$`, "m"));
    await waitFor(() => got.includes('{"temp":21.5}'), { message: "the subscriber to get the sent message" });

    const json = await runCli(runtime, ["send", "--config", cfg, "--topic", `egress/${id}/x`, "--qos", "0", "--json"], { cwd: dir, denoFlags, stdin: "raw" });
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(r.delivered, true);
    assert.equal(r.topic, `egress/${id}/x`);

    await sub.endAsync();
    await mosq.stop();
    let queued;
    try {
      queued = await runCli(runtime, ["send", "--config", cfg, "--timeout", "1"], { cwd: dir, denoFlags, stdin: "while-down" });
    } finally {
      await mosq.restart();
    }
    assert.equal(queued.code, 1, queued.stdout + queued.stderr);
    assert.match(queued.stderr, /not delivered within 1 s: .*\nThe message is queued as seq \d+ in .*thing\.db \(1 message waiting\); it is not lost: `thingwire run --config .*` delivers it/);
    assert.ok(!hasStackTrace(queued.stderr));

    const sub2 = await client();
    const got2: string[] = [];
    sub2.on("message", (_t, p) => got2.push(p.toString()));
    await sub2.subscribeAsync(`egress/${id}`, { qos: 1 });
    const svc = startCli(runtime, ["run", "--config", cfg], { cwd: dir, denoFlags });
    try {
      await waitFor(() => got2.includes("while-down"), { timeoutMs: 15_000, message: "run to deliver the queued message" });
      const done = await svc.stop("SIGTERM");
      assert.equal(done.code, 0, done.stderr);
      const stopped = svc.jsonLines().find((j) => j.msg === "stopped");
      assert.deepEqual(stopped?.outbox, { count: 0, bytes: 0 });
    } finally {
      await sub2.endAsync();
      await svc.stop("SIGKILL");
    }
  }, 60_000);

  test("send --http POSTs JSON with a device JWT the server verifies", async () => {
    const { cfg, dir } = thingDir(runtime, "http", "thing-1");
    const denoFlags = await flagsFor(cfg);
    const before = collected.length;
    const r = await runCli(runtime, ["send", "--config", cfg, "--http"], { cwd: dir, denoFlags, stdin: '{"foo":"bar"}' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^collected: http:\/\/127\.0\.0\.1:\d+\/collect answered 201$/m);
    assert.match(r.stdout, /"stored": true/);
    assert.deepEqual(collected.slice(before), [{ sub: "thing-1", body: { foo: "bar" } }]);
    const notJson = await runCli(runtime, ["send", "--config", cfg, "--http"], { cwd: dir, denoFlags, stdin: "not json" });
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /standard input is not a JSON document/);
  });
});
