/**
 * The thingwire config shape: defaults, templates, key paths against --keys, store paths against
 * --data, secrets from the environment, and errors that name the file, the key path, the line and
 * what is expected — never echoing a secret.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "vitest";
import { ThingwireError } from "../../src/errors.ts";
import { loadConfig, parseConfigText } from "../../src/cli/config.ts";

const src = { displayFile: "thing.yml", file: "/etc/tw/thing.yml" };
const opts = { cwd: "/work", env: {} as Record<string, string | undefined> };
const parse = (text: string, o: Partial<typeof opts> & { keysDir?: string; dataDir?: string } = {}) => parseConfigText(text, src, { ...opts, ...o });

function fails(text: string, pattern: RegExp, o: Parameters<typeof parse>[1] = {}): ThingwireError {
  try {
    parse(text, o);
  } catch (e) {
    assert.ok(e instanceof ThingwireError, `not a ThingwireError: ${String(e)}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

describe("thingwire config", () => {
  test("minimal config: defaults", () => {
    const c = parse("id: thing-1\nbroker: ws://127.0.0.1:8080\n");
    assert.equal(c.format, "thingwire");
    assert.equal(c.id, "thing-1");
    assert.equal(c.name, "thing-1");
    assert.equal(c.clientId, "thing-1");
    assert.deepEqual(c.broker, { url: "ws://127.0.0.1:8080", protocolVersion: 5 });
    assert.deepEqual(c.auth, { type: "none" });
    assert.deepEqual(c.store, { kind: "sqlite", path: "/etc/tw/data/thing-1.db" });
    assert.equal(c.operationTimeoutMs, 10_000);
    assert.deepEqual(c.handlers, []);
    assert.equal(c.keysDir, "/etc/tw");
  });

  test("full config: every section maps onto the device options", () => {
    const c = parse(`
id: thing-42
name: Kiosk 42
clientId: kiosk-42
broker:
  url: mqtts://broker.example:8883
  protocolVersion: 4
  keepaliveSec: 20
  connectTimeoutMs: 5000
  clean: true
  sessionExpirySec: 60
  ca: ca.pem
  servername: broker.example
auth: { type: cert, key: keys/thing.key, cert: /abs/thing.pem }
topics: { ingress: "ingress/{thingId}/#", egress: "egress/{clientId}", pubsub: "pubsub/{thingId}" }
store: "{thingId}.db"
reconnect: { baseMs: 500, maxMs: 20000, stableMs: 5000 }
outbox: { maxMessages: 10, maxBytes: 1000, whenFull: drop-oldest, inFlight: 4, drainRatePerSec: 2.5, ttlMs: 60000, maxMessageBytes: 512 }
inbox: { expireSeconds: 60 }
operationTimeoutMs: 3000
collect: { url: "https://api.example/things/{thingId}/collect", jwt: { privateKey: keys/jwt.key, alg: ES256, issuer: "urn:thing:{thingId}", audience: collect, ttlSec: 60 } }
handlers: [ { type: stdout }, { type: http, url: "http://127.0.0.1:9/hook", headers: { x-api-key: abcdef123 } } ]
retry: { baseMs: 100, maxMs: 1000 }
testMessage: hello
`, { keysDir: "/keys", dataDir: "/var/lib/tw" });
    assert.equal(c.name, "Kiosk 42");
    assert.equal(c.clientId, "kiosk-42");
    assert.deepEqual(c.broker, { url: "mqtts://broker.example:8883", protocolVersion: 4, keepaliveSec: 20, connectTimeoutMs: 5000, clean: true, sessionExpirySec: 60, ca: "/keys/ca.pem", servername: "broker.example" });
    assert.deepEqual(c.auth, { type: "cert", key: "/keys/keys/thing.key", cert: "/abs/thing.pem" });
    assert.deepEqual(c.topics, { ingress: "ingress/thing-42/#", egress: "egress/kiosk-42", pubsub: "pubsub/thing-42" });
    assert.deepEqual(c.store, { kind: "sqlite", path: "/var/lib/tw/thing-42.db" });
    assert.deepEqual(c.reconnect, { baseMs: 500, maxMs: 20000, stableMs: 5000 });
    assert.deepEqual(c.outbox, { maxMessages: 10, maxBytes: 1000, whenFull: "drop-oldest", inFlight: 4, drainRatePerSec: 2.5, ttlMs: 60000, maxMessageBytes: 512 });
    assert.deepEqual(c.inbox, { expireSeconds: 60 });
    assert.equal(c.operationTimeoutMs, 3000);
    assert.equal(c.collect?.url, "https://api.example/things/thing-42/collect");
    assert.equal(c.collect?.jwt.privateKey, "/keys/keys/jwt.key");
    assert.equal(c.collect?.jwt.issuer, "urn:thing:thing-42");
    assert.equal(c.collect?.jwt.alg, "ES256");
    assert.deepEqual(c.handlers.map((h) => h.type), ["stdout", "http"]);
    assert.deepEqual(c.retry, { baseMs: 100, maxMs: 1000 });
    assert.equal(c.testMessage, "hello");
    assert.deepEqual(c.keyFiles.map((k) => [k.path, k.kind]), [["broker.ca", "ca"], ["auth.key", "private-key"], ["auth.cert", "certificate"], ["collect.jwt.privateKey", "private-key"]]);
    assert.ok(c.secrets.includes("abcdef123"), "header values are secrets");
  });

  test("store: memory", () => {
    assert.deepEqual(parse("id: t\nbroker: ws://h:1\nstore: memory\n").store, { kind: "memory" });
  });

  test("JSON configs work too", () => {
    const c = parseConfigText('{"id":"t1","broker":{"url":"wss://h/mqtt"},"topics":{"pubsub":"p/{thingId}"}}', { displayFile: "t.json", file: "/x/t.json" }, opts);
    assert.equal(c.topics.pubsub, "p/t1");
  });

  test("sigv4: credentials inline or from the environment, and recorded as secrets", () => {
    const env = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG", AWS_SESSION_TOKEN: "tok-123456" };
    const c = parse("id: t\nbroker: wss://a-ats.iot.us-east-1.amazonaws.com/mqtt\nauth: { type: sigv4, region: us-east-1 }\n", { env });
    assert.deepEqual(c.auth, { type: "sigv4", region: "us-east-1", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "tok-123456" });
    assert.ok(c.secrets.includes("wJalrXUtnFEMI/K7MDENG") && c.secrets.includes("tok-123456"));
    assert.deepEqual(c.envNames, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
    const c2 = parse("id: t\nbroker: wss://h/mqtt\nauth: { type: sigv4, region: eu-west-1, accessKeyIdEnv: MY_ID, secretAccessKeyEnv: MY_SECRET }\n", {
      env: { MY_ID: "id1234", MY_SECRET: "secret1234" },
    });
    assert.equal(c2.auth.type === "sigv4" && c2.auth.secretAccessKey, "secret1234");
    const e = fails("id: t\nbroker: wss://h/mqtt\nauth: { type: sigv4, region: us-east-1 }\n", /thing\.yml: auth\.secretAccessKey: environment variable AWS_SECRET_ACCESS_KEY is not set/, {
      env: { AWS_ACCESS_KEY_ID: "x" },
    });
    assert.equal(e.code, "CONFIG_INVALID");
  });

  test("token: password, passwordEnv or jwt", () => {
    const c = parse("id: t\nbroker: ws://h:1\nauth: { type: token, username: u, passwordEnv: PW }\n", { env: { PW: "hunter2-pw" } });
    assert.deepEqual(c.auth, { type: "token", username: "u", password: "hunter2-pw" });
    assert.ok(c.secrets.includes("hunter2-pw"));
    const j = parse("id: t\nbroker: ws://h:1\nauth: { type: token, jwt: { privateKey: k.pem, audience: broker } }\n", { keysDir: "/k" });
    assert.equal(j.auth.type === "token" && j.auth.jwt?.privateKey, "/k/k.pem");
    fails("id: t\nbroker: ws://h:1\nauth: { type: token, password: abcd1234, jwt: { privateKey: k.pem } }\n", /auth\.jwt: give either jwt or password\/passwordEnv, not both/);
  });

  test("bridge: source defaults to the thing's broker and ingress, its own store and client id", () => {
    const c = parse(`
id: t1
broker: ws://h:1
topics: { ingress: "in/{thingId}" }
bridge:
  handlers: [ { type: stdout }, { type: mqtt, url: "ws://other:2", topic: "fwd/{topic}" } ]
`);
    assert.equal(c.bridge?.source.broker.url, "ws://h:1");
    assert.equal(c.bridge?.source.clientId, "t1-bridge");
    assert.deepEqual(c.bridge?.source.topics, ["in/t1"]);
    assert.deepEqual(c.bridge?.store, { kind: "sqlite", path: "/etc/tw/data/t1-bridge.db" });
    const fwd = c.bridge?.handlers[1];
    assert.ok(fwd?.type === "mqtt");
    assert.equal(fwd.topic, "fwd/{topic}");
    assert.equal(fwd.endpoint.broker.url, "ws://other:2");
  });

  test("errors name the file, the key path and the line, and say what is expected", () => {
    const e = fails("id: t\nbroker:\n  url: ws://h:1\n  keepaliveSec: lots\n", /^thing\.yml: broker\.keepaliveSec: expected an integer 0-65535, got "lots" \(line 4\)$/);
    assert.equal(e.path, "broker.keepaliveSec");
    assert.equal(e.file, "/etc/tw/thing.yml");
    assert.equal(e.line, 4);
    fails("broker: ws://h:1\n", /thing\.yml: id: missing: expected the thing id/);
    fails("id: t\n", /thing\.yml: broker: missing: expected a broker URL/);
    fails("id: t\nbroker: http://h\n", /broker: expected a broker URL starting with ws:\/\/, wss:\/\/, mqtt:\/\/ or mqtts:\/\//);
    fails("id: t\nbrokr: ws://h:1\n", /brokr: unknown key; did you mean "broker"\?/);
    fails("id: a/b\nbroker: ws://h:1\n", /id: expected the thing id .* without \/ \+ # or whitespace, got "a\/b"/);
    fails("id: t\nbroker: ws://h:1\ntopics: { egress: \"e/+\" }\n", /topics\.egress: topic "e\/\+" has a wildcard/);
    fails("id: t\nbroker: ws://h:1\ntopics: { ingress: \"a/#/b\" }\n", /topics\.ingress: filter "a\/#\/b": # must be a whole level/);
    fails("id: t\nbroker: ws://h:1\ntopics: { egress: \"e/{thing}\" }\n", /unknown placeholder \{thing\}/);
    fails("id: t\nname: a/b\nbroker: ws://h:1\ntopics: { egress: \"e/{thingName}\" }\n", /\{thingName\} is "a\/b", which contains \/ \+ # or NUL and would escape the topic template/);
    fails("id: t\nbroker: ws://h:1\noutbox: { whenFull: never }\n", /outbox\.whenFull: expected one of "reject", "drop-oldest", got "never"/);
    fails("id: t\nbroker: ws://h:1\nreconnect: { baseMs: 10, maxMs: 5 }\n", /reconnect\.baseMs: baseMs \(10\) is larger than maxMs \(5\)/);
    fails("id: t\nbroker: ws://h:1\nauth: { type: kerberos }\n", /auth\.type: expected one of "none", "sigv4", "cert", "token"/);
    fails("id: t\nbroker: ws://h:1\nhandlers: [ { type: http, url: ftp://x } ]\n", /handlers\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/);
    fails("id: t\nbroker: ws://h:1\nbridge: { handlers: [ { type: stdout } ] }\n", /bridge\.source\.topics: missing: expected a list of topic filters \(or set topics\.ingress\)/);
    fails("id: [1, 2\n", /^thing\.yml:\d+:\d+: not valid YAML/);
    fails("", /thing\.yml: the file is empty/);
    fails("- a\n- b\n", /thing\.yml: \(top level\): expected a mapping/);
  });

  test("a secret with a wrong type is described, never echoed", () => {
    const e = fails("id: t\nbroker: ws://h:1\nauth: { type: token, username: u, password: [s3cr3t-value] }\n", /auth\.password: expected a non-empty string, got a list of 1/);
    assert.doesNotMatch(e.message, /s3cr3t/);
    const e2 = fails("id: t\nbroker: ws://h:1\nauth: { type: token, password: 12345678 }\n", /auth\.password: expected a non-empty string, got a number/);
    assert.doesNotMatch(e2.message, /12345678/);
  });

  test("loadConfig: a missing or unreadable file is CONFIG_NOT_FOUND naming it", async () => {
    await assert.rejects(loadConfig("nope/thing.yml", opts), (e: unknown) => e instanceof ThingwireError && e.code === "CONFIG_NOT_FOUND" && /^nope\/thing\.yml: no such file/.test(e.message));
    const dir = mkdtempSync(join(tmpdir(), "tw-cfg-"));
    await assert.rejects(loadConfig(dir, { ...opts, cwd: dir }), (e: unknown) => e instanceof ThingwireError && e.code === "CONFIG_NOT_FOUND" && /is a directory/.test(e.message));
    writeFileSync(join(dir, "bin.yml"), new Uint8Array([0xff, 0xfe, 0x00, 0x41]));
    await assert.rejects(loadConfig("bin.yml", { ...opts, cwd: dir }), (e: unknown) => e instanceof ThingwireError && e.code === "CONFIG_INVALID" && /not UTF-8/.test(e.message));
    writeFileSync(join(dir, "t.yml"), "id: t\nbroker: ws://h:1\nauth: { type: cert, key: k.pem, cert: c.pem }\n");
    const c = await loadConfig("t.yml", { ...opts, cwd: dir });
    assert.equal(c.auth.type === "cert" && c.auth.key, join(dir, "k.pem"), "relative key paths resolve against the config's directory by default");
    const k = await loadConfig(join(dir, "t.yml"), { ...opts, cwd: "/", keysDir: "keys" });
    assert.equal(k.auth.type === "cert" && k.auth.key, "/keys/k.pem", "--keys resolves against the cwd");
  });
});
