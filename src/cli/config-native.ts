/**
 * The thingwire config shape (YAML or JSON) and the helpers both shapes share: key files resolved
 * against `--keys`, secrets from the environment, `{thingId}` templates, topic and URL checks.
 *
 * ```yaml
 * id: thing-42                      # required: the thing id (no / + # NUL)
 * name: Kiosk 42                    # default: id
 * clientId: thing-42                # default: id
 * broker: mqtts://broker:8883       # or { url, protocolVersion: 4|5, keepaliveSec, connectTimeoutMs,
 *                                   #      clean, sessionExpirySec, ca, rejectUnauthorized, servername }
 * auth:                             # default { type: none }
 *   type: cert                      # none | sigv4 | cert | token
 *   key: thing-42.key               # cert: key, cert, ca? (files; relative to --keys)
 *   cert: thing-42.pem
 *   # sigv4: region, accessKeyId/secretAccessKey/sessionToken, or accessKeyIdEnv/secretAccessKeyEnv/
 *   #        sessionTokenEnv (default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   # token: username?, password | passwordEnv | jwt { privateKey, alg, issuer, audience, ttlSec, kid }
 * topics: { ingress: ingress/{thingId}, egress: egress/{thingId}, pubsub: pubsub/{thingId} }
 * store: data/{thingId}.db          # a SQLite file (relative to --data or the config's directory), or memory
 * reconnect: { baseMs: 1000, maxMs: 30000, stableMs: 10000 }
 * outbox: { maxMessages, maxBytes, whenFull: reject|drop-oldest, inFlight, drainRatePerSec, ttlMs, maxMessageBytes }
 * inbox: { expireSeconds: 86400 }
 * operationTimeoutMs: 10000
 * collect: { url: https://api/things/{thingId}/collect, timeoutMs, jwt: { privateKey, alg, issuer, audience, ttlSec } }
 * handlers: [ { type: stdout } ]    # run: handlers for every ingress message
 * bridge: { source: { url, auth, clientId, topics: [...], qos }, handlers: [...], retry: { baseMs, maxMs },
 *           store: data/{thingId}-bridge.db }   # the bridge's own inbox (default: store + "-bridge")
 * retry: { baseMs: 500, maxMs: 30000 }   # failing handlers' backoff
 * testMessage: hello                # what bootstrap publishes to the pubsub topic
 * ```
 *
 * @example
 * ```ts
 * const cfg = parseNativeConfig(new At(src, doc, []), ctx);
 * ```
 */
import { isAbsolute, resolve } from "node:path";
import type { OutboxOptions } from "../device/types.ts";
import {
  At,
  type AuthConfig,
  type BrokerConfig,
  DEFAULTS,
  type EndpointConfig,
  type HandlerConfig,
  type JwtConfig,
  type KeyFileRef,
  pathText,
  type RetryConfig,
  type ThingConfig,
} from "./config-schema.ts";

/** What the shape parsers need besides the document. */
export interface BuildContext {
  env: Record<string, string | undefined>;
  /** Relative key paths resolve here (`--keys`, default the config's directory). */
  keysDir: string;
  /** Relative store paths resolve here (`--data`, default the config's directory). */
  dataDir: string;
  /** The config file's directory (handler modules resolve here). */
  configDir: string;
  /** Whether `--data` was given. */
  dataDirGiven: boolean;
  secrets: string[];
  envNames: string[];
  keyFiles: KeyFileRef[];
  warnings: string[];
  vars: Record<string, string>;
}

/** A key/cert file named at `at`, resolved against the keys directory and recorded. */
export function keyFile(ctx: BuildContext, at: At, kind: KeyFileRef["kind"]): string {
  const p = at.str({ what: "a file path" });
  const file = isAbsolute(p) ? p : resolve(ctx.keysDir, p);
  ctx.keyFiles.push({ path: pathText(at.path), file, kind });
  return file;
}

/** A secret given inline at `inline` or by environment variable name at `envAt` (default `defaultEnv`). */
export function secretValue(ctx: BuildContext, inline: At, envAt: At, defaultEnv: string | undefined, required: boolean): string | undefined {
  if (inline.present) {
    if (envAt.present) envAt.failWith(`give either ${pathText(inline.path)} or ${pathText(envAt.path)}, not both`);
    const v = inline.str({ secret: true, what: "a non-empty string" });
    ctx.secrets.push(v);
    return v;
  }
  const name = envAt.present ? envAt.str({ what: "an environment variable name" }) : defaultEnv;
  if (name === undefined) {
    if (required) inline.fail("a non-empty string (or set " + pathText(envAt.path) + ")");
    return undefined;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) envAt.fail("an environment variable name (letters, digits, _)");
  ctx.envNames.push(name);
  const v = ctx.env[name];
  if (v === undefined || v === "") {
    if (!required) return undefined;
    const at = envAt.present ? envAt : inline;
    return at.failWith(`environment variable ${name} is not set; set it, or give ${pathText(inline.path)} in the config`);
  }
  ctx.secrets.push(v);
  return v;
}

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/**
 * Expands `{thingId}`, `{thingName}`, `{clientId}` (and `keep` placeholders, left as they are) in
 * the string at `at`. A value that would change the topic structure (`/ + #` or NUL) is an error.
 */
export function expand(ctx: BuildContext, at: At, template: string, keep: readonly string[] = []): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (keep.includes(name)) return whole;
    const v = ctx.vars[name];
    if (v === undefined) {
      at.failWith(`unknown placeholder {${name}}; use ${[...Object.keys(ctx.vars), ...keep].map((k) => `{${k}}`).join(", ")}`);
    }
    if (/[/+#\0]/.test(v)) {
      at.failWith(`{${name}} is "${v.slice(0, 60)}", which contains / + # or NUL and would escape the topic template`);
    }
    return v;
  });
}

const utf8 = new TextEncoder();

/** A topic to publish to: no wildcards, no NUL, 1..65535 bytes. */
export function checkPublishTopic(at: At, topic: string): string {
  if (topic === "") at.failWith("the topic is empty");
  if (/[+#]/.test(topic)) at.failWith(`topic "${topic.slice(0, 80)}" has a wildcard (+ or #); a publish topic cannot`);
  if (utf8.encode(topic).byteLength > 65_535) at.failWith("the topic is longer than 65,535 bytes");
  return topic;
}

/** A subscription filter: `+` a whole level, `#` a whole last level. */
export function checkFilter(at: At, filter: string): string {
  if (filter === "") at.failWith("the topic filter is empty");
  if (utf8.encode(filter).byteLength > 65_535) at.failWith("the topic filter is longer than 65,535 bytes");
  const levels = filter.split("/");
  levels.forEach((l, i) => {
    if (l.includes("#") && (l !== "#" || i !== levels.length - 1)) {
      at.failWith(`filter "${filter.slice(0, 80)}": # must be a whole level and the last one`);
    }
    if (l.includes("+") && l !== "+") at.failWith(`filter "${filter.slice(0, 80)}": + must be a whole level`);
  });
  return filter;
}

const URL_SCHEMES = ["ws:", "wss:", "mqtt:", "mqtts:"];

/** A broker URL: ws, wss, mqtt or mqtts with a host. */
export function brokerUrl(at: At): string {
  const s = at.str({ what: "a broker URL (ws://, wss://, mqtt:// or mqtts://)" });
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return at.fail("a broker URL (ws://, wss://, mqtt:// or mqtts://host:port)");
  }
  if (!URL_SCHEMES.includes(u.protocol)) at.fail("a broker URL starting with ws://, wss://, mqtt:// or mqtts://");
  if (u.hostname === "") at.fail("a broker URL with a host");
  if (u.password !== "") at.failWith("put the password in auth (token), not in the URL");
  return s;
}

/** An http(s) URL. */
export function httpUrl(at: At): string {
  const s = at.str({ what: "an http:// or https:// URL" });
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return at.fail("an http:// or https:// URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") at.fail("an http:// or https:// URL");
  return s;
}

/** A thing id or client id: 1-128 characters without / + # NUL or whitespace. */
export function idValue(at: At, what: string): string {
  const s = at.str({ what, maxLength: 128 });
  if (/[/+#\0\s]/.test(s)) at.fail(`${what} without / + # or whitespace`);
  return s;
}

/** Default well-known port of a broker URL, for reachability checks and permissions. */
export function brokerHostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  const defaults: Record<string, number> = { "ws:": 80, "wss:": 443, "mqtt:": 1883, "mqtts:": 8883 };
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: u.port === "" ? defaults[u.protocol] ?? 443 : Number(u.port) };
}

// ---------------------------------------------------------------------------------------------

const JWT_ALGS = ["RS256", "ES256"] as const;

function parseJwt(ctx: BuildContext, at: At): JwtConfig {
  at.mapping(["privateKey", "alg", "issuer", "audience", "ttlSec", "kid", "subject"]);
  const jwt: JwtConfig = {
    privateKey: keyFile(ctx, at.key("privateKey"), "private-key"),
    privateKeyPath: pathText(at.key("privateKey").path),
    ttlSec: at.key("ttlSec").optInt({ min: 1, max: 86_400 * 366 }) ?? DEFAULTS.jwtTtlSec,
  };
  const alg = at.key("alg").optOneOf(JWT_ALGS);
  if (alg) jwt.alg = alg;
  const iss = at.key("issuer").optStr();
  if (iss !== undefined) jwt.issuer = expand(ctx, at.key("issuer"), iss);
  const aud = at.key("audience").optStr();
  if (aud !== undefined) jwt.audience = expand(ctx, at.key("audience"), aud);
  const kid = at.key("kid").optStr();
  if (kid !== undefined) jwt.kid = expand(ctx, at.key("kid"), kid);
  const sub = at.key("subject").optStr();
  if (sub !== undefined) jwt.subject = expand(ctx, at.key("subject"), sub);
  return jwt;
}

/** `auth:` of the thingwire shape (also used by bridge endpoints and mqtt handlers). */
export function parseAuth(ctx: BuildContext, at: At): AuthConfig {
  if (!at.present) return { type: "none" };
  at.mapping(undefined, "a mapping with type: none | sigv4 | cert | token");
  const type = at.key("type").oneOf(["none", "sigv4", "cert", "token"] as const);
  switch (type) {
    case "none":
      at.mapping(["type"]);
      return { type };
    case "sigv4": {
      at.mapping(["type", "region", "accessKeyId", "secretAccessKey", "sessionToken", "accessKeyIdEnv", "secretAccessKeyEnv", "sessionTokenEnv"]);
      const region = at.key("region").str({ what: "an AWS region such as us-east-1" });
      if (!/^[a-z0-9-]{2,32}$/.test(region)) at.key("region").fail("an AWS region such as us-east-1");
      const accessKeyId = secretValue(ctx, at.key("accessKeyId"), at.key("accessKeyIdEnv"), "AWS_ACCESS_KEY_ID", true)!;
      const secretAccessKey = secretValue(ctx, at.key("secretAccessKey"), at.key("secretAccessKeyEnv"), "AWS_SECRET_ACCESS_KEY", true)!;
      const sessionToken = secretValue(ctx, at.key("sessionToken"), at.key("sessionTokenEnv"), "AWS_SESSION_TOKEN", false);
      return sessionToken === undefined ? { type, region, accessKeyId, secretAccessKey } : { type, region, accessKeyId, secretAccessKey, sessionToken };
    }
    case "cert": {
      at.mapping(["type", "key", "cert", "ca"]);
      const a: AuthConfig = {
        type,
        key: keyFile(ctx, at.key("key"), "private-key"),
        cert: keyFile(ctx, at.key("cert"), "certificate"),
      };
      if (at.key("ca").present) a.ca = keyFile(ctx, at.key("ca"), "ca");
      return a;
    }
    case "token": {
      at.mapping(["type", "username", "password", "passwordEnv", "jwt"]);
      const out: AuthConfig = { type };
      const username = at.key("username").optStr();
      if (username !== undefined) out.username = expand(ctx, at.key("username"), username);
      if (at.key("jwt").present) {
        if (at.key("password").present || at.key("passwordEnv").present) {
          at.key("jwt").failWith("give either jwt or password/passwordEnv, not both");
        }
        out.jwt = parseJwt(ctx, at.key("jwt"));
      } else if (at.key("password").present || at.key("passwordEnv").present) {
        const pw = secretValue(ctx, at.key("password"), at.key("passwordEnv"), undefined, true);
        if (pw !== undefined) out.password = pw;
      }
      return out;
    }
  }
}

/** `broker:` (a URL string or a mapping). */
export function parseBroker(ctx: BuildContext, at: At): BrokerConfig {
  if (typeof at.value === "string") return { url: brokerUrl(at), protocolVersion: 5 };
  at.mapping(["url", "protocolVersion", "keepaliveSec", "connectTimeoutMs", "clean", "sessionExpirySec", "ca", "rejectUnauthorized", "servername"], "a broker URL or a mapping with url");
  const b: BrokerConfig = {
    url: brokerUrl(at.key("url")),
    protocolVersion: (at.key("protocolVersion").optInt({ min: 4, max: 5, what: "4 (MQTT 3.1.1) or 5" }) ?? 5) as 4 | 5,
  };
  const keepalive = at.key("keepaliveSec").optInt({ min: 0, max: 65_535 });
  if (keepalive !== undefined) b.keepaliveSec = keepalive;
  const ct = at.key("connectTimeoutMs").optInt({ min: 1, max: 3_600_000 });
  if (ct !== undefined) b.connectTimeoutMs = ct;
  const clean = at.key("clean").optBool();
  if (clean !== undefined) b.clean = clean;
  const se = at.key("sessionExpirySec").optInt({ min: 0, max: 4_294_967_295 });
  if (se !== undefined) b.sessionExpirySec = se;
  if (at.key("ca").present) b.ca = keyFile(ctx, at.key("ca"), "ca");
  const ru = at.key("rejectUnauthorized").optBool();
  if (ru !== undefined) b.rejectUnauthorized = ru;
  const sn = at.key("servername").optStr();
  if (sn !== undefined) b.servername = sn;
  return b;
}

/** A broker endpoint mapping: `url` (or `broker`), `auth`, `clientId`, plus `extra` keys. */
export function parseEndpoint(ctx: BuildContext, at: At, extra: readonly string[], defaultClientId: string): EndpointConfig {
  at.mapping(["url", "broker", "auth", "clientId", ...extra]);
  const brokerAt = at.key("broker").present ? at.key("broker") : at.key("url");
  if (!brokerAt.present) at.key("url").fail("a broker URL (ws://, wss://, mqtt:// or mqtts://)");
  if (at.key("broker").present && at.key("url").present) at.key("url").failWith("give either url or broker, not both");
  const clientIdRaw = at.key("clientId").optStr();
  const clientId = clientIdRaw === undefined ? defaultClientId : idValue(at.key("clientId"), "a client id");
  return { broker: parseBroker(ctx, brokerAt), auth: parseAuth(ctx, at.key("auth")), clientId: expand(ctx, at.key("clientId"), clientId), at: pathText(at.path) };
}

/** A `retry:` mapping. */
export function parseRetry(at: At, fallback: RetryConfig): RetryConfig {
  if (!at.optMapping(["baseMs", "maxMs"])) return { ...fallback };
  const r = { baseMs: at.key("baseMs").optInt({ min: 1, max: 3_600_000 }) ?? fallback.baseMs, maxMs: at.key("maxMs").optInt({ min: 1, max: 86_400_000 }) ?? fallback.maxMs };
  if (r.baseMs > r.maxMs) at.key("baseMs").failWith(`baseMs (${r.baseMs}) is larger than maxMs (${r.maxMs})`);
  return r;
}

/** A `handlers:` list. */
export function parseHandlers(ctx: BuildContext, at: At, defaultClientId: string): HandlerConfig[] {
  const names = new Set<string>();
  return at.list("a list of handlers ({ type: stdout | mqtt | http | module, ... })", true).map((h, i) => {
    h.mapping(undefined, "a handler mapping with type: stdout | mqtt | http | module");
    const type = h.key("type").oneOf(["stdout", "mqtt", "http", "module"] as const);
    const name = h.key("name").optStr() ?? `${type}${i === 0 ? "" : `-${i}`}`;
    if (names.has(name)) h.key("name").failWith(`handler name "${name}" is used twice; names must differ`);
    names.add(name);
    switch (type) {
      case "stdout":
        h.mapping(["type", "name"]);
        return { type, name };
      case "mqtt": {
        const ep = parseEndpoint(ctx, h, ["type", "name", "topic", "qos", "retain", "timeoutMs"], `${defaultClientId}-fwd-${i}`);
        const tpl = h.key("topic").optStr() ?? "{topic}";
        const topic = expand(ctx, h.key("topic"), tpl, ["topic"]);
        if (!topic.includes("{topic}")) checkPublishTopic(h.key("topic"), topic);
        else if (/[+#]/.test(topic.replaceAll("{topic}", ""))) h.key("topic").failWith("the topic template has a wildcard (+ or #)");
        return {
          type,
          name,
          endpoint: ep,
          topic,
          qos: (h.key("qos").optInt({ min: 0, max: 1, what: "0 or 1" }) ?? 1) as 0 | 1,
          retain: h.key("retain").optBool() ?? false,
          timeoutMs: h.key("timeoutMs").optInt({ min: 1, max: 3_600_000 }) ?? DEFAULTS.operationTimeoutMs,
        };
      }
      case "http": {
        h.mapping(["type", "name", "url", "method", "headers", "body", "timeoutMs"]);
        const headers: Record<string, string> = {};
        if (h.key("headers").optMapping()) {
          for (const k of Object.keys(h.key("headers").value as object)) {
            if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) h.key("headers").key(k).failWith("not a valid HTTP header name");
            const v = h.key("headers").key(k).str({ secret: true, empty: true });
            headers[k] = v;
            if (v.length >= 4) ctx.secrets.push(v);
          }
        }
        return {
          type,
          name,
          url: expand(ctx, h.key("url"), httpUrl(h.key("url"))),
          method: h.key("method").optOneOf(["POST", "PUT"] as const) ?? "POST",
          headers,
          body: h.key("body").optOneOf(["json", "raw"] as const) ?? "json",
          timeoutMs: h.key("timeoutMs").optInt({ min: 1, max: 3_600_000 }) ?? DEFAULTS.httpTimeoutMs,
        };
      }
      case "module": {
        h.mapping(["type", "name", "path", "options"]);
        const p = h.key("path").str({ what: "the path of a module that default-exports a handler factory" });
        return { type, name, path: isAbsolute(p) ? p : resolve(ctx.configDir, p), options: h.key("options").value ?? {} };
      }
    }
  });
}

function parseOutbox(at: At): OutboxOptions | undefined {
  if (!at.optMapping(["maxMessages", "maxBytes", "whenFull", "inFlight", "drainRatePerSec", "ttlMs", "maxMessageBytes"])) return undefined;
  const o: OutboxOptions = {};
  const set = <K extends keyof OutboxOptions>(k: K, v: OutboxOptions[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set("maxMessages", at.key("maxMessages").optInt({ min: 1 }));
  set("maxBytes", at.key("maxBytes").optInt({ min: 1 }));
  set("whenFull", at.key("whenFull").optOneOf(["reject", "drop-oldest"] as const));
  set("inFlight", at.key("inFlight").optInt({ min: 1, max: 65_535 }));
  set("drainRatePerSec", at.key("drainRatePerSec").optNum({ min: 0.001, what: "a number of messages per second > 0" }));
  set("ttlMs", at.key("ttlMs").optInt({ min: 1 }));
  set("maxMessageBytes", at.key("maxMessageBytes").optInt({ min: 1, max: 268_435_455 }));
  return o;
}

/** The thingwire shape → ThingConfig (without file fields, which config.ts adds). */
export function parseNativeConfig(root: At, ctx: BuildContext): Omit<ThingConfig, "file" | "displayFile" | "keysDir"> {
  root.mapping([
    "id", "name", "clientId", "broker", "auth", "topics", "store", "reconnect", "outbox", "inbox",
    "operationTimeoutMs", "collect", "handlers", "bridge", "retry", "testMessage",
  ], "a mapping with at least id and broker");
  const id = idValue(root.key("id"), "the thing id (1-128 characters)");
  const name = root.key("name").optStr({ maxLength: 256 }) ?? id;
  const clientId = root.key("clientId").present ? idValue(root.key("clientId"), "a client id") : id;
  Object.assign(ctx.vars, { thingId: id, thingName: name, clientId });

  if (!root.key("broker").present) root.key("broker").fail("a broker URL (ws://, wss://, mqtt:// or mqtts://) or a mapping with url");
  const broker = parseBroker(ctx, root.key("broker"));
  const auth = parseAuth(ctx, root.key("auth"));

  const topics: ThingConfig["topics"] = {};
  const t = root.key("topics");
  if (t.optMapping(["ingress", "egress", "pubsub"])) {
    for (const k of ["ingress", "egress", "pubsub"] as const) {
      const raw = t.key(k).optStr();
      if (raw === undefined) continue;
      const v = expand(ctx, t.key(k), raw);
      topics[k] = k === "ingress" ? checkFilter(t.key(k), v) : checkPublishTopic(t.key(k), v);
    }
  }

  const storeRaw = root.key("store").optStr({ what: "a SQLite file path or \"memory\"" }) ?? "data/{thingId}.db";
  const store: ThingConfig["store"] = storeRaw === "memory"
    ? { kind: "memory" }
    : { kind: "sqlite", path: resolveData(ctx, expandPath(ctx, root.key("store"), storeRaw)) };

  const cfg: Omit<ThingConfig, "file" | "displayFile" | "keysDir"> = {
    format: "thingwire",
    id,
    name,
    clientId,
    broker,
    auth,
    topics,
    store,
    operationTimeoutMs: root.key("operationTimeoutMs").optInt({ min: 1, max: 3_600_000 }) ?? DEFAULTS.operationTimeoutMs,
    handlers: parseHandlers(ctx, root.key("handlers"), clientId),
    retry: parseRetry(root.key("retry"), DEFAULTS.retry),
    testMessage: root.key("testMessage").optStr({ maxLength: 65_536 }) ?? `bootstrap check from ${id}`,
    keyFiles: ctx.keyFiles,
    envNames: ctx.envNames,
    secrets: ctx.secrets,
    warnings: ctx.warnings,
  };

  const r = root.key("reconnect");
  if (r.optMapping(["baseMs", "maxMs", "stableMs"])) {
    cfg.reconnect = {};
    const baseMs = r.key("baseMs").optInt({ min: 1, max: 3_600_000 });
    const maxMs = r.key("maxMs").optInt({ min: 1, max: 86_400_000 });
    const stableMs = r.key("stableMs").optInt({ min: 0, max: 86_400_000 });
    if (baseMs !== undefined) cfg.reconnect.baseMs = baseMs;
    if (maxMs !== undefined) cfg.reconnect.maxMs = maxMs;
    if (stableMs !== undefined) cfg.reconnect.stableMs = stableMs;
    if (baseMs !== undefined && maxMs !== undefined && baseMs > maxMs) r.key("baseMs").failWith(`baseMs (${baseMs}) is larger than maxMs (${maxMs})`);
  }
  const outbox = parseOutbox(root.key("outbox"));
  if (outbox) cfg.outbox = outbox;
  const ib = root.key("inbox");
  if (ib.optMapping(["expireSeconds"])) {
    const e = ib.key("expireSeconds").optInt({ min: 1 });
    cfg.inbox = e === undefined ? {} : { expireSeconds: e };
  }

  const c = root.key("collect");
  if (c.optMapping(["url", "timeoutMs", "jwt"])) {
    cfg.collect = {
      url: expand(ctx, c.key("url"), httpUrl(c.key("url"))),
      timeoutMs: c.key("timeoutMs").optInt({ min: 1, max: 3_600_000 }) ?? DEFAULTS.httpTimeoutMs,
      jwt: parseJwt(ctx, c.key("jwt")),
    };
  }

  const b = root.key("bridge");
  if (b.optMapping(["source", "handlers", "retry", "store"])) {
    const s = b.key("source");
    const topicsAt = s.key("topics");
    let source: NonNullable<ThingConfig["bridge"]>["source"];
    const sourceTopics = (fallback: string | undefined): string[] => {
      if (!topicsAt.present) {
        if (fallback === undefined) return topicsAt.fail("a list of topic filters (or set topics.ingress)");
        return [fallback];
      }
      const list = topicsAt.list("a list of topic filters");
      if (list.length === 0) topicsAt.fail("a non-empty list of topic filters");
      return list.map((x) => checkFilter(x, expand(ctx, x, x.str())));
    };
    const qos = (s.key("qos").optInt({ min: 0, max: 1, what: "0 or 1" }) ?? 1) as 0 | 1;
    if (s.present && (s.key("url").present || s.key("broker").present)) {
      const ep = parseEndpoint(ctx, s, ["topics", "qos"], `${clientId}-bridge`);
      source = { ...ep, topics: sourceTopics(topics.ingress), qos };
    } else {
      if (s.present) s.mapping(["topics", "qos", "auth", "clientId"]);
      const cidRaw = s.key("clientId").optStr();
      source = {
        broker,
        auth: s.key("auth").present ? parseAuth(ctx, s.key("auth")) : auth,
        clientId: cidRaw === undefined ? `${clientId}-bridge` : idValue(s.key("clientId"), "a client id"),
        at: "",
        topics: sourceTopics(topics.ingress),
        qos,
      };
    }
    const handlers = parseHandlers(ctx, b.key("handlers"), clientId);
    if (handlers.length === 0) b.key("handlers").fail("a non-empty list of handlers ({ type: stdout | mqtt | http | module })");
    const bs = b.key("store").optStr({ what: "a SQLite file path or \"memory\"" });
    const bridgeStore: NonNullable<ThingConfig["bridge"]>["store"] = bs === "memory"
      ? { kind: "memory" }
      : bs !== undefined
      ? { kind: "sqlite", path: resolveData(ctx, expandPath(ctx, b.key("store"), bs)) }
      : store.kind === "memory"
      ? { kind: "memory" }
      : { kind: "sqlite", path: store.path.replace(/(\.[A-Za-z0-9]+)?$/, (ext) => `-bridge${ext}`) };
    if (bridgeStore.kind === "sqlite" && store.kind === "sqlite" && bridgeStore.path === store.path) {
      b.key("store").failWith("is the same file as store; the bridge needs its own inbox so `run` and `bridge` never share one");
    }
    cfg.bridge = { source, handlers, retry: parseRetry(b.key("retry"), cfg.retry), store: bridgeStore };
  }
  return cfg;
}

/** Expands templates in a file path (a thing id is path-safe already: no "/"). */
export function expandPath(ctx: BuildContext, at: At, p: string): string {
  return expand(ctx, at, p);
}

/** A store path resolved against the data directory. */
export function resolveData(ctx: BuildContext, p: string): string {
  return isAbsolute(p) ? p : resolve(ctx.dataDir, p);
}
