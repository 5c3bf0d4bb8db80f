/**
 * `thingwire bootstrap` as a user runs it, under Node and under Deno with the narrowest flags:
 * green against Mosquitto (wss with a client certificate and an ACL; a FlashLex config.yml over
 * mqtts with its HTTP collect endpoint) and against the embedded aedes broker; red, with a clear
 * message and the right exit code, for a key that does not match its certificate, a bad config,
 * an unreachable broker and a wrong password; a warning for a key file others can read.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { createServer, type Server } from "node:http";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importSPKI, jwtVerify, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { loadConfig } from "../../src/cli/config.ts";
import { denoPermissionFlags } from "../../src/cli/service.ts";
import { makeCerts, type TestCerts } from "../helpers/certs.ts";
import { hasStackTrace, runCli, type Runtime } from "../helpers/cli.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { freePort } from "../helpers/ports.ts";

let dir: string;
let certs: TestCerts;
let mosq: MosquittoBroker;
let aedes: EmbeddedBroker;
let http: Server;
let httpPort: number;
const seen: Array<{ path: string; claims?: JWTPayload; header?: Record<string, unknown>; body: string }> = [];
const ID = "349c5942-77d6-4f36-880b-1762a3b07f06";

function write(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-bootstrap-"));
  certs = makeCerts();
  [mosq, aedes] = await Promise.all([
    startMosquitto({ wss: true, mqtts: { requireCertificate: true, identityAsUsername: false }, passwords: { "thing-pw": "right-password-123" } }),
    startBroker({ wsPort: 0 }),
  ]);
  const pub = await importSPKI(createPublicKey(certs.client.key).export({ type: "spki", format: "pem" }) as string, "ES256");
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      try {
        const { payload, protectedHeader } = await jwtVerify(token ?? "", pub, { issuer: `urn:thing:${ID}`, audience: `urn:flashlex:${ID}` });
        seen.push({ path: req.url ?? "", claims: payload, header: protectedHeader as Record<string, unknown>, body });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "OK", code: 200, result: { message: "Message collected." } }));
      } catch {
        seen.push({ path: req.url ?? "", body });
        res.writeHead(401).end("bad token");
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  httpPort = (http.address() as { port: number }).port;

  write("thing.key", certs.client.key);
  write("thing.pem", certs.client.cert, 0o644);
  write("ca.pem", certs.ca.cert, 0o644);
  write("other.key", certs.otherCa.key);
  write("loose.key", certs.client.key, 0o644);
  write("thing.pub", createPublicKey(certs.client.key).export({ type: "spki", format: "pem" }) as string, 0o644);
  const thing = (broker: string, key = "thing.key", extra = "") =>
    `id: thing-1\nbroker: ${broker}\nauth: { type: cert, key: ${key}, cert: thing.pem, ca: ca.pem }\ntopics: { pubsub: "devices/thing-1/pubsub" }\n${extra}`;
  write("wss.yml", thing(mosq.wssUrl!));
  write("wrong-key.yml", thing(mosq.wssUrl!, "other.key"));
  write("loose.yml", thing(mosq.wssUrl!, "loose.key"));
  write("aedes.yml", `id: thing-1\nbroker: { url: "${aedes.wsUrl}", protocolVersion: 4 }\ntopics: { pubsub: "pubsub/{thingId}" }\n`);
  write("bad.yml", `id: thing-1\nbroker:\n  url: ${mosq.wssUrl}\n  keepaliveSec: often\n`);
  const closed = await freePort();
  write("unreachable.yml", `id: thing-1\nbroker: mqtt://127.0.0.1:${closed}\ntopics: { pubsub: p/1 }\n`);
  write("wrong-pw.yml", `id: thing-1\nbroker: { url: "${mosq.tcpAuthUrl}", protocolVersion: 5 }\nauth: { type: token, username: thing-pw, password: wrong-password-456 }\n`);
  write("right-pw.yml", `id: thing-1\nbroker: { url: "${mosq.tcpAuthUrl}" }\nauth: { type: token, username: thing-pw, passwordEnv: THING_PW }\ntopics: { pubsub: "pubsub/{thingId}" }\n`);
  // A FlashLex config.yml, as the FlashLex distribution writes it, pointed at the local Mosquitto and HTTP server.
  const mqttsPort = new URL(mosq.mqttsUrl!).port;
  write("config.yml", `flashlex:
  app:
    api:
      endpoint: http://127.0.0.1:${httpPort}
      env: dev
    callback: persistent
    thread: subscribe
    message: This is a really basic message.
    db:
      subscriptionData: subscription.json
      expireSeconds: 60 #messages older than an hour
  dist:
    commitSha: 75ac348aa2ddc249717516d57ff1f03051179625
  thing:
    id: ${ID}
    name: ecd13b11-mything
    endpoint: 127.0.0.1
    keys:
      rootCA: ca.pem
      cert: thing.pem
      privateKey: thing.key
      publicKey: thing.pub
    mqtt:
      pubsub:
        topic: pubsub/ecd13b11-mything
      ingress:
        topic: ingress/ecd13b11-mything
      egress:
        topic: flashlex/collect
      useWebsocket: false
      port: ${mqttsPort}
      autoReconnectBackoffTime:
        baseReconnectQuietTimeSecond: 1
        maxReconnectQuietTimeSecond: 30
        stableConnectionTimeSecond: 10
      offlinePublishQueueing: -1
      drainingFrequency: 2
      connectDisconnectTimeout: 60
      mqttOperationTimeout: 120
`);
}, 60_000);

afterAll(async () => {
  await Promise.all([mosq?.dispose(), aedes?.close(), new Promise((r) => (http ? http.close(r) : r(undefined)))]);
});

interface Report {
  ok: boolean;
  exitCode: number;
  checks: Array<{ id: string; status: string; detail: string; fix?: string }>;
}

async function bootstrap(runtime: Runtime, config: string, extra: string[] = [], env: Record<string, string> = {}) {
  const file = join(dir, config);
  let denoFlags: string[] = [`--allow-read=${dir}`, "--allow-env"];
  try {
    denoFlags = denoPermissionFlags(await loadConfig(file, { cwd: dir, env: { ...process.env, ...env } }), { write: false });
  } catch {
    // a config that does not load: read access to it is all bootstrap needs
  }
  const r = await runCli(runtime, ["bootstrap", "--config", file, ...extra], { cwd: dir, denoFlags, env: { ...process.env, ...env }, timeoutMs: 40_000 });
  assert.ok(!hasStackTrace(r.stdout + r.stderr), `stack trace:\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function report(runtime: Runtime, config: string, env: Record<string, string> = {}): Promise<Report & { code: number | null }> {
  const r = await bootstrap(runtime, config, ["--json"], env);
  const j = JSON.parse(r.stdout) as Report;
  return { ...j, code: r.code };
}

const status = (r: Report, id: string) => r.checks.find((c) => c.id === id)?.status;

describe.each(["node", "deno"] as Runtime[])("thingwire bootstrap (%s)", (runtime) => {
  test("green against Mosquitto: wss with a client certificate and an ACL", async () => {
    const r = await bootstrap(runtime, "wss.yml");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const line of ["✓ config valid", "✓ key files readable", "✓ key matches certificate", "✓ certificate in date", "✓ key file permissions", "✓ broker reachable", "✓ connected", "✓ pubsub round trip"]) {
      assert.ok(r.stdout.includes(line), `missing "${line}" in:\n${r.stdout}`);
    }
    assert.match(r.stdout, /- HTTP collect answers\s+not configured/);
    assert.match(r.stdout, /^bootstrap passed: 8 ok, 1 skipped$/m);
  });

  test("green against the embedded aedes broker, as JSON", async () => {
    const r = await report(runtime, "aedes.yml");
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.equal(r.ok, true);
    assert.equal(status(r, "connected"), "ok");
    assert.equal(status(r, "pubsub"), "ok");
    assert.equal(status(r, "keys"), "skip");
  });

  test("green for a FlashLex config.yml over mqtts, with its HTTP collect endpoint verifying the device JWT", async () => {
    const before = seen.length;
    const r = await bootstrap(runtime, "config.yml");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /FlashLex config\.yml/);
    assert.match(r.stdout, /✓ key matches certificate\s+flashlex\.thing\.keys\.privateKey ↔ flashlex\.thing\.keys\.cert, flashlex\.thing\.keys\.publicKey/);
    assert.match(r.stdout, /✓ connected\s+CONNACK .*MQTT 3\.1\.1\) as ecd13b11-mything-bootstrap/);
    assert.match(r.stdout, /✓ pubsub round trip\s+published to pubsub\/ecd13b11-mything/);
    assert.match(r.stdout, /✓ HTTP collect answers\s+http:\/\/127\.0\.0\.1:\d+\/dev\/v1\/things\/349c5942-77d6-4f36-880b-1762a3b07f06\/collect answered 200/);
    const req = seen.slice(before).find((s) => s.claims);
    assert.ok(req, "the collect server verified a JWT");
    assert.equal(req.path, `/dev/v1/things/${ID}/collect`);
    assert.equal(req.header?.kid, ID);
    assert.equal(req.header?.alg, "ES256");
    assert.equal((req.claims!.exp ?? 0) - (req.claims!.iat ?? 0), 720);
    assert.equal(JSON.parse(req.body).message, "This is a really basic message.");
  });

  test("red for a key that does not match its certificate", async () => {
    const r = await bootstrap(runtime, "wrong-key.yml");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ key matches certificate\s+auth\.key does not belong to the certificate auth\.cert \(their public keys differ\)/);
    assert.match(r.stdout, /fix: use the private key the certificate was issued for/);
    assert.match(r.stdout, /- connected\s+skipped: fix the key files first/);
    assert.match(r.stdout, /^bootstrap failed: 1 check failed/m);
  });

  test("red for a bad config: exit 2, the key path and the file", async () => {
    const r = await report(runtime, "bad.yml");
    assert.equal(r.code, 2);
    const c = r.checks.find((x) => x.id === "config")!;
    assert.equal(c.status, "fail");
    assert.match(c.detail, /bad\.yml: broker\.keepaliveSec: expected an integer 0-65535, got "often" \(line 4\)/);
    assert.match(c.fix ?? "", /at broker\.keepaliveSec \(line 4\)/);
  });

  test("red for an unreachable broker: exit 3", async () => {
    const r = await bootstrap(runtime, "unreachable.yml");
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /✗ broker reachable\s+127\.0\.0\.1:\d+: connection refused/);
    assert.match(r.stdout, /fix: is the broker running\?/);
    assert.match(r.stdout, /- connected\s+skipped: the broker is not reachable/);
  });

  test("red for a wrong password (AUTH_REJECTED), green with the right one from the environment", async () => {
    const bad = await bootstrap(runtime, "wrong-pw.yml");
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /✗ connected\s+.*(refused|not authori[sz]ed|bad user name or password)/i);
    assert.match(bad.stdout, /fix: the broker refused the credentials/);
    const good = await bootstrap(runtime, "right-pw.yml", [], { THING_PW: "right-password-123" });
    assert.equal(good.code, 0, good.stdout);
  });

  test("a private key readable by others is a warning with the chmod to run", async () => {
    const r = await bootstrap(runtime, "loose.yml");
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /⚠ key file permissions\s+.*loose\.key is readable or writable by group or others \(mode 644\)/);
    assert.match(r.stdout, /fix: chmod 600 .*loose\.key/);
  });
});
