/**
 * Secrets: every scenario and CLI command we can run, with KNOWN secret values — a private key
 * PEM, passwords, a device JWT, an AWS secret key and session token, and every SigV4 signature
 * that could have been computed during the run — and then a search of ALL output for them: status
 * events (reason, error message and toJSON), logger lines, thrown errors (message, toJSON, stack),
 * anything written to the console, and the CLI's stdout and stderr. Each secret is searched raw,
 * URL-encoded (encodeURIComponent and RFC 3986), form-encoded and, for the key, line by line of its
 * base64 body. Signatures are enumerated: X-Amz-Date has one-second resolution, so presigning the
 * same URL for every second of the run gives every signature the device could have sent.
 * Also: a key file readable by others gets a warning from `thingwire bootstrap`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import mqtt from "mqtt";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { clientCert, tokenAuth } from "../../src/auth/credentials.ts";
import { deviceJwt } from "../../src/auth/jwt.ts";
import { presignMqttUrl, sigv4, type AwsCredentials } from "../../src/auth/sigv4.ts";
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceOptions, DeviceStatus } from "../../src/device/types.ts";
import { ThingwireError } from "../../src/errors.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { makeCerts, type TestCerts } from "../helpers/certs.ts";
import { runCli, startCli } from "../helpers/cli.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { type SigV4Gateway, startSigV4Gateway } from "../helpers/sigv4-gateway.ts";
import { report } from "./fixtures/fault-util.ts";

const REGION = "ap-southeast-2";
const PASSWORD = "Tw-pa55:word/with+plus&amp=eq?#é-0001";
const WRONG_PASSWORD = "Tw-wrong:pass/word+&=?#-0002";
const HOOK_TOKEN = "Bearer tw-hook-token-0003/secret+xyz=";
const GOOD: AwsCredentials = {
  accessKeyId: "ASIASECRETSSCANGOOD01",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCY/secret=KEY-good",
  sessionToken: "IQoJb3JpZ2luX2VjEGood//session+token/with=chars&x=" + "Z".repeat(48),
};
const BAD: AwsCredentials = {
  accessKeyId: GOOD.accessKeyId,
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCY/secret=KEY-wrong",
  sessionToken: GOOD.sessionToken!,
};

let certs: TestCerts;
let broker: MosquittoBroker;
let gateway: SigV4Gateway;
let dir: string;
const outputs: Array<{ where: string; text: string }> = [];
const minted: string[] = [];
const windows: Array<{ from: number; to: number }> = [];
let scenarios = 0;

const said = (where: string, text: unknown) => outputs.push({ where, text: typeof text === "string" ? text : JSON.stringify(text) });
function sayError(where: string, e: unknown): void {
  if (e instanceof ThingwireError) said(where, { message: e.message, json: e.toJSON(), string: String(e), stack: e.stack });
  else if (e instanceof Error) said(where, { message: e.message, string: String(e), stack: e.stack });
  else said(where, String(e));
}

// Everything written to the console or the process streams while this file runs.
const original = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
const originalWrite = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-secrets-"));
  certs = makeCerts();
  broker = await startMosquitto({ ws: true, wss: true, passwords: { thing: PASSWORD } });
  gateway = await startSigV4Gateway({ upstream: broker.wsUrl!, credentials: GOOD, region: REGION, tls: { key: certs.server.key, cert: certs.server.cert } });
  for (const level of ["log", "warn", "error", "info", "debug"] as const) {
    console[level] = (...args: unknown[]) => {
      said(`console.${level}`, args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(" "));
      original[level](...args);
    };
  }
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    said("process.stdout", String(chunk));
    return (originalWrite.out as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    said("process.stderr", String(chunk));
    return (originalWrite.err as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
});
afterAll(async () => {
  Object.assign(console, original);
  process.stdout.write = originalWrite.out as typeof process.stdout.write;
  process.stderr.write = originalWrite.err as typeof process.stderr.write;
  await gateway?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Runs a device scenario, recording every status, log line and error it produces. */
async function scenario(name: string, options: Omit<DeviceOptions, "clientId" | "logger">, body: (d: Device, statuses: DeviceStatus[]) => Promise<void>): Promise<void> {
  scenarios++;
  const from = Date.now();
  const statuses: DeviceStatus[] = [];
  const device = createDevice({ ...options, clientId: `secrets-${scenarios}`, logger: (e) => said(`${name}: logger`, e), reconnect: { baseMs: 50, maxMs: 200 } });
  device.on("status", (s) => {
    statuses.push(s);
    said(`${name}: status`, { ...s, error: s.error?.toJSON() });
    if (s.error) sayError(`${name}: status.error`, s.error);
  });
  try {
    await body(device, statuses);
  } catch (e) {
    sayError(`${name}: thrown`, e);
    throw e;
  } finally {
    await device.close();
    windows.push({ from, to: Date.now() });
  }
}

/** Every form of a secret that must not appear. */
function forms(secret: string): string[] {
  const out = new Set([secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, "+"), encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)]);
  return [...out];
}
/** The base64 lines of a PEM body (each 64 characters but the last): any one of them is a leak. */
const pemLines = (pem: string) => pem.split("\n").filter((l) => l.length >= 24 && !l.startsWith("-----"));

describe("secrets never appear in any output", () => {
  test("device scenarios: token, JWT, client certificate, SigV4 — right, wrong, failing providers", async () => {
    // 1. Username/password: wrong, then right, against Mosquitto's password listener.
    await scenario("wrong password", { url: broker.wsAuthUrl!, store: memoryStore(), auth: tokenAuth({ username: "thing", password: WRONG_PASSWORD }) }, async (_d, st) => {
      await until(() => st.filter((s) => s.error?.code === "AUTH_REJECTED").length >= 2, "two AUTH_REJECTED");
    });
    await scenario("right password", { url: broker.wsAuthUrl!, store: memoryStore(), auth: tokenAuth({ username: "thing", password: async () => PASSWORD }) }, async (d) => {
      await until(() => d.status.state === "online", "online");
      await d.publish("secrets/x", `payload without secrets`);
      await d.flush({ timeoutMs: 5_000 });
    });
    // 2. A device JWT as the password (refused by Mosquitto, which wants the real password).
    const jwt = deviceJwt({ privateKey: certs.client.key, alg: "ES256", thingId: "thing", audience: "mqtt" });
    await scenario("jwt password", {
      url: broker.wsAuthUrl!,
      store: memoryStore(),
      auth: tokenAuth({ username: "thing", password: async () => {
        const t = await jwt();
        minted.push(t);
        return t;
      } }),
    }, async (_d, st) => {
      await until(() => st.filter((s) => s.error?.code === "AUTH_REJECTED").length >= 2, "two AUTH_REJECTED");
    });
    // 3. Providers that fail with the secret in their own error message.
    await scenario("throwing password provider", { url: broker.wsAuthUrl!, store: memoryStore(), auth: tokenAuth({ username: "thing", password: () => {
      throw new Error(`vault said no for ${PASSWORD}`);
    } }) }, async (_d, st) => {
      await until(() => st.some((s) => s.error?.code === "AUTH_CREDENTIALS"), "AUTH_CREDENTIALS");
    });
    await scenario("throwing credentials provider", { url: gateway.url, store: memoryStore(), auth: sigv4({ region: REGION, tls: { ca: certs.ca.cert }, credentials: () => {
      throw new Error(`sts failed: ${GOOD.secretAccessKey} / ${GOOD.sessionToken}`);
    } }) }, async (_d, st) => {
      await until(() => st.some((s) => s.error?.code === "AUTH_CREDENTIALS"), "AUTH_CREDENTIALS");
    });
    await scenario("malformed credentials", { url: gateway.url, store: memoryStore(), auth: sigv4({ region: REGION, tls: { ca: certs.ca.cert }, credentials: async () => ({ accessKeyId: "", secretAccessKey: GOOD.secretAccessKey }) as AwsCredentials }) }, async (_d, st) => {
      await until(() => st.some((s) => s.error?.code === "AUTH_CREDENTIALS"), "AUTH_CREDENTIALS");
    });
    // 4. Client certificates: accepted, and from an unknown CA (the broker refuses).
    await scenario("client certificate", { url: broker.wssUrl!, store: memoryStore(), auth: clientCert({ key: certs.client.key, cert: certs.client.cert, ca: certs.ca.cert }) }, async (d) => {
      await until(() => d.status.state === "online", "online with the client certificate");
      await d.publish("devices/thing-1/x", "hello");
      await d.flush({ timeoutMs: 5_000 });
    });
    await scenario("foreign client certificate", { url: broker.wssUrl!, store: memoryStore(), auth: clientCert({ key: certs.foreignClient.key, cert: certs.foreignClient.cert, ca: certs.ca.cert }) }, async (_d, st) => {
      await until(() => st.filter((s) => s.state === "offline").length >= 2, "two refusals");
    });
    for (const [what, key] of [["truncated key", certs.client.key.slice(0, 150)], ["key as certificate", certs.client.key.replace(/PRIVATE KEY/g, "CERTIFICATE")], ["garbage in key", certs.client.key.replace("\n", "\n!!!\n")]] as const) {
      try {
        clientCert({ key, cert: certs.client.cert });
        said(`clientCert(${what})`, "accepted");
      } catch (e) {
        sayError(`clientCert(${what})`, e);
      }
    }
    // 5. SigV4 through the gateway: a wrong secret (403), then right, then the gateway drops the connection.
    let creds = BAD;
    await scenario("sigv4", { url: gateway.url, store: memoryStore(), auth: sigv4({ region: REGION, credentials: async () => creds, tls: { ca: certs.ca.cert } }) }, async (d, st) => {
      await until(() => st.filter((s) => s.error?.code === "AUTH_REJECTED").length >= 2, "two AUTH_REJECTED");
      creds = GOOD;
      await until(() => d.status.state === "online", "online with the right secret");
      gateway.closeAll();
      await until(() => st.filter((s) => s.state === "online").length >= 2, "online again");
      await d.publish("secrets/sigv4", "hello");
      await d.flush({ timeoutMs: 5_000 });
    });
    // 6. presignMqttUrl / sigv4 with bad options carrying secrets.
    for (const [what, fn] of [
      ["url with a query", () => presignMqttUrl({ url: `wss://h.example/mqtt?X-Amz-Security-Token=${encodeURIComponent(GOOD.sessionToken!)}`, region: REGION, credentials: GOOD })],
      ["secret as region", () => presignMqttUrl({ host: "h.example", region: GOOD.secretAccessKey, credentials: GOOD })],
      ["non-string token", () => presignMqttUrl({ host: "h.example", region: REGION, credentials: { ...GOOD, sessionToken: { t: GOOD.sessionToken } as unknown as string } })],
      ["sigv4 on ws://", () => sigv4({ region: REGION, credentials: GOOD }).prepare({ url: "ws://h/mqtt", clientId: "x" }, new Date())],
    ] as const) {
      try {
        await fn();
        said(`presign(${what})`, "accepted");
      } catch (e) {
        sayError(`presign(${what})`, e);
      }
    }
  }, 90_000);

  test("CLI commands: bootstrap (text and --json), send, run, bridge, service, inbox — with secrets inline and in the environment", async () => {
    const write = (name: string, text: string, mode = 0o600) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      chmodSync(p, mode);
      return p;
    };
    write("ca.pem", certs.ca.cert, 0o644);
    write("thing.pem", certs.client.cert, 0o644);
    write("thing.key", certs.client.key, 0o600);
    write("loose.key", certs.client.key, 0o644);
    const topics = `topics: { pubsub: "devices/thing-1/pubsub", egress: "devices/thing-1/out", ingress: "devices/thing-1/in" }`;
    const cfg = {
      tokenWrong: write("token-wrong.yml", `id: thing-1\nbroker: { url: "${broker.tcpAuthUrl}" }\nauth: { type: token, username: thing, password: ${JSON.stringify(WRONG_PASSWORD)} }\n${topics}\n`),
      tokenRight: write("token-right.yml", `id: thing-1\nbroker: { url: "${broker.tcpAuthUrl}" }\nauth: { type: token, username: thing, passwordEnv: TW_TEST_PASSWORD }\n${topics}\n`),
      sigv4Wrong: write("sigv4-wrong.yml", `id: thing-1\nbroker: { url: "${gateway.url}", ca: ca.pem }\nauth: { type: sigv4, region: ${REGION}, accessKeyId: ${BAD.accessKeyId}, secretAccessKey: ${JSON.stringify(BAD.secretAccessKey)}, sessionToken: ${JSON.stringify(BAD.sessionToken)} }\n${topics}\n`),
      sigv4Right: write("sigv4-right.yml", `id: thing-1\nbroker: { url: "${gateway.url}", ca: ca.pem }\nauth: { type: sigv4, region: ${REGION} }\n${topics}\nstore: data/sigv4.db\n`),
      certLoose: write("cert-loose.yml", `id: thing-1\nbroker: "${broker.wssUrl}"\nauth: { type: cert, key: loose.key, cert: thing.pem, ca: ca.pem }\n${topics}\n`),
      certOk: write("cert-ok.yml", `id: thing-1\nbroker: "${broker.wssUrl}"\nauth: { type: cert, key: thing.key, cert: thing.pem, ca: ca.pem }\n${topics}\n`),
    };
    // A webhook that fails and echoes the request headers in its error body (a naive server).
    const hook = createServer((req, res) => res.writeHead(500, { "content-type": "text/plain" }).end(`failed; you sent ${JSON.stringify(req.headers)}`));
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", () => r()));
    const hookPort = (hook.address() as { port: number }).port;
    const bridgeCfg = write("bridge.yml", [
      "id: thing-1",
      `broker: { url: "${gateway.url}", ca: ca.pem }`,
      `auth: { type: sigv4, region: ${REGION} }`,
      'topics: { ingress: "devices/thing-1/in" }',
      "store: data/bridge-main.db",
      "bridge:",
      "  retry: { baseMs: 200, maxMs: 1000 }",
      "  handlers:",
      `    - { type: http, url: "http://127.0.0.1:${hookPort}/hook", headers: { authorization: ${JSON.stringify(HOOK_TOKEN)} } }`,
      `    - { type: mqtt, url: "${broker.tcpAuthUrl}", auth: { type: token, username: thing, password: ${JSON.stringify(WRONG_PASSWORD)} }, topic: "fwd/{topic}" }`,
      "",
    ].join("\n"));
    const env = { ...process.env, TW_TEST_PASSWORD: PASSWORD, AWS_ACCESS_KEY_ID: GOOD.accessKeyId, AWS_SECRET_ACCESS_KEY: GOOD.secretAccessKey, AWS_SESSION_TOKEN: GOOD.sessionToken };
    const from = Date.now();
    const runs: Array<[string, string[], string?]> = [
      ["bootstrap token-wrong", ["bootstrap", "--config", cfg.tokenWrong, "--timeout", "3"]],
      ["bootstrap token-wrong --json", ["bootstrap", "--config", cfg.tokenWrong, "--json", "--timeout", "3"]],
      ["bootstrap token-right", ["bootstrap", "--config", cfg.tokenRight]],
      ["bootstrap sigv4-wrong", ["bootstrap", "--config", cfg.sigv4Wrong, "--timeout", "3"]],
      ["bootstrap sigv4-wrong --json", ["bootstrap", "--config", cfg.sigv4Wrong, "--json", "--timeout", "3"]],
      ["bootstrap sigv4-right", ["bootstrap", "--config", cfg.sigv4Right]],
      ["bootstrap cert-loose", ["bootstrap", "--config", cfg.certLoose]],
      ["bootstrap cert-ok --json", ["bootstrap", "--config", cfg.certOk, "--json"]],
      ["send token-wrong", ["send", "--config", cfg.tokenWrong, "--timeout", "2"], "queued but the password is wrong"],
      ["send sigv4-right", ["send", "--config", cfg.sigv4Right, "--timeout", "10"], "a message through SigV4"],
      ["service token-wrong", ["service", "--config", cfg.tokenWrong]],
      ["service sigv4-wrong", ["service", "--config", cfg.sigv4Wrong, "--runtime", "deno"]],
      ["inbox token-right", ["inbox", "--config", cfg.tokenRight, "list"]],
    ];
    // Four at a time: enough to be quick, few enough that a loaded machine does not time them out.
    const results: Array<{ name: string; r: Awaited<ReturnType<typeof runCli>> }> = [];
    const queue = [...runs];
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [name, args, stdin] = next;
        results.push({ name, r: await runCli("node", args, { cwd: dir, env, ...(stdin === undefined ? {} : { stdin }) }) });
      }
    }));
    for (const { name, r } of results) said(`cli ${name} (exit ${r.code})`, r.stdout + "\n" + r.stderr);
    // Long-running `run`: a few seconds each, with the right and the wrong secrets, then SIGTERM.
    for (const [name, file] of [["run sigv4-right", cfg.sigv4Right], ["run sigv4-wrong", cfg.sigv4Wrong], ["run token-wrong", cfg.tokenWrong]] as const) {
      const p = startCli("node", ["run", "--config", file, "--log-level", "debug"], { cwd: dir, env });
      await sleep(2_500);
      const r = await p.stop("SIGTERM");
      said(`cli ${name} (exit ${r.code})`, r.stdout + "\n" + r.stderr);
    }
    // The bridge: SigV4 source, a failing webhook with a secret header, a forward with a wrong password.
    const bridge = startCli("node", ["bridge", "--config", bridgeCfg, "--log-level", "debug"], { cwd: dir, env });
    await bridge.waitForLine((l) => /online/.test(l), 15_000);
    // "online" is logged before the bridge's subscription is in place: publish again until the
    // failing webhook (HTTP 500) has seen a message.
    const pub = await mqtt.connectAsync(broker.tcpUrl);
    const sawWebhook = bridge.waitForLine((l) => /500/.test(l), 15_000);
    let seen = false;
    void sawWebhook.then(() => (seen = true), () => {});
    for (let i = 0; i < 7 && !seen; i++) {
      await pub.publishAsync("devices/thing-1/in", JSON.stringify({ hello: "bridge", i }), { qos: 1 });
      await Promise.race([sawWebhook.catch(() => {}), sleep(2_000)]);
    }
    await pub.endAsync();
    await sawWebhook;
    await sleep(1_500);
    const br = await bridge.stop("SIGTERM");
    said(`cli bridge (exit ${br.code})`, br.stdout + "\n" + br.stderr);
    await new Promise((r) => hook.close(r));
    windows.push({ from, to: Date.now() });
    scenarios += runs.length + 4;

    const byName = new Map(results.map(({ name, r }) => [name, r]));
    // The commands did what they should (so the scan covers real paths, not early exits).
    expect(byName.get("bootstrap token-right")!.code, byName.get("bootstrap token-right")!.stdout).toBe(0);
    expect(byName.get("bootstrap sigv4-right")!.code, byName.get("bootstrap sigv4-right")!.stdout).toBe(0);
    expect(byName.get("bootstrap token-wrong")!.code).not.toBe(0);
    expect(byName.get("bootstrap sigv4-wrong")!.code).not.toBe(0);
    expect(byName.get("send sigv4-right")!.code).toBe(0);
    // Loose key permissions: a warning naming the file and its mode, and still a passing run.
    const loose = byName.get("bootstrap cert-loose")!;
    expect(loose.stdout).toMatch(/⚠ key file permissions/);
    expect(loose.stdout).toMatch(/loose\.key/);
    expect(loose.stdout).toMatch(/644/);
    expect(loose.stdout).toMatch(/chmod 600/);
    expect(byName.get("bootstrap cert-ok --json")!.stdout).not.toMatch(/"id":"permissions","title":"key file permissions","status":"warn"/);
    report({ fault: "key file readable by group/others (0644)", iterations: 1, bound: "`thingwire bootstrap` warns (⚠ key file permissions, names the file and mode, says chmod 600)" });
  }, 120_000);

  test("the scan: no secret, in any form, in any output", async () => {
    expect(outputs.length).toBeGreaterThan(50);
    // Every SigV4 signature the device or the CLI could have sent during the runs.
    const signatures = new Set<string>();
    for (const w of windows) {
      for (let t = Math.floor(w.from / 1000) - 2; t <= Math.ceil(w.to / 1000) + 2; t++) {
        for (const c of [GOOD, BAD]) {
          const url = await presignMqttUrl({ url: gateway.url, region: REGION, credentials: c, date: new Date(t * 1000) });
          signatures.add(new URL(url).searchParams.get("X-Amz-Signature")!);
        }
      }
    }
    const secrets: Array<[string, string]> = [
      ["password", PASSWORD],
      ["wrong password", WRONG_PASSWORD],
      ["webhook token", HOOK_TOKEN],
      ["webhook token value", HOOK_TOKEN.slice("Bearer ".length)],
      ["AWS secret key", GOOD.secretAccessKey],
      ["wrong AWS secret key", BAD.secretAccessKey],
      ["session token", GOOD.sessionToken!],
      ["private key PEM", certs.client.key],
      ["foreign private key PEM", certs.foreignClient.key],
      ...pemLines(certs.client.key).map((l, i): [string, string] => [`private key line ${i + 1}`, l]),
      ...pemLines(certs.foreignClient.key).map((l, i): [string, string] => [`foreign key line ${i + 1}`, l]),
      ...minted.flatMap((t, i): Array<[string, string]> => [[`device JWT ${i + 1}`, t], [`device JWT ${i + 1} signature`, t.split(".")[2]!]]),
      ...[...signatures].map((s): [string, string] => ["SigV4 signature", s]),
    ];
    expect(minted.length).toBeGreaterThan(0);
    const findLeaks = (list: typeof outputs): string[] => {
      const found: string[] = [];
      for (const { where, text } of list) {
        for (const [name, secret] of secrets) {
          for (const f of forms(secret)) {
            const at = text.indexOf(f);
            if (at >= 0) found.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 60), at + 20)}…`);
          }
        }
        for (const m of text.matchAll(/X-Amz-(?:Signature|Security-Token|Credential)=([^\s&"\]]*)/g)) {
          if (m[1]!.length >= 8 && !m[1]!.startsWith("[redacted]")) found.push(`a presigned query in ${where}: ${m[0].slice(0, 40)}…`);
        }
      }
      return found;
    };
    // The scan finds what it looks for (a canary in each form, and a bare signature).
    const sig = [...signatures][0]!;
    for (const text of [`x${PASSWORD}y`, `x${encodeURIComponent(PASSWORD)}y`, `x${encodeURIComponent(GOOD.sessionToken!).replace(/%20/g, "+")}y`, `x${pemLines(certs.client.key)[1]}y`, `sig ${sig}`, "wss://h/mqtt?X-Amz-Signature=0123456789abcdef"]) {
      expect(findLeaks([{ where: "canary", text }]), text).not.toEqual([]);
    }
    // The outputs are from real paths, not early exits.
    const all = outputs.map((o) => `${o.where}: ${o.text}`).join("\n");
    expect(all).toMatch(/sigv4: status.*AUTH_REJECTED/);
    expect(all).toMatch(/wrong password: status.*AUTH_REJECTED/);
    expect(all).toMatch(/cli run sigv4-right[^\n]*\n?[^]*online/);
    expect(all).toMatch(/cli bootstrap sigv4-wrong[^]*40[13]/);
    const leaks = findLeaks(outputs);
    // TW_SECRETS_DUMP=<file> keeps everything that was scanned, to read what the user would see.
    if (process.env.TW_SECRETS_DUMP) writeFileSync(process.env.TW_SECRETS_DUMP, JSON.stringify(outputs, null, 1));
    const outputBytes = outputs.reduce((n, o) => n + o.text.length, 0);
    report({
      fault: "secrets: password, wrong password, AWS secret key ×2, session token, 2 private keys (whole and per line), device JWTs, every possible SigV4 signature",
      iterations: scenarios,
      bound: "no secret in any form (raw, URL-, RFC 3986-, form-encoded) in statuses, logs, errors, console, CLI stdout/stderr",
      measured: `${secrets.length} secret values × ${outputs.length} outputs (${(outputBytes / 1024).toFixed(0)} KiB); ${signatures.size} signatures enumerated; ${leaks.length} leaks`,
    });
    expect(leaks).toEqual([]);
  }, 60_000);
});
