/**
 * Random and malformed configs (issue 9): whatever a file holds, reading it gives a config or a
 * `CONFIG_INVALID` / `CONFIG_NOT_FOUND` error whose message names the file — never another
 * exception, never our "internal error" fallback, never a stack trace in the message.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, test } from "vitest";
import { ThingwireError } from "../../src/errors.ts";
import { parseConfigText } from "../../src/cli/config.ts";

const env = { AWS_ACCESS_KEY_ID: "AKID1234", AWS_SECRET_ACCESS_KEY: "secret12345", PW: "password1" };

function check(text: string, file = "fuzz.yml"): void {
  try {
    parseConfigText(text, { displayFile: file, file: `/tmp/${file}` }, { cwd: "/tmp", env });
  } catch (e) {
    if (!(e instanceof ThingwireError)) throw new Error(`not a ThingwireError for ${JSON.stringify(text).slice(0, 300)}: ${String(e)}`);
    assert.ok(e.code === "CONFIG_INVALID" || e.code === "CONFIG_NOT_FOUND", e.code);
    assert.ok(e.message.startsWith(file), `message does not start with the file name: ${e.message}`);
    assert.doesNotMatch(e.message, /internal error/, `fell through to the internal-error fallback for ${JSON.stringify(text).slice(0, 300)}: ${String(e.cause)}`);
    assert.doesNotMatch(e.message, /\n\s+at /, "a stack trace in the message");
    assert.ok(e.message.length < 2_000, "message is bounded");
  }
}

// Keys both shapes use, so random documents reach deep into the validators.
const KEYS = [
  "id", "name", "clientId", "broker", "url", "protocolVersion", "keepaliveSec", "connectTimeoutMs", "clean", "ca",
  "auth", "type", "key", "cert", "region", "accessKeyId", "secretAccessKey", "passwordEnv", "password", "username", "jwt",
  "privateKey", "alg", "ttlSec", "topics", "ingress", "egress", "pubsub", "topic", "store", "reconnect", "baseMs", "maxMs",
  "stableMs", "outbox", "maxMessages", "whenFull", "drainRatePerSec", "inbox", "expireSeconds", "collect", "handlers",
  "bridge", "source", "retry", "headers", "flashlex", "thing", "app", "api", "endpoint", "env", "db", "keys", "rootCA",
  "mqtt", "port", "useWebsocket", "autoReconnectBackoffTime", "baseReconnectQuietTimeSecond", "offlinePublishQueueing",
  "drainingFrequency", "mqttOperationTimeout", "publicKey", "__proto__", "constructor", "toString",
];
const TYPES = ["none", "sigv4", "cert", "token", "stdout", "mqtt", "http", "module", "memory"];
const leaf = fc.oneof(
  fc.constantFrom(...TYPES),
  fc.constantFrom("ws://h:1", "mqtts://127.0.0.1:8883", "https://x/y", "ingress/{thingId}", "a/#", "+/b", "{bad}", "", "thing-1", "AWS_SECRET_ACCESS_KEY", "PW", "us-east-1"),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: -70_000, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const doc = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("list"), tie("map")),
  list: fc.array(tie("value"), { maxLength: 4 }),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie("value"), { maxKeys: 8 }),
})).value as fc.Arbitrary<unknown>;

const valid = `id: thing-1
broker: { url: "mqtts://127.0.0.1:8883", protocolVersion: 4 }
auth: { type: cert, key: k.pem, cert: c.pem, ca: ca.pem }
topics: { ingress: "in/{thingId}", egress: "out/{thingId}", pubsub: "p/{thingId}" }
reconnect: { baseMs: 100, maxMs: 1000 }
outbox: { maxMessages: 10, whenFull: reject }
collect: { url: "https://x/{thingId}", jwt: { privateKey: k.pem } }
bridge: { handlers: [ { type: stdout }, { type: http, url: "http://x" }, { type: mqtt, url: "ws://y:1" } ] }
`;

describe("config fuzz", () => {
  test("random documents with the config's own keys, as YAML and as JSON", () => {
    fc.assert(
      fc.property(doc, fc.boolean(), (d, asJson) => {
        const text = asJson ? JSON.stringify(d) ?? "null" : stringify(d);
        check(text, asJson ? "fuzz.json" : "fuzz.yml");
      }),
      { numRuns: 3_000 },
    );
  });

  test("random documents under a flashlex: root or a thing: key", () => {
    fc.assert(
      fc.property(doc, doc, (thing, app) => {
        check(stringify({ flashlex: { thing, app } }));
        check(stringify({ thing, app }));
      }),
      { numRuns: 1_500 },
    );
  });

  test("random text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => check(s)), { numRuns: 3_000 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => check(s)), { numRuns: 1_000 });
  });

  test("a valid config with random characters changed, deleted or inserted", () => {
    const chars = [..."{}[]:,-#&*!|>'\"%@` \n\t0aZ/+."];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length }), fc.constantFrom("del", "ins", "rep"), fc.constantFrom(...chars)), { minLength: 1, maxLength: 6 }),
        (edits) => {
          let t = valid;
          for (const [at, op, ch] of edits) {
            const i = Math.min(at, t.length);
            t = op === "del" ? t.slice(0, i) + t.slice(i + 1) : op === "ins" ? t.slice(0, i) + ch + t.slice(i) : t.slice(0, i) + ch + t.slice(i + 1);
          }
          check(t);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  test("hostile YAML: alias bombs, deep nesting, huge scalars, tags, duplicate keys", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    const cases = [
      bomb.join("\n") + "\nid: t\nbroker: ws://h:1\n",
      "id: " + "[".repeat(5_000) + "]".repeat(5_000) + "\n",
      "id: " + "{a: ".repeat(2_000) + "1" + "}".repeat(2_000) + "\n",
      "id: " + "x".repeat(500_000) + "\nbroker: ws://h:1\n",
      "id: !!binary aGVsbG8=\nbroker: ws://h:1\n",
      "id: !custom x\nbroker: ws://h:1\n",
      "id: t\nid: u\nbroker: ws://h:1\n",
      "? [a, b]\n: c\n",
      "id: t\nbroker: ws://h:1\n__proto__: { polluted: true }\n",
      "%YAML 9.9\n---\nid: t\n",
      "---\nid: t\n---\nid: u\n",
      "id: *nope\n",
    ];
    for (const c of cases) check(c);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
  });
});
