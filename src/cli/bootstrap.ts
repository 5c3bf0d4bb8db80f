/**
 * `thingwire bootstrap`: the checklist that tells whether a thing will work (FlashLex bootstrap.py),
 * each step ✓ / ⚠ / ✗ with what to fix: the config is valid; the key files are readable, the key
 * matches the certificate (public keys compared), the certificate is in date, private keys are not
 * readable by others; the broker accepts TCP connections; the device gets a CONNACK; a message
 * published to the pubsub topic comes back; the HTTP collect endpoint answers (when configured).
 * Uses an in-memory store and its own client id (`<clientId>-bootstrap`), so a running
 * `thingwire run` keeps its connection, session and outbox.
 *
 * @example
 * ```sh
 * thingwire bootstrap --config thing.yml          # exit 0 when every check passed
 * thingwire bootstrap --config thing.yml --json   # {"ok":true,"checks":[{"id":"config","status":"ok",...}]}
 * ```
 */
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { collect } from "../device/collect.ts";
import { createDevice } from "../device/device.ts";
import type { Device } from "../device/types.ts";
import { isThingwireError, ThingwireError } from "../errors.ts";
import { memoryStore } from "../store/memory.ts";
import { configOptions, configOptionsHelp, describeError, flag, parseCommandArgs, reportError, requireConfig, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { loadConfig, type ThingConfig } from "./config.ts";
import { brokerHostPort } from "./config-native.ts";
import type { KeyFileRef } from "./config-schema.ts";
import { deviceOptionsFor, jwtProvider, readKeyFile, Secrets, thingEndpoint } from "./device-from-config.ts";
import { safeUrl, scrubText } from "./log.ts";

const usage = `thingwire bootstrap: check a thing's config, keys and broker, step by step

Usage: thingwire bootstrap --config FILE [--keys DIR] [--data DIR] [--json] [--client-id ID] [--timeout SEC]

Checks, in order, each with what to fix when it fails:
  config valid            the file parses and every key has a valid value
  key files readable      every key and certificate file the config names can be read and parsed
  key matches certificate the private key belongs to the certificate (and to the public key file)
  certificate in date     the client certificate is valid now
  key file permissions    private keys are not readable by group or others (a warning)
  broker reachable        a TCP connection to the broker's host and port succeeds
  connected               the broker accepts the sign-in (CONNACK)
  pubsub round trip       a message published to topics.pubsub comes back
  HTTP collect answers    collect.url accepts a POST with the device JWT (when configured)

Options:
${configOptionsHelp}
      --client-id ID  MQTT client id for the check (default <clientId>-bootstrap, so a running
                      \`thingwire run\` is not disturbed; a broker policy must allow it)
      --timeout SEC   how long to wait for the connection and the round trip (default: the config's
                      operationTimeoutMs, 10 s)

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 the config is invalid,
3 the broker (or the collect endpoint) could not be reached.
`;

type Status = "ok" | "fail" | "warn" | "skip";

/** One line of the checklist. */
export interface Check {
  id: string;
  title: string;
  status: Status;
  detail: string;
  fix?: string;
}

const MARK: Record<Status, string> = { ok: "✓", fail: "✗", warn: "⚠", skip: "-" };

function render(checks: Check[], header: string, footer: string): string {
  const width = Math.max(...checks.map((c) => c.title.length));
  const lines = [header];
  for (const c of checks) {
    lines.push(`  ${MARK[c.status]} ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === "fail" || c.status === "warn")) lines.push(`      fix: ${c.fix}`);
  }
  lines.push(footer, "");
  return lines.join("\n");
}

interface KeyMaterial {
  ref: KeyFileRef;
  text: string;
}

function describeKey(k: ReturnType<typeof createPublicKey>): string {
  const t = k.asymmetricKeyType ?? "unknown";
  const d = k.asymmetricKeyDetails;
  if (t === "rsa") return `RSA ${d?.modulusLength ?? "?"} bits`;
  if (t === "ec") return `EC ${d?.namedCurve ?? "?"}`;
  return t;
}

/** Parses one key file; returns the problem or undefined. */
function parseProblem(m: KeyMaterial): string | undefined {
  try {
    switch (m.ref.kind) {
      case "private-key": {
        const k = createPrivateKey(m.text);
        if (k.type !== "private") return "not a private key";
        return undefined;
      }
      case "public-key":
        createPublicKey(m.text);
        return undefined;
      case "certificate":
      case "ca":
        new X509Certificate(m.text);
        return undefined;
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const encrypted = /ENCRYPTED/.test(m.text) || /passphrase/i.test(why);
    if (encrypted) return "the key is encrypted with a passphrase; thingwire needs an unencrypted key (openssl pkey -in key.pem -out key-plain.pem)";
    return m.ref.kind === "private-key"
      ? "not a PEM private key"
      : m.ref.kind === "public-key"
      ? "not a PEM public key"
      : "not a PEM certificate";
  }
}

const spki = (k: ReturnType<typeof createPublicKey>): string => k.export({ type: "spki", format: "der" }).toString("base64");

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<{ ok: true } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = tcpConnect({ host, port });
    const done = (r: { ok: true } | { ok: false; why: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, why: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once("connect", () => done({ ok: true }));
    socket.once("error", (e: NodeJS.ErrnoException) => {
      const code = e.code ?? "";
      const why = code === "ECONNREFUSED"
        ? "connection refused (nothing listens there)"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "host not found (DNS)"
        : code === "EHOSTUNREACH" || code === "ENETUNREACH"
        ? "no route to the host"
        : code === "ETIMEDOUT"
        ? "timed out"
        : e.message.replace(/\s+/g, " ").slice(0, 120);
      done({ ok: false, why });
    });
  });
}

/** Waits for the device's first "online", or its first "offline" with an error. */
function firstOutcome(device: Device, timeoutMs: number): Promise<{ online: true } | { online: false; error?: ThingwireError; reason: string }> {
  return new Promise((resolve) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      resolve({ online: false, reason: `no CONNACK within ${timeoutMs} ms (${device.status.state}: ${device.status.reason})` });
    }, timeoutMs);
    const check = (s: Device["status"]) => {
      if (s.state === "online") {
        clearTimeout(timer);
        off();
        resolve({ online: true });
      } else if (s.state === "offline" && s.error) {
        clearTimeout(timer);
        off();
        resolve({ online: false, error: s.error, reason: s.reason });
      }
    };
    off = device.on("status", check);
    check(device.status);
  });
}

function connectFix(e: ThingwireError | undefined, cfg: ThingConfig): string {
  const code = e?.code;
  const msg = e?.message ?? "";
  if (code === "AUTH_REJECTED") {
    return cfg.auth.type === "cert"
      ? "the broker refused the certificate: register it (and activate it) for this thing, or check the CA the broker trusts"
      : cfg.auth.type === "sigv4"
      ? "the gateway refused the signature: check the AWS credentials, the region and the IoT policy"
      : "the broker refused the credentials: check auth username/password (or the JWT's key, issuer and audience)";
  }
  if (/certificate|self.signed|issuer|TLS|SSL|handshake/i.test(msg)) {
    return "TLS failed: give the CA that signed the broker's certificate (auth.ca / broker.ca / thing.keys.rootCA), and check the certificate names the host";
  }
  if (code === "CONNECT_TIMEOUT") return "the broker accepted TCP but did not answer the MQTT CONNECT: check the URL's scheme and path (ws:// vs mqtt://, /mqtt)";
  if (code === "AUTH_INVALID_OPTIONS" || code === "AUTH_UNSUPPORTED") return "fix the auth settings in the config";
  return "check broker.url, the port and the protocol the broker speaks";
}

async function runChecks(argv: string[], io: CliIO): Promise<{ checks: Check[]; exit: number; header: string; secrets: Secrets; json: boolean }> {
  const args = parseCommandArgs(argv, { ...configOptions, "client-id": { type: "string" }, timeout: { type: "string" } });
  const json = flag(args, "json");
  const file = requireConfig(args);
  const checks: Check[] = [];
  const secrets = new Secrets();
  const add = (c: Check) => checks.push(c);

  // 1. config
  let cfg: ThingConfig;
  try {
    cfg = await loadConfig(file, {
      cwd: io.cwd,
      env: io.env,
      ...(str(args, "keys") ? { keysDir: str(args, "keys")! } : {}),
      ...(str(args, "data") ? { dataDir: str(args, "data")! } : {}),
    });
  } catch (e) {
    if (!isThingwireError(e) || (e.code !== "CONFIG_INVALID" && e.code !== "CONFIG_NOT_FOUND")) throw e;
    add({
      id: "config",
      title: "config valid",
      status: "fail",
      detail: e.message,
      fix: e.code === "CONFIG_NOT_FOUND" ? "check the --config path" : `edit ${file}${e.path ? ` at ${e.path}` : ""}${e.line ? ` (line ${e.line})` : ""}; see docs/cli.md for every key`,
    });
    for (const [id, title] of [["keys", "key files readable"], ["reachable", "broker reachable"], ["connected", "connected"], ["pubsub", "pubsub round trip"]]) {
      add({ id: id!, title: title!, status: "skip", detail: "skipped: the config is not valid" });
    }
    return { checks, exit: EXIT.USAGE, header: `thingwire bootstrap: ${file}`, secrets, json };
  }
  for (const s of cfg.secrets) secrets.add(s);
  let timeoutMs = cfg.operationTimeoutMs;
  const t = str(args, "timeout");
  if (t !== undefined) {
    const n = Number(t);
    if (!Number.isFinite(n) || n <= 0 || t.trim() === "") throw new ThingwireError("CLI_USAGE", `--timeout: expected a number of seconds > 0, got "${t.slice(0, 20)}"`);
    timeoutMs = Math.round(n * 1000);
  }
  const header = `thingwire bootstrap: thing ${cfg.id}${cfg.name !== cfg.id ? ` (${cfg.name})` : ""} — ${cfg.displayFile}, ${cfg.format === "flashlex" ? "FlashLex config.yml" : "thingwire config"}`;
  add({
    id: "config",
    title: "config valid",
    status: cfg.warnings.length ? "warn" : "ok",
    detail: `${safeUrl(cfg.broker.url)}, auth ${cfg.auth.type}, store ${cfg.store.kind === "sqlite" ? cfg.store.path : "memory"}${cfg.warnings.length ? `; ${cfg.warnings.join("; ")}` : ""}`,
  });

  // 2. key files
  const materials: KeyMaterial[] = [];
  const keyProblems: string[] = [];
  for (const ref of cfg.keyFiles) {
    try {
      const text = await readKeyFile(cfg, ref.path, ref.file);
      if (ref.kind === "private-key") secrets.add(text);
      const m = { ref, text };
      const p = parseProblem(m);
      if (p) keyProblems.push(`${ref.path} (${ref.file}): ${p}`);
      else materials.push(m);
    } catch (e) {
      keyProblems.push(describeError(e));
    }
  }
  const keysOk = keyProblems.length === 0;
  if (cfg.keyFiles.length === 0) add({ id: "keys", title: "key files readable", status: "skip", detail: `none named (auth ${cfg.auth.type})` });
  else {
    add(keysOk
      ? { id: "keys", title: "key files readable", status: "ok", detail: [...new Set(cfg.keyFiles.map((k) => k.path))].join(", ") }
      : {
        id: "keys",
        title: "key files readable",
        status: "fail",
        detail: keyProblems.join("; "),
        fix: `check the paths; relative key paths resolve against --keys (now ${cfg.keysDir})`,
      });
  }

  // 3. key matches certificate (and public key file), certificate dates
  const priv = materials.find((m) => m.ref.kind === "private-key");
  const cert = materials.find((m) => m.ref.kind === "certificate");
  const pub = materials.find((m) => m.ref.kind === "public-key");
  let matchOk = true;
  if (priv && (cert || pub)) {
    const key = createPublicKey(createPrivateKey(priv.text));
    const problems: string[] = [];
    let x509: X509Certificate | undefined;
    if (cert) {
      x509 = new X509Certificate(cert.text);
      if (spki(x509.publicKey) !== spki(key)) problems.push(`${priv.ref.path} does not belong to the certificate ${cert.ref.path} (their public keys differ)`);
    }
    if (pub && spki(createPublicKey(pub.text)) !== spki(key)) problems.push(`${pub.ref.path} is not the public half of ${priv.ref.path}`);
    matchOk = problems.length === 0;
    add(matchOk
      ? { id: "key-match", title: "key matches certificate", status: "ok", detail: `${priv.ref.path} ↔ ${[cert?.ref.path, pub?.ref.path].filter(Boolean).join(", ")} (${describeKey(key)})` }
      : { id: "key-match", title: "key matches certificate", status: "fail", detail: problems.join("; "), fix: "use the private key the certificate was issued for (download the thing's keys again if unsure)" });
    if (x509) {
      const now = Date.now();
      const from = Date.parse(x509.validFrom);
      const to = Date.parse(x509.validTo);
      const inDate = !(now < from || now > to);
      if (!inDate) matchOk = false;
      add(inDate
        ? { id: "cert-valid", title: "certificate in date", status: "ok", detail: `valid until ${new Date(to).toISOString().slice(0, 10)}` }
        : {
          id: "cert-valid",
          title: "certificate in date",
          status: "fail",
          detail: now > to ? `${cert!.ref.path} expired on ${new Date(to).toISOString()}` : `${cert!.ref.path} is not valid before ${new Date(from).toISOString()}`,
          fix: now > to ? "issue a new certificate for the thing" : "check the system clock",
        });
    }
  } else if (cfg.auth.type === "cert" && keysOk) {
    matchOk = false;
  }

  // 4. permissions of private keys
  const loose: string[] = [];
  const fixes: string[] = [];
  for (const m of materials.filter((x) => x.ref.kind === "private-key")) {
    try {
      const st = await stat(m.ref.file);
      if ((st.mode & 0o077) !== 0) {
        loose.push(`${m.ref.file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
        fixes.push(`chmod 600 ${m.ref.file}`);
      }
    } catch {
      // already reported above
    }
  }
  if (materials.some((x) => x.ref.kind === "private-key")) {
    add(loose.length
      ? { id: "permissions", title: "key file permissions", status: "warn", detail: loose.join("; "), fix: [...new Set(fixes)].join(" && ") }
      : { id: "permissions", title: "key file permissions", status: "ok", detail: "private keys readable by their owner only" });
  }

  // 5. TCP reachability
  let exit: number = EXIT.OK;
  const { host, port } = brokerHostPort(cfg.broker.url);
  const reach = await tcpCheck(host, port, Math.min(timeoutMs, cfg.broker.connectTimeoutMs ?? 10_000));
  add(reach.ok
    ? { id: "reachable", title: "broker reachable", status: "ok", detail: `${host}:${port} accepts TCP connections` }
    : { id: "reachable", title: "broker reachable", status: "fail", detail: `${host}:${port}: ${reach.why}`, fix: `is the broker running? check broker.url (${safeUrl(cfg.broker.url)}), DNS and firewalls` });
  if (!reach.ok) exit = EXIT.UNREACHABLE;

  // 6. + 7. connect, then the pubsub round trip
  const canConnect = reach.ok && keysOk && matchOk;
  if (!canConnect) {
    add({ id: "connected", title: "connected", status: "skip", detail: `skipped: ${!reach.ok ? "the broker is not reachable" : "fix the key files first"}` });
    add({ id: "pubsub", title: "pubsub round trip", status: "skip", detail: "skipped: not connected" });
  } else {
    const clientId = str(args, "client-id") ?? `${cfg.clientId}-bootstrap`;
    let device: Device | undefined;
    const store = memoryStore();
    try {
      const opts = await deviceOptionsFor(cfg, { ...thingEndpoint(cfg), clientId }, { secrets });
      delete opts.outbox;
      delete opts.inbox;
      device = createDevice({ ...opts, store, clean: true, connectTimeoutMs: Math.min(opts.connectTimeoutMs ?? 10_000, timeoutMs) });
      const started = Date.now();
      const outcome = await firstOutcome(device, timeoutMs + 1_000);
      if (outcome.online) {
        add({ id: "connected", title: "connected", status: "ok", detail: `CONNACK from ${safeUrl(cfg.broker.url)} (MQTT ${cfg.broker.protocolVersion === 5 ? "5" : "3.1.1"}) as ${clientId}, ${Date.now() - started} ms` });
        const topic = cfg.topics.pubsub;
        if (topic === undefined) {
          add({ id: "pubsub", title: "pubsub round trip", status: "skip", detail: "no topics.pubsub in the config" });
        } else {
          const nonce = crypto.randomUUID();
          const body = JSON.stringify({ thingId: cfg.id, thingName: cfg.name, message: cfg.testMessage, sequence: 0, nonce });
          const t0 = Date.now();
          let gotIt!: () => void;
          const got = new Promise<void>((r) => (gotIt = r));
          const dec = new TextDecoder();
          try {
            await device.subscribe(topic, (m) => {
              if (dec.decode(m.payload).includes(nonce)) gotIt();
            });
            await device.publish(topic, body, { qos: 1 });
            let timer: ReturnType<typeof setTimeout> | undefined;
            const ok = await Promise.race([got.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
            clearTimeout(timer);
            add(ok
              ? { id: "pubsub", title: "pubsub round trip", status: "ok", detail: `published to ${topic} and received it back, ${Date.now() - t0} ms` }
              : {
                id: "pubsub",
                title: "pubsub round trip",
                status: "fail",
                detail: `published to ${topic} but it did not come back within ${timeoutMs} ms`,
                fix: `check the broker policy/ACL lets ${clientId} publish and subscribe to ${topic}`,
              });
          } catch (e) {
            add({
              id: "pubsub",
              title: "pubsub round trip",
              status: "fail",
              detail: describeError(e, secrets.list()),
              fix: `check the broker policy/ACL lets ${clientId} publish and subscribe to ${topic}`,
            });
          }
        }
      } else {
        const reason = outcome.error?.message ?? outcome.reason;
        add({ id: "connected", title: "connected", status: "fail", detail: scrubText(reason, secrets.list()), fix: connectFix(outcome.error, cfg) });
        add({ id: "pubsub", title: "pubsub round trip", status: "skip", detail: "skipped: not connected" });
      }
    } catch (e) {
      add({ id: "connected", title: "connected", status: "fail", detail: describeError(e, secrets.list()), fix: "fix the auth settings in the config" });
      add({ id: "pubsub", title: "pubsub round trip", status: "skip", detail: "skipped: not connected" });
    } finally {
      await device?.close().catch(() => {});
      await store.close().catch(() => {});
    }
  }

  // 8. HTTP collect
  if (cfg.collect) {
    const u = new URL(cfg.collect.url);
    const where = `${u.origin}${u.pathname}`;
    const jwtKeyBad = cfg.keyFiles.some((k) => k.file === cfg.collect!.jwt.privateKey) && !materials.some((m) => m.ref.file === cfg.collect!.jwt.privateKey);
    if (jwtKeyBad) add({ id: "collect", title: "HTTP collect answers", status: "skip", detail: "skipped: the JWT key file is not usable" });
    else {
      try {
        const token = await jwtProvider(cfg, cfg.collect.jwt, secrets);
        const r = await collect({ url: cfg.collect.url, token, body: { thingId: cfg.id, thingName: cfg.name, message: cfg.testMessage, bootstrap: true }, timeoutMs: Math.min(timeoutMs, cfg.collect.timeoutMs) });
        add({ id: "collect", title: "HTTP collect answers", status: "ok", detail: `${where} answered ${r.status}` });
      } catch (e) {
        const status = isThingwireError(e) ? e.status : undefined;
        const unreachable = isThingwireError(e, "HTTP_FAILED") && status === undefined;
        if (unreachable && exit === EXIT.OK) exit = EXIT.UNREACHABLE;
        add({
          id: "collect",
          title: "HTTP collect answers",
          status: "fail",
          detail: `${where}: ${describeError(e, secrets.list())}`,
          fix: status === 401 || status === 403
            ? "the endpoint refused the device JWT: check the key, issuer and audience it expects"
            : unreachable
            ? "check collect.url (FlashLex: app.api.endpoint and env) and the network"
            : "check collect.url and what the endpoint expects",
        });
      }
    }
  } else {
    add({ id: "collect", title: "HTTP collect answers", status: "skip", detail: "not configured (collect.url)" });
  }

  if (exit === EXIT.OK && checks.some((c) => c.status === "fail")) exit = EXIT.FAILED;
  return { checks, exit, header, secrets, json };
}

const command: Command = {
  name: "bootstrap",
  summary: "check a thing's config, keys and broker, step by step, with what to fix",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    let json = argv.includes("--json");
    try {
      const r = await runChecks(argv, io);
      json = r.json;
      const checks = r.checks.map((c) => ({ ...c, detail: scrubText(c.detail, r.secrets.list()), ...(c.fix ? { fix: scrubText(c.fix, r.secrets.list()) } : {}) }));
      const failed = checks.filter((c) => c.status === "fail").length;
      const warned = checks.filter((c) => c.status === "warn").length;
      const passed = checks.filter((c) => c.status === "ok").length;
      const skipped = checks.filter((c) => c.status === "skip").length;
      if (json) {
        io.stdout(JSON.stringify({ ok: r.exit === EXIT.OK, exitCode: r.exit, checks }) + "\n");
      } else {
        const summary = failed === 0
          ? `bootstrap passed: ${passed} ok${warned ? `, ${warned} warning${warned === 1 ? "" : "s"}` : ""}${skipped ? `, ${skipped} skipped` : ""}`
          : `bootstrap failed: ${failed} check${failed === 1 ? "" : "s"} failed, ${passed} ok${warned ? `, ${warned} warning${warned === 1 ? "" : "s"}` : ""}${skipped ? `, ${skipped} skipped` : ""}`;
        io.stdout(render(checks, r.header, summary));
      }
      return r.exit;
    } catch (e) {
      return reportError(io, "bootstrap", e, json);
    }
  },
};

export default command;
