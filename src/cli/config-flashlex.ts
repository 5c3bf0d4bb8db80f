/**
 * Reads a FlashLex `config.yml` as it is and maps it onto thingwire's options. The file is
 * recognized by its keys: a top-level `flashlex:` mapping, or `thing:` holding `keys`, `mqtt` or
 * `endpoint` (and no thingwire `broker`). Keys thingwire has no use for are ignored, so a FlashLex
 * distribution's file works unchanged.
 *
 * | FlashLex key (under `flashlex:`)                              | thingwire option                                         |
 * |---------------------------------------------------------------|----------------------------------------------------------|
 * | `thing.id`                                                    | `id` (also `{thingId}`, JWT `kid`)                       |
 * | `thing.name`                                                  | `name` and the MQTT `clientId` (FlashLex connected as the thing name) |
 * | `thing.endpoint`, `thing.mqtt.port`, `thing.mqtt.useWebsocket` | `broker.url`: `mqtts://endpoint:port` (default port 8883), or with `useWebsocket: true` `wss://endpoint:port/mqtt` (default 443) |
 * | (implicit)                                                    | `broker.protocolVersion: 4` (FlashLex spoke MQTT 3.1.1)  |
 * | `thing.keys.privateKey`, `thing.keys.cert`, `thing.keys.rootCA` | `auth: { type: cert, key, cert, ca }` (files relative to `--keys`) |
 * | `thing.mqtt.useWebsocket: true`                                | `auth: { type: sigv4 }`, region from the endpoint (`*.iot.<region>.amazonaws.com`), credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; `rootCA` becomes `broker.ca` |
 * | `thing.keys.publicKey`                                        | checked by `bootstrap` against the private key            |
 * | `thing.mqtt.ingress.topic` / `egress.topic` / `pubsub.topic`   | `topics.ingress` / `topics.egress` / `topics.pubsub`      |
 * | `thing.mqtt.autoReconnectBackoffTime.baseReconnectQuietTimeSecond` | `reconnect.baseMs` (× 1000)                          |
 * | `….maxReconnectQuietTimeSecond`                               | `reconnect.maxMs` (× 1000)                                |
 * | `….stableConnectionTimeSecond`                                | `reconnect.stableMs` (× 1000)                             |
 * | `thing.mqtt.offlinePublishQueueing`                           | `-1` (infinite): `outbox.maxMessages` unlimited (the byte limit still holds); `N > 0`: `outbox.maxMessages: N`, `whenFull: reject` (the SDK dropped the newest); `0` (no queueing): a warning, thingwire always queues durably |
 * | `thing.mqtt.drainingFrequency` (Hz)                           | `outbox.drainRatePerSec`                                  |
 * | `thing.mqtt.connectDisconnectTimeout` (s)                     | `broker.connectTimeoutMs` (× 1000)                        |
 * | `thing.mqtt.mqttOperationTimeout` (s)                         | `operationTimeoutMs` (× 1000): `send`'s flush, `bootstrap`'s round trip |
 * | `app.db.expireSeconds`                                        | `inbox.expireSeconds`                                     |
 * | `app.db.subscriptionData`                                     | not read (FlashLex's TinyDB file); the inbox is SQLite: `<--data, default <config dir>/data>/thingwire.db` |
 * | `app.api.endpoint`, `app.api.env`                             | `collect.url`: `<endpoint>/<env>/v1/things/<id>/collect`, with a device JWT signed by `thing.keys.privateKey` (RS256 for RSA keys, ES256 for EC; `kid` = id, `iss` = `urn:thing:<id>`, `aud` = `urn:flashlex:<id>`, 720 s) |
 * | `app.message`                                                 | `testMessage` (what `bootstrap` publishes to pubsub)      |
 * | `app.callback`, `app.thread`, `dist.*`                        | ignored                                                   |
 *
 * @example
 * ```ts
 * if (isFlashLexShape(doc)) cfg = parseFlashLexConfig(new At(src, doc, []), ctx);
 * ```
 */
import { resolve } from "node:path";
import { type At, type AuthConfig, type BrokerConfig, DEFAULTS, type ThingConfig } from "./config-schema.ts";
import { type BuildContext, checkFilter, checkPublishTopic, expand, httpUrl, idValue, keyFile } from "./config-native.ts";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** True when a parsed document looks like a FlashLex config.yml. */
export function isFlashLexShape(doc: unknown): boolean {
  if (!isObj(doc)) return false;
  if (isObj(doc.flashlex)) return true;
  if ("broker" in doc || "id" in doc) return false;
  const thing = doc.thing;
  return isObj(thing) && ("keys" in thing || "mqtt" in thing || "endpoint" in thing);
}

const AWS_REGION = /\.iot\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i;

/** A FlashLex document → ThingConfig (without file fields, which config.ts adds). */
export function parseFlashLexConfig(doc: At, ctx: BuildContext): Omit<ThingConfig, "file" | "displayFile" | "keysDir"> {
  const root = isObj(doc.value) && isObj(doc.value.flashlex) ? doc.key("flashlex") : doc;
  const thing = root.key("thing");
  thing.mapping(undefined, "a mapping with id, name, endpoint, keys and mqtt (the FlashLex thing)");
  const app = root.key("app");
  if (app.present) app.mapping();
  const mqtt = thing.key("mqtt");
  mqtt.mapping(undefined, "a mapping with port and the topics (FlashLex thing.mqtt)");

  const id = idValue(thing.key("id"), "the thing id (1-128 characters)");
  const name = thing.key("name").present ? idValue(thing.key("name"), "the thing name (the MQTT client id)") : id;
  const clientId = name;
  Object.assign(ctx.vars, { thingId: id, thingName: name, clientId });

  // broker
  const endpointAt = thing.key("endpoint");
  const endpoint = endpointAt.str({ what: "the broker host name, e.g. xxxx-ats.iot.us-east-1.amazonaws.com" });
  const useWs = mqtt.key("useWebsocket").optBool() ?? false;
  const port = mqtt.key("port").optInt({ min: 1, max: 65_535 }) ?? (useWs ? 443 : 8883);
  let host = endpoint.trim();
  if (/^[a-z]+:\/\//i.test(host)) {
    try {
      host = new URL(host).hostname;
    } catch {
      endpointAt.fail("a host name such as xxxx-ats.iot.us-east-1.amazonaws.com");
    }
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)$/.test(host)) endpointAt.fail("a host name such as xxxx-ats.iot.us-east-1.amazonaws.com");
  const broker: BrokerConfig = {
    url: useWs ? `wss://${host}:${port}/mqtt` : `mqtts://${host}:${port}`,
    protocolVersion: 4,
  };
  const cdt = mqtt.key("connectDisconnectTimeout").optNum({ min: 0.001, max: 3600, what: "a number of seconds > 0" });
  if (cdt !== undefined) broker.connectTimeoutMs = Math.round(cdt * 1000);

  // keys and auth
  const keys = thing.key("keys");
  keys.mapping(undefined, "a mapping with rootCA, cert, privateKey (file names relative to --keys)");
  let auth: AuthConfig;
  if (useWs) {
    const m = AWS_REGION.exec(host);
    if (!m) {
      return endpointAt.failWith(
        `with thing.mqtt.useWebsocket: true thingwire signs in with SigV4 and reads the region from the endpoint: expected an AWS IoT endpoint like xxxx-ats.iot.us-east-1.amazonaws.com, got "${host.slice(0, 80)}"`,
      );
    }
    const envSecret = (name: string, required: boolean): string | undefined => {
      ctx.envNames.push(name);
      const v = ctx.env[name];
      if (v === undefined || v === "") {
        if (required) {
          mqtt.key("useWebsocket").failWith(
            `is true, so thingwire signs in with SigV4 using AWS credentials from the environment, and ${name} is not set`,
          );
        }
        return undefined;
      }
      ctx.secrets.push(v);
      return v;
    };
    auth = {
      type: "sigv4",
      region: m[1]!.toLowerCase(),
      accessKeyId: envSecret("AWS_ACCESS_KEY_ID", true)!,
      secretAccessKey: envSecret("AWS_SECRET_ACCESS_KEY", true)!,
    };
    const token = envSecret("AWS_SESSION_TOKEN", false);
    if (token !== undefined) auth.sessionToken = token;
    if (keys.key("rootCA").present) broker.ca = keyFile(ctx, keys.key("rootCA"), "ca");
  } else {
    auth = {
      type: "cert",
      key: keyFile(ctx, keys.key("privateKey"), "private-key"),
      cert: keyFile(ctx, keys.key("cert"), "certificate"),
    };
    if (keys.key("rootCA").present) auth.ca = keyFile(ctx, keys.key("rootCA"), "ca");
  }
  if (keys.key("publicKey").present) keyFile(ctx, keys.key("publicKey"), "public-key");

  // topics
  const topics: ThingConfig["topics"] = {};
  for (const k of ["ingress", "egress", "pubsub"] as const) {
    const tAt = mqtt.key(k);
    if (!tAt.present) continue;
    tAt.mapping(undefined, `a mapping with topic (FlashLex thing.mqtt.${k}.topic)`);
    const raw = tAt.key("topic").str({ what: "an MQTT topic" });
    const v = expand(ctx, tAt.key("topic"), raw);
    topics[k] = k === "ingress" ? checkFilter(tAt.key("topic"), v) : checkPublishTopic(tAt.key("topic"), v);
  }

  // data directory and store
  const dataDir = ctx.dataDirGiven ? ctx.dataDir : resolve(ctx.configDir, "data");
  const cfg: Omit<ThingConfig, "file" | "displayFile" | "keysDir"> = {
    format: "flashlex",
    id,
    name,
    clientId,
    broker,
    auth,
    topics,
    store: { kind: "sqlite", path: resolve(dataDir, "thingwire.db") },
    operationTimeoutMs: DEFAULTS.operationTimeoutMs,
    handlers: [],
    retry: { ...DEFAULTS.retry },
    testMessage: app.key("message").optStr({ maxLength: 65_536 }) ?? "This is a really basic message.",
    keyFiles: ctx.keyFiles,
    envNames: ctx.envNames,
    secrets: ctx.secrets,
    warnings: ctx.warnings,
  };

  // reconnect backoff
  const backoff = mqtt.key("autoReconnectBackoffTime");
  if (backoff.optMapping()) {
    const sec = (k: string) => backoff.key(k).optNum({ min: 0, max: 86_400, what: "a number of seconds 0-86400" });
    const base = sec("baseReconnectQuietTimeSecond");
    const max = sec("maxReconnectQuietTimeSecond");
    const stable = sec("stableConnectionTimeSecond");
    cfg.reconnect = {};
    if (base !== undefined) cfg.reconnect.baseMs = Math.max(1, Math.round(base * 1000));
    if (max !== undefined) cfg.reconnect.maxMs = Math.max(1, Math.round(max * 1000));
    if (stable !== undefined) cfg.reconnect.stableMs = Math.round(stable * 1000);
    if (base !== undefined && max !== undefined && base > max) {
      backoff.key("baseReconnectQuietTimeSecond").failWith(`is larger than maxReconnectQuietTimeSecond (${base} > ${max})`);
    }
  }

  // offline queue and draining
  const q = mqtt.key("offlinePublishQueueing").optInt({ min: -1, what: "-1 (infinite), 0 (off) or a queue size > 0" });
  const drain = mqtt.key("drainingFrequency").optNum({ min: 0.001, max: 1_000_000, what: "a number of messages per second > 0" });
  if (q !== undefined || drain !== undefined) {
    cfg.outbox = {};
    if (q === -1) cfg.outbox.maxMessages = Number.MAX_SAFE_INTEGER;
    else if (q !== undefined && q > 0) {
      cfg.outbox.maxMessages = q;
      cfg.outbox.whenFull = "reject";
    } else if (q === 0) {
      ctx.warnings.push(
        "thing.mqtt.offlinePublishQueueing: 0 turned the SDK's offline queue off; thingwire always stores messages until the broker has them (default limits apply)",
      );
    }
    if (drain !== undefined) cfg.outbox.drainRatePerSec = drain;
  }
  const op = mqtt.key("mqttOperationTimeout").optNum({ min: 0.001, max: 3600, what: "a number of seconds > 0" });
  if (op !== undefined) cfg.operationTimeoutMs = Math.round(op * 1000);

  // inbox expiry
  const db = app.key("db");
  if (db.optMapping()) {
    const e = db.key("expireSeconds").optInt({ min: 1 });
    if (e !== undefined) cfg.inbox = { expireSeconds: e };
  }

  // HTTP collect
  const api = app.key("api");
  if (api.optMapping() && api.key("endpoint").present && auth.type === "cert") {
    const base = httpUrl(api.key("endpoint")).replace(/\/+$/, "");
    const env = api.key("env").optStr();
    if (env !== undefined && !/^[A-Za-z0-9._-]+$/.test(env)) api.key("env").fail("a stage name such as dev or prod");
    cfg.collect = {
      url: `${base}${env ? `/${env}` : ""}/v1/things/${encodeURIComponent(id)}/collect`,
      timeoutMs: DEFAULTS.httpTimeoutMs,
      jwt: {
        privateKey: auth.key,
        privateKeyPath: ctx.keyFiles.find((k) => k.kind === "private-key")?.path ?? "thing.keys.privateKey",
        kid: id,
        issuer: `urn:thing:${id}`,
        audience: `urn:flashlex:${id}`,
        ttlSec: 720,
      },
    };
  }
  return cfg;
}
