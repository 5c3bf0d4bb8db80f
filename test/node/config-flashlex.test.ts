/**
 * A FlashLex config.yml, read as it is: the sample from the FlashLex Things guide
 * (test/fixtures/config/flashlex-config.yml, verbatim) maps onto thingwire's options as the table in
 * src/cli/config-flashlex.ts and docs/cli.md says; variants and errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "vitest";
import { ThingwireError } from "../../src/errors.ts";
import { loadConfig, parseConfigText } from "../../src/cli/config.ts";

const fixture = new URL("../fixtures/config/flashlex-config.yml", import.meta.url).pathname;
const sample = readFileSync(fixture, "utf8");
const src = { displayFile: "config.yml", file: "/home/pi/config.yml" };
const opts = { cwd: "/home/pi/projects/flashlex-iot-python", env: {} as Record<string, string | undefined> };
const ID = "349c5942-77d6-4f36-880b-1762a3b07f06";

function fails(text: string, pattern: RegExp, env: Record<string, string> = {}): ThingwireError {
  try {
    parseConfigText(text, src, { ...opts, env });
  } catch (e) {
    assert.ok(e instanceof ThingwireError);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

describe("FlashLex config.yml", () => {
  test("the guide's sample maps onto thingwire's options", async () => {
    const c = await loadConfig(fixture, { ...opts, keysDir: "/home/pi/keys" });
    assert.equal(c.format, "flashlex");
    assert.equal(c.id, ID);
    assert.equal(c.name, "ecd13b11-mything");
    assert.equal(c.clientId, "ecd13b11-mything", "FlashLex connected with the thing name as client id");
    assert.deepEqual(c.broker, {
      url: "mqtts://a1khvirpxw0646-ats.iot.us-east-1.amazonaws.com:8883",
      protocolVersion: 4,
      connectTimeoutMs: 60_000,
    });
    assert.deepEqual(c.auth, {
      type: "cert",
      key: "/home/pi/keys/ecd13b11-mything-keypair-private.pem",
      cert: "/home/pi/keys/ecd13b11-mything-certificate.pem",
      ca: "/home/pi/keys/root-ca-cert.pem",
    });
    assert.deepEqual(c.topics, { ingress: "ingress/ecd13b11-mything", egress: "flashlex/collect", pubsub: "pubsub/ecd13b11-mything" });
    assert.deepEqual(c.reconnect, { baseMs: 1_000, maxMs: 30_000, stableMs: 10_000 });
    assert.deepEqual(c.outbox, { maxMessages: Number.MAX_SAFE_INTEGER, drainRatePerSec: 2 });
    assert.equal(c.operationTimeoutMs, 120_000);
    assert.deepEqual(c.inbox, { expireSeconds: 60 });
    assert.deepEqual(c.store, { kind: "sqlite", path: new URL("../fixtures/config/data/thingwire.db", import.meta.url).pathname });
    assert.equal(c.testMessage, "This is a really basic message.");
    assert.deepEqual(c.collect, {
      url: `https://api.flashlex.com/dev/v1/things/${ID}/collect`,
      timeoutMs: 10_000,
      jwt: {
        privateKey: "/home/pi/keys/ecd13b11-mything-keypair-private.pem",
        privateKeyPath: "flashlex.thing.keys.privateKey",
        kid: ID,
        issuer: `urn:thing:${ID}`,
        audience: `urn:flashlex:${ID}`,
        ttlSec: 720,
      },
    });
    assert.deepEqual(c.keyFiles.map((k) => [k.path, k.kind]), [
      ["flashlex.thing.keys.privateKey", "private-key"],
      ["flashlex.thing.keys.cert", "certificate"],
      ["flashlex.thing.keys.rootCA", "ca"],
      ["flashlex.thing.keys.publicKey", "public-key"],
    ]);
    assert.deepEqual(c.warnings, []);
  });

  test("relative key paths resolve against the config's directory without --keys; --data moves the store", () => {
    const c = parseConfigText(sample, src, { ...opts, dataDir: "/var/lib/thing" });
    assert.equal(c.auth.type === "cert" && c.auth.key, "/home/pi/ecd13b11-mything-keypair-private.pem");
    assert.deepEqual(c.store, { kind: "sqlite", path: "/var/lib/thing/thingwire.db" });
  });

  test("the shape without the flashlex: root (as the SDK 1.4 page prints it) is recognized too", () => {
    const flat = sample.replace(/^flashlex:\n/, "").replace(/^ {2}/gm, "");
    const c = parseConfigText(flat, src, opts);
    assert.equal(c.format, "flashlex");
    assert.equal(c.id, ID);
    assert.equal(c.keyFiles[0]?.path, "thing.keys.privateKey");
    // The error format of the brief, word for word.
    const e = fails(flat.replace("port: 8883", "port: abc"), /^config\.yml: thing\.mqtt\.port: expected an integer 1-65535, got "abc" \(line \d+\)$/);
    assert.equal(e.code, "CONFIG_INVALID");
    assert.equal(e.path, "thing.mqtt.port");
  });

  test("errors inside the flashlex: root name the full key path", () => {
    fails(sample.replace("port: 8883", "port: abc"), /^config\.yml: flashlex\.thing\.mqtt\.port: expected an integer 1-65535, got "abc" \(line 31\)$/);
    fails(sample.replace("drainingFrequency: 2", "drainingFrequency: fast"), /flashlex\.thing\.mqtt\.drainingFrequency: expected a number of messages per second > 0, got "fast"/);
    fails(sample.replace("      privateKey: ecd13b11-mything-keypair-private.pem\n", ""), /flashlex\.thing\.keys\.privateKey: missing: expected a file path/);
    fails(sample.replace("expireSeconds: 60", "expireSeconds: -5"), /flashlex\.app\.db\.expireSeconds: expected an integer >= 1, got -5/);
    fails(sample.replace("baseReconnectQuietTimeSecond: 1", "baseReconnectQuietTimeSecond: 99"), /baseReconnectQuietTimeSecond: is larger than maxReconnectQuietTimeSecond/);
    fails(sample.replace("endpoint: a1khvirpxw0646-ats.iot.us-east-1.amazonaws.com", "endpoint: 'bad host!'"), /flashlex\.thing\.endpoint: expected a host name/);
  });

  test("useWebsocket: true signs in with SigV4: region from the endpoint, credentials from the environment", () => {
    const ws = sample.replace("useWebsocket: false", "useWebsocket: true").replace("port: 8883", "port: 443");
    const env = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret-key-1234" };
    const c = parseConfigText(ws, src, { ...opts, env });
    assert.equal(c.broker.url, "wss://a1khvirpxw0646-ats.iot.us-east-1.amazonaws.com:443/mqtt");
    assert.equal(c.broker.ca, "/home/pi/root-ca-cert.pem");
    assert.deepEqual(c.auth, { type: "sigv4", region: "us-east-1", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-key-1234" });
    assert.ok(c.secrets.includes("secret-key-1234"));
    assert.equal(c.collect, undefined, "collect signs with the device key, which a SigV4 thing does not use");
    const e = fails(ws, /flashlex\.thing\.mqtt\.useWebsocket: is true, so thingwire signs in with SigV4 .* AWS_ACCESS_KEY_ID is not set/);
    assert.equal(e.code, "CONFIG_INVALID");
    fails(ws.replace("a1khvirpxw0646-ats.iot.us-east-1.amazonaws.com", "broker.local"), /expected an AWS IoT endpoint like xxxx-ats\.iot\.us-east-1\.amazonaws\.com, got "broker\.local"/, env);
  });

  test("offlinePublishQueueing: N bounds the outbox (newest refused); 0 is a warning", () => {
    const n = parseConfigText(sample.replace("offlinePublishQueueing: -1", "offlinePublishQueueing: 500"), src, opts);
    assert.deepEqual(n.outbox, { maxMessages: 500, whenFull: "reject", drainRatePerSec: 2 });
    const z = parseConfigText(sample.replace("offlinePublishQueueing: -1", "offlinePublishQueueing: 0"), src, opts);
    assert.deepEqual(z.outbox, { drainRatePerSec: 2 });
    assert.match(z.warnings[0] ?? "", /offlinePublishQueueing: 0 .* thingwire always stores messages/);
  });

  test("a thingwire config with a `thing` key is not mistaken for FlashLex", () => {
    fails("id: t\nbroker: ws://h:1\nthing: { keys: {} }\n", /thing: unknown key/);
  });
});
