/**
 * AWS SigV4 for MQTT over WebSockets: the presigned `wss://…/mqtt` URL exactly as the AWS IoT device
 * SDKs build it (aws-iot-device-sdk-js `prepareWebSocketUrl`, aws-crt's `HttpRequestViaQueryParams`
 * signing with `omit_session_token`): GET, service `iotdevicegateway`, `host` the only signed header,
 * the empty-payload hash, and `X-Amz-Security-Token` appended after signing. WebCrypto only.
 */
import { ThingwireError } from "../errors.ts";
import type { ConnectTarget, DeviceAuth, PreparedConnection, TlsMaterial } from "./auth.ts";
import { EMPTY_SHA256, encodeRfc3986, hmacSha256, isWellFormed, sha256Hex, toHex } from "./hmac.ts";

/**
 * AWS credentials: long-lived keys, or temporary ones with a session token.
 *
 * @example
 * ```ts
 * const creds: AwsCredentials = { accessKeyId: "ASIA…", secretAccessKey: "…", sessionToken: "…" };
 * ```
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The STS session token of temporary credentials. */
  sessionToken?: string;
}

/**
 * Returns current credentials; called before every connection attempt, so it may rotate them.
 *
 * @example
 * ```ts
 * const provider: AwsCredentialsProvider = async () => (await fetch("/api/iot-credentials")).json();
 * ```
 */
export type AwsCredentialsProvider = () => AwsCredentials | Promise<AwsCredentials>;

/**
 * Options of `presignMqttUrl`: give `host` (with optional `path`, `protocol`) or a whole `url`.
 *
 * @example
 * ```ts
 * const o: PresignMqttUrlOptions = { url: "wss://abc123-ats.iot.eu-west-1.amazonaws.com/mqtt", region: "eu-west-1", credentials };
 * ```
 */
export interface PresignMqttUrlOptions {
  /** Endpoint host, with `:port` when not the default, e.g. `abc123-ats.iot.us-east-1.amazonaws.com`. */
  host?: string;
  /** Or the whole endpoint URL, `wss://host[:port]/path` (no query string). */
  url?: string;
  /** Signing region, e.g. `us-east-1`. */
  region: string;
  credentials: AwsCredentials;
  /** Signing time; default now. Fix it to make the output reproducible. */
  date?: Date;
  /** Adds `X-Amz-Expires` (1 … 604,800 s). The AWS device SDKs leave it out; AWS IoT then allows 15 minutes. */
  expiresSec?: number;
  /** Default `iotdevicegateway`. */
  service?: string;
  /** Path with `host`, unencoded; default `/mqtt`. */
  path?: string;
  /** Scheme with `host`; default `wss`. `ws` only for a local test gateway. */
  protocol?: "wss" | "ws";
}

interface Endpoint {
  scheme: "wss" | "ws";
  host: string;
  wirePath: string;
  canonicalPath: string;
}

interface Presigned {
  url: string;
  signature: string;
  /** The query string as sent (after `?`). */
  query: string;
  /** The session token as it appears in the URL, when there is one. */
  encodedToken?: string;
}

const invalid = (message: string, path?: string): ThingwireError =>
  new ThingwireError("AUTH_INVALID_OPTIONS", message, path === undefined ? {} : { path });

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkName(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "" || value.length > 128 || value.includes("/") || CONTROL.test(value) || !isWellFormed(value)) {
    const example = field === "region" ? ' (e.g. "us-east-1")' : ' (e.g. "iotdevicegateway")';
    throw invalid(`${field} must be a non-empty string of at most 128 characters without "/" or control characters${example}`, field);
  }
  return value;
}

/** Splits a path into its unencoded segments and checks it is normalized. */
function pathSegments(segments: string[], field: string): string[] {
  segments.forEach((s, i) => {
    if (s === "." || s === ".." || (s === "" && i < segments.length - 1)) {
      throw invalid(`${field} must be a normalized absolute path (no "//", "." or ".." segments), e.g. "/mqtt"`, field);
    }
    if (CONTROL.test(s) || !isWellFormed(s)) throw invalid(`${field} must not contain control characters`, field);
  });
  return segments;
}

function encodePaths(segments: string[]): { wirePath: string; canonicalPath: string } {
  // AWS SigV4 for every service but S3: each segment URI-encoded twice in the canonical request.
  return {
    wirePath: "/" + segments.map(encodeRfc3986).join("/"),
    canonicalPath: "/" + segments.map((s) => encodeRfc3986(encodeRfc3986(s))).join("/"),
  };
}

function resolveEndpoint(o: PresignMqttUrlOptions): Endpoint {
  if (o.url !== undefined && o.host !== undefined) throw invalid("give either host or url, not both", "url");
  if (o.url !== undefined) {
    if (o.path !== undefined || o.protocol !== undefined) throw invalid("path and protocol go with host; with url they are part of the URL", "url");
    if (typeof o.url !== "string") throw invalid("url must be a string like wss://host/mqtt", "url");
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw invalid("url is not a valid URL; expected wss://host[:port]/mqtt", "url");
    }
    if (u.protocol !== "wss:" && u.protocol !== "ws:") throw invalid("url must start with wss:// (or ws:// for a local test gateway)", "url");
    if (u.username !== "" || u.password !== "") throw invalid("url must not carry user information", "url");
    if (u.search !== "" || u.hash !== "") throw invalid("url must not carry a query string or fragment; the signature is the query", "url");
    let decoded: string[];
    try {
      decoded = u.pathname.split("/").slice(1).map((s) => decodeURIComponent(s));
    } catch {
      throw invalid("url path has a malformed percent-encoding", "url");
    }
    return { scheme: u.protocol === "wss:" ? "wss" : "ws", host: u.host, ...encodePaths(pathSegments(decoded, "url")) };
  }
  const scheme = o.protocol ?? "wss";
  if (scheme !== "wss" && scheme !== "ws") throw invalid('protocol must be "wss" or "ws"', "protocol");
  if (typeof o.host !== "string" || o.host === "" || /[/?#@\s\\]/.test(o.host) || CONTROL.test(o.host)) {
    throw invalid("host must be a host name with an optional :port, e.g. abc123-ats.iot.us-east-1.amazonaws.com", "host");
  }
  let u: URL;
  try {
    u = new URL(`${scheme}://${o.host}`);
  } catch {
    throw invalid("host is not a valid host name with an optional :port", "host");
  }
  const path = o.path ?? "/mqtt";
  if (typeof path !== "string" || !path.startsWith("/") || /[?#]/.test(path)) {
    throw invalid('path must be an absolute path without query or fragment, e.g. "/mqtt"', "path");
  }
  return { scheme, host: u.host, ...encodePaths(pathSegments(path.split("/").slice(1), "path")) };
}

/** Checks credentials; failures are AUTH_CREDENTIALS and never show a value. */
function checkAwsCredentials(c: unknown): AwsCredentials {
  const bad = (field: string, what: string) =>
    new ThingwireError("AUTH_CREDENTIALS", `credentials.${field} ${what}; check the credentials or the provider that returned them`, {
      path: `credentials.${field}`,
    });
  if (typeof c !== "object" || c === null) throw new ThingwireError("AUTH_CREDENTIALS", "credentials must be an object { accessKeyId, secretAccessKey, sessionToken? }", { path: "credentials" });
  const { accessKeyId, secretAccessKey, sessionToken } = c as Record<string, unknown>;
  if (typeof accessKeyId !== "string" || accessKeyId === "") throw bad("accessKeyId", "must be a non-empty string");
  if (accessKeyId.includes("/") || CONTROL.test(accessKeyId) || !isWellFormed(accessKeyId)) throw bad("accessKeyId", 'must not contain "/" or control characters');
  if (typeof secretAccessKey !== "string" || secretAccessKey === "") throw bad("secretAccessKey", "must be a non-empty string");
  if (!isWellFormed(secretAccessKey)) throw bad("secretAccessKey", "is not valid Unicode text");
  if (sessionToken !== undefined && sessionToken !== null && (typeof sessionToken !== "string" || !isWellFormed(sessionToken))) {
    throw bad("sessionToken", "must be a string when present");
  }
  const out: AwsCredentials = { accessKeyId, secretAccessKey };
  if (typeof sessionToken === "string" && sessionToken !== "") out.sessionToken = sessionToken;
  return out;
}

function amzDate(date: unknown): string {
  const t = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(t) || t < 0 || t >= Date.UTC(10000, 0, 1)) throw invalid("date must be a valid Date between 1970 and 9999", "date");
  return new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

function checkExpires(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 604_800) throw invalid("expiresSec must be an integer from 1 to 604800 (7 days)", "expiresSec");
  return v;
}

async function presign(o: PresignMqttUrlOptions): Promise<Presigned> {
  if (typeof o !== "object" || o === null) throw invalid("presignMqttUrl needs an options object { host | url, region, credentials }");
  const endpoint = resolveEndpoint(o);
  const region = checkName(o.region, "region");
  const service = checkName(o.service ?? "iotdevicegateway", "service");
  const expires = checkExpires(o.expiresSec);
  const datetime = amzDate(o.date ?? new Date());
  const creds = checkAwsCredentials(o.credentials);
  const day = datetime.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;

  // Already in canonical (sorted) order: Algorithm < Credential < Date < Expires < SignedHeaders.
  const params: Array<[string, string]> = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${creds.accessKeyId}/${scope}`],
    ["X-Amz-Date", datetime],
  ];
  if (expires !== undefined) params.push(["X-Amz-Expires", String(expires)]);
  params.push(["X-Amz-SignedHeaders", "host"]);
  const canonicalQuery = params.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join("&");
  const canonicalRequest = ["GET", endpoint.canonicalPath, canonicalQuery, `host:${endpoint.host}`, "", "host", EMPTY_SHA256].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", datetime, scope, await sha256Hex(canonicalRequest)].join("\n");

  let key = await hmacSha256(`AWS4${creds.secretAccessKey}`, day);
  key = await hmacSha256(key, region);
  key = await hmacSha256(key, service);
  key = await hmacSha256(key, "aws4_request");
  const signature = toHex(await hmacSha256(key, stringToSign));

  let query = `${canonicalQuery}&X-Amz-Signature=${signature}`;
  const out: Presigned = { url: "", signature, query };
  if (creds.sessionToken !== undefined) {
    out.encodedToken = encodeRfc3986(creds.sessionToken);
    query += `&X-Amz-Security-Token=${out.encodedToken}`;
  }
  out.query = query;
  out.url = `${endpoint.scheme}://${endpoint.host}${endpoint.wirePath}?${query}`;
  return out;
}

/**
 * The AWS IoT presigned WebSocket URL for MQTT, as the AWS device SDKs build it. Pass a fixed `date`
 * to get a reproducible result. The URL is a bearer credential until it expires: never log it.
 *
 * @example
 * ```ts
 * const url = await presignMqttUrl({
 *   host: "abc123-ats.iot.us-east-1.amazonaws.com",
 *   region: "us-east-1",
 *   credentials: { accessKeyId: "AKIA…", secretAccessKey: "…", sessionToken: "…" },
 * });
 * // wss://abc123-ats.iot.us-east-1.amazonaws.com/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&…&X-Amz-Signature=…&X-Amz-Security-Token=…
 * ```
 */
export async function presignMqttUrl(options: PresignMqttUrlOptions): Promise<string> {
  return (await presign(options)).url;
}

/**
 * Options of `sigv4`.
 *
 * @example
 * ```ts
 * const o: SigV4Options = { region: "us-east-1", credentials: async () => fetchTemporaryCredentials() };
 * ```
 */
export interface SigV4Options {
  /** Signing region, e.g. `us-east-1`. */
  region: string;
  /** Credentials, or a provider called before every connection attempt (temporary credentials rotate). */
  credentials: AwsCredentials | AwsCredentialsProvider;
  /** Default `iotdevicegateway`. */
  service?: string;
  /** Adds `X-Amz-Expires`; default none, as the AWS device SDKs. */
  expiresSec?: number;
  /** Server verification for a private endpoint (a test gateway with its own CA); Node and Deno only. */
  tls?: Pick<TlsMaterial, "ca" | "rejectUnauthorized" | "servername">;
}

/**
 * Sign in to AWS IoT Core (or any SigV4 WebSocket gateway) with AWS credentials. Every `prepare()`
 * calls the provider and presigns the device URL afresh, so rotating temporary credentials never
 * strand a device. `wss://` URLs only. `prepare()` lists the secret key, the session token, the
 * signature and the signed URL in `secrets`. In browsers WebCrypto exists only on https:// pages and
 * localhost; elsewhere `prepare()` fails with `AUTH_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * const device = createDevice({
 *   url: "wss://abc123-ats.iot.us-east-1.amazonaws.com/mqtt",
 *   clientId: "thing-42",
 *   auth: sigv4({ region: "us-east-1", credentials: async () => fetchTemporaryCredentials() }),
 * });
 * ```
 */
export function sigv4(options: SigV4Options): DeviceAuth {
  if (typeof options !== "object" || options === null) throw invalid("sigv4 needs an options object { region, credentials }");
  const region = checkName(options.region, "region");
  const service = checkName(options.service ?? "iotdevicegateway", "service");
  const expiresSec = checkExpires(options.expiresSec);
  const source = options.credentials;
  if (typeof source !== "function") checkAwsCredentials(source);
  const tls = options.tls;
  if (tls !== undefined && (typeof tls !== "object" || tls === null || "key" in tls || "cert" in tls)) {
    throw invalid("sigv4 tls takes only ca, rejectUnauthorized and servername; client certificates go with clientCert()", "tls");
  }

  async function credentials(): Promise<AwsCredentials> {
    if (typeof source !== "function") return checkAwsCredentials(source);
    let value: unknown;
    try {
      value = await source();
    } catch (e) {
      throw new ThingwireError("AUTH_CREDENTIALS", "the credentials provider failed; the device retries with backoff. Check where the provider gets its credentials", { cause: e });
    }
    return checkAwsCredentials(value);
  }

  return {
    kind: "sigv4",
    async prepare(target: ConnectTarget, now: Date): Promise<PreparedConnection> {
      let scheme = "";
      try {
        scheme = new URL(target.url).protocol;
      } catch {
        // reported below
      }
      if (scheme !== "wss:") throw invalid("SigV4 signs wss:// URLs only (AWS IoT: wss://<endpoint>/mqtt); use another auth for ws://, mqtt:// or mqtts://", "url");
      const creds = await credentials();
      const p = await presign({ url: target.url, region, service, credentials: creds, date: now, ...(expiresSec === undefined ? {} : { expiresSec }) });
      const secrets = [creds.secretAccessKey, p.signature, p.url, p.query];
      if (creds.sessionToken !== undefined) secrets.push(creds.sessionToken);
      if (p.encodedToken !== undefined) secrets.push(p.encodedToken);
      const prepared: PreparedConnection = { url: p.url, secrets: [...new Set(secrets)] };
      if (tls !== undefined) prepared.tls = { ...tls };
      return prepared;
    },
  };
}
