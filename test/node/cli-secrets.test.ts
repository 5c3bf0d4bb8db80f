/**
 * Secrets never leave the process (issue 9): every command runs with known secret values — a broker
 * password inline and from the environment, AWS keys and a session token (SigV4 through a verifying
 * gateway, right and wrong), a client key PEM, a webhook header, device JWTs — on success and on
 * failure paths, and all of stdout and stderr is searched for them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, test } from "vitest";
import { loadConfig } from "../../src/cli/config.ts";
import { denoPermissionFlags } from "../../src/cli/service.ts";
import { makeCerts } from "../helpers/certs.ts";
import { hasStackTrace, runCli, type Runtime, startCli } from "../helpers/cli.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { type SigV4Gateway, startSigV4Gateway } from "../helpers/sigv4-gateway.ts";
import { waitFor } from "../helpers/wait.ts";

const PW_INLINE = "S3cret-Inline-Pw-7788";
const PW_ENV_WRONG = "Env-Pw-Secret-9911";
const AWS = { accessKeyId: "AKIASECRETTESTKEY123", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY", sessionToken: "FwoGZXIvYXdzEJr//////////wEaDSessionTok3n+x=" };
const HEADER = "hook-secret-header-5566";

let dir: string;
let mosq: MosquittoBroker;
let gateway: SigV4Gateway;
let http: Server;
let httpPort: number;
let keyLines: string[];
const outputs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-secrets-"));
  const certs = makeCerts();
  mosq = await startMosquitto({ ws: true, wss: true, passwords: { thing: PW_INLINE } });
  gateway = await startSigV4Gateway({ upstream: mosq.wsUrl!, credentials: AWS, region: "us-east-1", tls: { key: certs.server.key, cert: certs.server.cert } });
  http = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(req.url === "/collect" ? 401 : 500, { "content-type": "text/plain" }).end(`refused: ${req.headers.authorization ?? ""} ${req.headers["x-api-key"] ?? ""}`));
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  httpPort = (http.address() as { port: number }).port;
  writeFileSync(join(dir, "thing.key"), certs.client.key, { mode: 0o600 });
  writeFileSync(join(dir, "thing.pem"), certs.client.cert);
  writeFileSync(join(dir, "ca.pem"), certs.ca.cert);
  keyLines = certs.client.key.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
  const common = `topics: { ingress: "devices/thing-1/in", egress: "devices/thing-1/out", pubsub: "devices/thing-1/pubsub" }
store: data/{thingId}.db
reconnect: { baseMs: 100, maxMs: 300 }
operationTimeoutMs: 3000
collect: { url: "http://127.0.0.1:${httpPort}/collect", jwt: { privateKey: thing.key, audience: somebody } }
handlers: [ { type: http, url: "http://127.0.0.1:${httpPort}/hook", headers: { x-api-key: ${HEADER} } } ]
retry: { baseMs: 50, maxMs: 200 }
bridge: { handlers: [ { type: http, url: "http://127.0.0.1:${httpPort}/hook", headers: { x-api-key: ${HEADER} } } ] }
`;
  writeFileSync(join(dir, "token.yml"), `id: thing-1\nbroker: ${mosq.tcpAuthUrl}\nauth: { type: token, username: thing, password: ${PW_INLINE} }\n${common}`);
  writeFileSync(join(dir, "token-env.yml"), `id: thing-1\nbroker: ${mosq.tcpAuthUrl}\nauth: { type: token, username: thing, passwordEnv: THING_PW }\n${common}`);
  writeFileSync(join(dir, "sigv4.yml"), `id: thing-1\nbroker: { url: "${gateway.url}", ca: ca.pem }\nauth: { type: sigv4, region: us-east-1 }\n${common}`);
  writeFileSync(join(dir, "cert.yml"), `id: thing-1\nbroker: ${mosq.wssUrl}\nauth: { type: cert, key: thing.key, cert: thing.pem, ca: ca.pem }\n${common}`);
  writeFileSync(join(dir, "bad-type.yml"), `id: thing-1\nbroker: ${mosq.tcpAuthUrl}\nauth: { type: token, username: thing, password: [${PW_INLINE}] }\n`);
}, 60_000);

afterAll(async () => {
  await Promise.all([gateway?.stop(), mosq?.dispose(), new Promise((r) => (http ? http.close(r) : r(undefined)))]);
});

const envRight = () => ({ ...process.env, ...AWS && { AWS_ACCESS_KEY_ID: AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey, AWS_SESSION_TOKEN: AWS.sessionToken }, THING_PW: PW_ENV_WRONG }) as Record<string, string>;
const envWrongAws = () => ({ ...envRight(), AWS_SECRET_ACCESS_KEY: "wrongSecretKeyValue/1234567890abcdefghij" });

async function flags(config: string, env: Record<string, string>): Promise<string[]> {
  return denoPermissionFlags(await loadConfig(join(dir, config), { cwd: dir, env }));
}

async function cli(runtime: Runtime, args: string[], env: Record<string, string>, stdin?: string) {
  const cfgIndex = args.indexOf("--config");
  const denoFlags = cfgIndex >= 0 && !args[cfgIndex + 1]!.startsWith("bad") ? await flags(args[cfgIndex + 1]!, env) : [`--allow-read=${dir}`, "--allow-env"];
  const r = await runCli(runtime, args, { cwd: dir, env, denoFlags, ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 40_000 });
  outputs.push(`--- ${runtime} ${args.join(" ")} (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  assert.ok(!hasStackTrace(r.stdout + r.stderr), `stack trace in ${args.join(" ")}:\n${r.stderr}`);
  return r;
}

async function service(runtime: Runtime, cmd: "run" | "bridge", config: string, env: Record<string, string>) {
  const p = startCli(runtime, [cmd, "--config", config, "--log-level", "debug", "--flush-timeout", "0.5"], { cwd: dir, env, denoFlags: await flags(config, env) });
  try {
    const first = await p.waitForLine((l) => l.includes('"state":"online"') || l.includes('"state":"offline"'), 20_000);
    if (first.includes('"state":"online"')) {
      // A message for the handlers: the webhook refuses it, so they log retries.
      await waitFor(async () => {
        const c = await mqtt.connectAsync(mosq.tcpUrl);
        await c.publishAsync("devices/thing-1/in", "ingress", { qos: 1 });
        await c.endAsync();
        return p.stderr().includes("handler failed; retrying");
      }, { timeoutMs: 15_000, intervalMs: 300, message: `${cmd} to retry its handler` });
    } else {
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    const r = await p.stop("SIGTERM");
    outputs.push(`--- ${runtime} ${cmd} ${config} (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
  }
}

describe.each(["node", "deno"] as Runtime[])("no secret in any output (%s)", (runtime) => {
  test("bootstrap: token, token from env (refused), SigV4 right and wrong, certificate, a config error", async () => {
    assert.equal((await cli(runtime, ["bootstrap", "--config", "token.yml"], envRight())).code, 1, "collect answers 401");
    assert.equal((await cli(runtime, ["bootstrap", "--config", "token.yml", "--json"], envRight())).code, 1);
    assert.equal((await cli(runtime, ["bootstrap", "--config", "token-env.yml"], envRight())).code, 1);
    const sig = await cli(runtime, ["bootstrap", "--config", "sigv4.yml"], envRight());
    assert.match(sig.stdout, /✓ connected/, sig.stdout);
    assert.match(sig.stdout, /✓ pubsub round trip/);
    const wrong = await cli(runtime, ["bootstrap", "--config", "sigv4.yml"], envWrongAws());
    assert.match(wrong.stdout, /✗ connected/);
    await cli(runtime, ["bootstrap", "--config", "cert.yml", "--json"], envRight());
    assert.equal((await cli(runtime, ["bootstrap", "--config", "bad-type.yml"], envRight())).code, 2);
  }, 90_000);

  test("send over MQTT and HTTP, delivered and refused", async () => {
    assert.equal((await cli(runtime, ["send", "--config", "token.yml"], envRight(), "hello")).code, 0);
    assert.equal((await cli(runtime, ["send", "--config", "token-env.yml", "--timeout", "1", "--json"], envRight(), "hello")).code, 1);
    assert.equal((await cli(runtime, ["send", "--config", "sigv4.yml", "--timeout", "1"], envWrongAws(), "hello")).code, 1);
    assert.equal((await cli(runtime, ["send", "--config", "token.yml", "--http"], envRight(), '{"a":1}')).code, 1);
    assert.equal((await cli(runtime, ["send", "--config", "token.yml", "--http", "--json"], envRight(), '{"a":1}')).code, 1);
  }, 90_000);

  test("run and bridge with debug logs, a failing webhook and refused credentials; inbox; service", async () => {
    await service(runtime, "run", "token.yml", envRight());
    await service(runtime, "run", "sigv4.yml", envWrongAws());
    await service(runtime, "run", "token-env.yml", envRight());
    await service(runtime, "bridge", "cert.yml", envRight());
    await cli(runtime, ["inbox", "--config", "token.yml", "list", "--all"], envRight());
    await cli(runtime, ["service", "--config", "sigv4.yml", "--runtime", runtime], envRight());
    await cli(runtime, ["service", "--config", "token.yml", "--json"], envRight());
  }, 90_000);
});

test("the search: no secret value, encoded form, key line or JWT anywhere", () => {
  const all = outputs.join("\n");
  if (process.env.TW_SECRETS_DUMP) writeFileSync(process.env.TW_SECRETS_DUMP, all);
  assert.ok(outputs.length >= 20, `ran ${outputs.length} commands`);
  const forms = (s: string) => [s, encodeURIComponent(s)];
  const secrets = [PW_INLINE, PW_ENV_WRONG, AWS.secretAccessKey, AWS.sessionToken, "wrongSecretKeyValue/1234567890abcdefghij", HEADER];
  for (const s of secrets.flatMap(forms)) assert.ok(!all.includes(s), `secret ${s.slice(0, 6)}… found in:\n${all.split("\n").filter((l) => l.includes(s)).slice(0, 3).join("\n")}`);
  for (const l of keyLines) assert.ok(!all.includes(l), "a line of the private key PEM leaked");
  assert.doesNotMatch(all, /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/, "a JWT leaked");
  assert.doesNotMatch(all, /X-Amz-Signature=[0-9a-f]{8}/i, "a SigV4 signature leaked");
  // The runs did exercise the paths that could leak.
  assert.match(all, /handler failed; retrying/);
  assert.match(all, /collect answered 401|answered 401|401/);
  assert.match(all, /refused|not authori[sz]ed|403/i);
});
