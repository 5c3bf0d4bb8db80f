/**
 * Hostile config files: errors must name the key, never show a stack trace, never echo a secret.
 * (config-fuzz.test.ts throws random documents and text at the parser; this suite checks what the
 * user is told.)
 * - Malformed values for keys across the thingwire and FlashLex shapes: CONFIG_INVALID whose
 *   `path` is the key and whose message names it with what is expected.
 * - A valid config with one key's value replaced by a random value (fast-check): either a valid
 *   config, or an error whose path is that key (or inside it) and whose message names it.
 * - Secrets given with a wrong type or shape (`password: [..]`, a numeric secret key, a header):
 *   the message never contains the value.
 * - The same files through `thingwire bootstrap --config FILE` (a child process): exit code 2, the
 *   key named on the "config valid" line, no stack trace, no secret.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { afterAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/cli/config.ts";
import { ThingwireError } from "../../src/errors.ts";
import { hasStackTrace } from "../helpers/cli.ts";
import { report } from "./fixtures/fault-util.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-hostile-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = new URL("../../", import.meta.url).pathname;
const env = { AWS_ACCESS_KEY_ID: "AKIAHOSTILECONFIG", AWS_SECRET_ACCESS_KEY: "hostile-config-secret-key-0123456789" };

const BASE = `id: thing-1
broker: { url: "ws://127.0.0.1:1883", keepaliveSec: 30 }
topics: { ingress: "in/{thingId}", egress: "out/{thingId}", pubsub: "p/{thingId}" }
reconnect: { baseMs: 100, maxMs: 1000 }
outbox: { maxMessages: 1000, whenFull: reject }
inbox: { expireSeconds: 60 }
store: memory
`;

let files = 0;
function write(text: string, name = `c${++files}.yml`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function loadError(file: string): Promise<ThingwireError> {
  try {
    await loadConfig(file, { cwd: dir, env });
  } catch (e) {
    if (!(e instanceof ThingwireError)) throw new Error(`not a ThingwireError: ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  throw new Error(`${file} was accepted`);
}

// [yaml, key path the error must name, a secret that must not be echoed]
const MALFORMED: Array<[string, string, string?]> = [
  ["id: [a]\nbroker: ws://h:1\n", "id"],
  ["id: thing-1\n", "broker"],
  ["id: thing-1\nbroker: http://h:1\n", "broker"],
  ["id: thing-1\nbroker: { url: ws://h:1, keepaliveSec: often }\n", "broker.keepaliveSec"],
  ["id: thing-1\nbroker: { url: ws://h:1, protocolVersion: 3 }\n", "broker.protocolVersion"],
  ["id: thing-1\nbroker: { url: ws://h:1, connectTimeoutMs: -5 }\n", "broker.connectTimeoutMs"],
  ["id: thing-1\nbroker: { url: ws://h:1, colour: blue }\n", "broker.colour"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: magic }\n", "auth.type"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: sigv4, region: US East }\n", "auth.region"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: cert, key: [a, b], cert: c.pem }\n", "auth.key"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: token, username: u, password: [hostile-pw-in-a-list] }\n", "auth.password", "hostile-pw-in-a-list"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: token, username: u, password: 918273645546372819 }\n", "auth.password", "918273645546372819"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: sigv4, region: us-east-1, accessKeyId: AKIAX, secretAccessKey: { nested: hostile-nested-secret } }\n", "auth.secretAccessKey", "hostile-nested-secret"],
  ["id: thing-1\nbroker: ws://h:1\nauth: { type: token, passwordEnv: \"NO SUCH\" }\n", "auth.passwordEnv"],
  ["id: thing-1\nbroker: ws://h:1\ntopics: { pubsub: \"p/#\" }\n", "topics.pubsub"],
  ["id: thing-1\nbroker: ws://h:1\ntopics: { ingress: \"in/#/x\" }\n", "topics.ingress"],
  ["id: thing-1\nbroker: ws://h:1\ntopics: { egress: \"out/{nope}\" }\n", "topics.egress"],
  ["id: thing-1\nbroker: ws://h:1\noutbox: { maxMessages: -1 }\n", "outbox.maxMessages"],
  ["id: thing-1\nbroker: ws://h:1\noutbox: { whenFull: sometimes }\n", "outbox.whenFull"],
  ["id: thing-1\nbroker: ws://h:1\nreconnect: { baseMs: 5000, maxMs: 100 }\n", "reconnect.baseMs"],
  ["id: thing-1\nbroker: ws://h:1\ninbox: { expireSeconds: 1h }\n", "inbox.expireSeconds"],
  ["id: thing-1\nbroker: ws://h:1\nstore: [a]\n", "store"],
  ["id: thing-1\nbroker: ws://h:1\nhandlers: [ { type: nope } ]\n", "handlers[0].type"],
  ["id: thing-1\nbroker: ws://h:1\nhandlers: [ { type: http, url: \"http://x\", headers: { authorization: [hostile-header-token] } } ]\n", "handlers[0].headers.authorization", "hostile-header-token"],
  ["id: thing-1\nbroker: ws://h:1\ncollect: { url: \"ftp://x\" }\n", "collect.url"],
  ["id: thing-1\nbroker: ws://h:1\nunknownKey: 1\n", "unknownKey"],
  ["flashlex:\n  thing:\n    id: t-1\n    endpoint: 127.0.0.1\n    mqtt: { port: abc }\n", "port"],
  ["flashlex:\n  thing:\n    id: t-1\n    endpoint: 127.0.0.1\n    mqtt: { port: 8883, useWebsocket: maybe }\n", "useWebsocket"],
];

describe("config errors name the key", () => {
  test(`${MALFORMED.length} malformed values: CONFIG_INVALID with the key as path and in the message, no stack, no secret`, async () => {
    for (const [yaml, key, secret] of MALFORMED) {
      const e = await loadError(write(yaml));
      expect(e.code, yaml).toBe("CONFIG_INVALID");
      expect(e.message, yaml).toContain(key);
      expect(e.path, yaml).toBeDefined();
      expect(e.path!.endsWith(key) || e.path!.startsWith(key) || key.endsWith(e.path!), `${yaml}: path ${e.path}`).toBe(true);
      expect(e.message).not.toMatch(/\n\s+at /);
      if (secret) {
        expect(e.message, `${yaml}: the secret is echoed`).not.toContain(secret);
        expect(JSON.stringify(e.toJSON())).not.toContain(secret);
      }
    }
    report({ fault: "config: malformed values of 28 keys (thingwire and FlashLex shapes), 4 of them secrets", iterations: MALFORMED.length, bound: "CONFIG_INVALID naming the key (path + message); no stack; no secret echoed" });
  });

  test("a valid config with one key's value replaced by a random value: valid, or an error naming that key", async () => {
    const doc = parseDocument(BASE);
    const leaves: string[][] = [];
    const walk = (node: unknown, path: string[]) => {
      const n = node as { items?: Array<{ key?: { value?: unknown }; value?: unknown }> };
      if (n && Array.isArray(n.items)) for (const it of n.items) walk(it.value, [...path, String(it.key?.value)]);
      else leaves.push(path);
    };
    walk(doc.contents, []);
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer({ min: -100_000, max: 100_000 }),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
      fc.constantFrom("a/#", "+", "{thingId}/+", "ws://", "-1", "1e309", "0x10", "\u0000", "🙂"),
    );
    let runs = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...leaves), value, (path, v) => {
        runs++;
        const d = parseDocument(BASE);
        d.setIn(path, v);
        const file = write(d.toString(), `random-${runs}.yml`);
        return loadConfig(file, { cwd: dir, env }).then(
          () => true,
          (e: unknown) => {
            errors++;
            if (!(e instanceof ThingwireError)) throw new Error(`not a ThingwireError for ${path.join(".")} = ${JSON.stringify(v)}: ${String(e)}`);
            expect(e.code).toBe("CONFIG_INVALID");
            const key = path.join(".");
            // A value that breaks the whole document (a NUL) is reported with its line instead.
            if (e.path === undefined) {
              expect(e.line, `${key} = ${JSON.stringify(v)}: ${e.message}`).toBeDefined();
              return true;
            }
            const parent = path.slice(0, -1).join(".");
            const inside = e.path === key || e.path.startsWith(`${key}.`) || e.path.startsWith(`${key}[`);
            const atParent = e.path === parent && parent !== "";
            // A rule across keys (baseMs ≤ maxMs) is reported at the other key, naming this one too.
            const sibling = parent !== "" && e.path.startsWith(`${parent}.`) && e.message.includes(path.at(-1)!);
            expect(inside || atParent || sibling, `${key} = ${JSON.stringify(v)} → ${e.path}: ${e.message}`).toBe(true);
            expect(e.message).toContain(e.path);
            expect(e.message).not.toMatch(/\n\s+at |internal error/);
            return true;
          },
        );
      }),
      { numRuns: 400 },
    );
    report({ fault: "config: one key of a valid config replaced by a random value (fast-check)", iterations: runs, bound: `CONFIG_INVALID whose path is that key and whose message names it (${errors} errors)` });
  });
});

describe("deeply nested config files", () => {
  test("100,000 levels of YAML flow and block nesting, and of JSON: CONFIG_INVALID with the file and line, no engine message", async () => {
    const N = 100_000;
    const cases: Array<[string, string]> = [
      ["flow.yml", `id: thing-1\nbroker: ws://h:1\nname: ${"[".repeat(N)}${"]".repeat(N)}\n`],
      ["block.yml", `id: thing-1\nbroker: ws://h:1\nname:\n${Array.from({ length: 5_000 }, (_, i) => `${" ".repeat(i + 1)}- `).join("\n")}x\n`],
      ["deep.json", `{"id":"thing-1","broker":"ws://h:1","name":${"[".repeat(N)}${"]".repeat(N)}}`],
    ];
    for (const [name, text] of cases) {
      const e = await loadError(write(text, name));
      expect(e.code, name).toBe("CONFIG_INVALID");
      expect(e.message, name).toContain(name);
      expect(e.message, `${name}: ${e.message}`).not.toMatch(/Maximum call stack|RangeError|too much recursion/i);
      expect(e.message).not.toMatch(/\n\s+at /);
    }
    report({ fault: "config: 100,000-level nesting (YAML flow, YAML block, JSON)", iterations: cases.length, bound: "CONFIG_INVALID naming file (and line); no engine message such as 'Maximum call stack size exceeded'" });
  }, 30_000);
});

describe("thingwire bootstrap --config FILE", () => {
  test("malformed configs through the CLI: exit 2, the key on the 'config valid' line, no stack trace, no secret", async () => {
    const picks = MALFORMED.filter((_, i) => i % 3 === 0 || MALFORMED[i]![2] !== undefined);
    const results = await Promise.all(
      picks.map(([yaml, key, secret], i) => {
        const file = write(yaml, `cli-${i}.yml`);
        return new Promise<{ key: string; secret?: string; code: number | null; out: string }>((resolve) => {
          const child = spawn(join(root, "node_modules/.bin/node"), ["--no-warnings", join(root, "src/cli/main.ts"), "bootstrap", "--config", file], {
            cwd: dir,
            env: { ...process.env, ...env, NODE_OPTIONS: "", NO_COLOR: "1" },
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
          child.on("close", (code) => {
            clearTimeout(t);
            resolve({ key, secret, code, out });
          });
        });
      }),
    );
    for (const r of results) {
      expect(r.code, r.out).toBe(2);
      expect(r.out.split("\n").find((l) => l.includes("config valid")), r.out).toContain(r.key);
      expect(hasStackTrace(r.out), r.out).toBe(false);
      if (r.secret) expect(r.out).not.toContain(r.secret);
    }
    report({ fault: "config: malformed files through `thingwire bootstrap --config` (child process)", iterations: results.length, bound: "exit 2; key named; no stack trace; no secret" });
  }, 60_000);
});
