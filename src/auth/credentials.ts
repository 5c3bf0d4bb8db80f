/**
 * Client certificates (mTLS) and username/password tokens: the `DeviceAuth`s that need no signing.
 */
import { ThingwireError } from "../errors.ts";
import type { ConnectTarget, DeviceAuth, PreparedConnection, TlsMaterial } from "./auth.ts";
import { certificatePem, privateKeyPem } from "./pem.ts";

const invalid = (message: string, path?: string): ThingwireError =>
  new ThingwireError("AUTH_INVALID_OPTIONS", message, path === undefined ? {} : { path });

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return "";
  }
}

type ServerTls = Pick<TlsMaterial, "ca" | "rejectUnauthorized" | "servername">;

/** Checks `ca`, `rejectUnauthorized`, `servername` and returns them with `ca` as PEM strings. */
function serverTls(o: ServerTls, prefix: string): ServerTls {
  const out: ServerTls = {};
  if (o.ca !== undefined) {
    const list = Array.isArray(o.ca) ? o.ca : [o.ca];
    if (list.length === 0) throw invalid(`${prefix}ca must not be an empty list`, `${prefix}ca`);
    const pems = list.map((c, i) => certificatePem(c, Array.isArray(o.ca) ? `${prefix}ca[${i}]` : `${prefix}ca`));
    out.ca = Array.isArray(o.ca) ? pems : pems[0];
  }
  if (o.rejectUnauthorized !== undefined) {
    if (typeof o.rejectUnauthorized !== "boolean") throw invalid(`${prefix}rejectUnauthorized must be true or false`, `${prefix}rejectUnauthorized`);
    out.rejectUnauthorized = o.rejectUnauthorized;
  }
  if (o.servername !== undefined) {
    if (typeof o.servername !== "string" || o.servername === "") throw invalid(`${prefix}servername must be a non-empty host name`, `${prefix}servername`);
    out.servername = o.servername;
  }
  return out;
}

/**
 * Options of `clientCert`.
 *
 * @example
 * ```ts
 * const o: ClientCertOptions = { key: keyPem, cert: certPem, ca: caPem };
 * ```
 */
export interface ClientCertOptions {
  /** Private key, PEM (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"), unencrypted; string or bytes. */
  key: string | Uint8Array;
  /** Client certificate (chain), PEM; string or bytes. */
  cert: string | Uint8Array;
  /** CA certificate(s) to verify the broker with, PEM; default the runtime's trust store. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** Default true. Turn off only against a test broker. */
  rejectUnauthorized?: boolean;
  /** TLS server name when it differs from the URL host. */
  servername?: string;
}

/**
 * Mutual TLS with a client certificate, for `wss://` and `mqtts://` on Node and Deno (AWS IoT on port
 * 8883/443, Mosquitto with `require_certificate`). Key and certificates are checked to look like PEM
 * at once; errors name the field and never show the content.
 *
 * In a browser the page cannot hand a key to TLS: the browser presents a certificate from its own
 * store. Use `browserClientCert()` there. A browser device given `clientCert()` fails with
 * `AUTH_UNSUPPORTED` (its transport takes no TLS material).
 *
 * @example
 * ```ts
 * const auth = clientCert({
 *   key: await Deno.readTextFile("thing-42.key"),
 *   cert: await Deno.readTextFile("thing-42.pem"),
 *   ca: await Deno.readTextFile("AmazonRootCA1.pem"),
 * });
 * createDevice({ url: "mqtts://abc123-ats.iot.us-east-1.amazonaws.com:8883", clientId: "thing-42", auth });
 * ```
 */
export function clientCert(options: ClientCertOptions): DeviceAuth {
  if (typeof options !== "object" || options === null) throw invalid("clientCert needs an options object { key, cert, ca? }");
  if (options.key === undefined) throw invalid("clientCert needs key: the client's private key, PEM", "key");
  if (options.cert === undefined) throw invalid("clientCert needs cert: the client certificate, PEM", "cert");
  const key = privateKeyPem(options.key, "key");
  const cert = certificatePem(options.cert, "cert");
  const tls: TlsMaterial = { key: key.text, cert, ...serverTls(options, "") };
  const secrets = [...new Set([key.text, key.block.body])];
  return {
    kind: "client-cert",
    prepare(target: ConnectTarget): Promise<PreparedConnection> {
      const scheme = schemeOf(target.url);
      if (scheme !== "wss:" && scheme !== "mqtts:") {
        return Promise.reject(invalid("a client certificate needs a TLS URL: wss:// or mqtts://", "url"));
      }
      return Promise.resolve({ url: target.url, tls: { ...tls }, secrets: [...secrets] });
    },
  };
}

/**
 * Mutual TLS in a browser: the browser presents a client certificate from its own store (or the one
 * an enterprise policy or Playwright's `clientCertificates` installs) when the broker asks for one.
 * The page holds no key material, so this auth carries none; it only checks the URL is `wss://`.
 *
 * @example
 * ```ts
 * createDevice({ url: "wss://broker.example:8884/mqtt", clientId: "kiosk-1", auth: browserClientCert() });
 * ```
 */
export function browserClientCert(): DeviceAuth {
  return {
    kind: "client-cert",
    prepare(target: ConnectTarget): Promise<PreparedConnection> {
      if (schemeOf(target.url) !== "wss:") {
        return Promise.reject(invalid("a browser presents its client certificate over wss:// only", "url"));
      }
      return Promise.resolve({ url: target.url, secrets: [] });
    },
  };
}

/**
 * A string, or a function returning one (called at every connection attempt).
 *
 * @example
 * ```ts
 * const password: SecretSource = async () => (await fetch("/token")).text();
 * ```
 */
export type SecretSource = string | (() => string | Promise<string>);

/**
 * Options of `tokenAuth`.
 *
 * @example
 * ```ts
 * const o: TokenAuthOptions = { username: "thing-42", password: () => currentToken() };
 * ```
 */
export interface TokenAuthOptions {
  /** MQTT username, static or from a provider. */
  username?: SecretSource;
  /** MQTT password (a token, a JWT from `deviceJwt()`), static or from a provider. */
  password?: SecretSource;
  /** The username is itself the credential (flespi): scrub it like a password. Default false. */
  usernameIsToken?: boolean;
  /** Server verification for `wss://`/`mqtts://` with a private CA; Node and Deno only. */
  tls?: Pick<TlsMaterial, "ca" | "rejectUnauthorized" | "servername">;
}

async function resolveSecret(source: SecretSource, field: "username" | "password"): Promise<string> {
  if (typeof source === "string") return source;
  let value: unknown;
  try {
    value = await source();
  } catch (e) {
    throw new ThingwireError("AUTH_CREDENTIALS", `the ${field} provider failed; the device retries with backoff. Check what the provider depends on`, {
      path: field,
      cause: e,
    });
  }
  if (typeof value !== "string") {
    throw new ThingwireError("AUTH_CREDENTIALS", `the ${field} provider returned ${value === null ? "null" : typeof value}, not a string`, { path: field });
  }
  return value;
}

/**
 * Username and password sign-in: static values or providers called at every connection attempt, so
 * a short-lived token (a device JWT from `deviceJwt()`) is minted anew each time.
 *
 * - JWT-as-password brokers: `tokenAuth({ username: "thing-42", password: deviceJwt({...}) })`.
 * - flespi (the token is the username, no password):
 *   `tokenAuth({ username: flespiToken, usernameIsToken: true })`.
 *
 * @example
 * ```ts
 * const auth = tokenAuth({
 *   username: "thing-42",
 *   password: deviceJwt({ privateKey: pem, alg: "ES256", thingId: "thing-42", audience: "broker" }),
 * });
 * ```
 */
export function tokenAuth(options: TokenAuthOptions): DeviceAuth {
  if (typeof options !== "object" || options === null) throw invalid("tokenAuth needs an options object { username?, password? }");
  const { username, password } = options;
  for (const [field, v] of [["username", username], ["password", password]] as const) {
    if (v !== undefined && typeof v !== "string" && typeof v !== "function") {
      throw invalid(`${field} must be a string or a function returning one`, field);
    }
  }
  if (username === undefined && password === undefined) throw invalid("tokenAuth needs a username, a password or both", "password");
  if (options.usernameIsToken !== undefined && typeof options.usernameIsToken !== "boolean") {
    throw invalid("usernameIsToken must be true or false", "usernameIsToken");
  }
  const usernameIsToken = options.usernameIsToken === true;
  if (options.tls !== undefined && (typeof options.tls !== "object" || options.tls === null || "key" in options.tls || "cert" in options.tls)) {
    throw invalid("tokenAuth tls takes only ca, rejectUnauthorized and servername; client certificates go with clientCert()", "tls");
  }
  const tls = options.tls === undefined ? undefined : serverTls(options.tls, "tls.");

  return {
    kind: "token",
    async prepare(target: ConnectTarget): Promise<PreparedConnection> {
      const prepared: PreparedConnection = { url: target.url, secrets: [] };
      if (username !== undefined) {
        prepared.username = await resolveSecret(username, "username");
        if (usernameIsToken && prepared.username !== "") prepared.secrets.push(prepared.username);
      }
      if (password !== undefined) {
        prepared.password = await resolveSecret(password, "password");
        if (prepared.password !== "") prepared.secrets.push(prepared.password);
      }
      if (tls !== undefined) prepared.tls = { ...tls };
      return prepared;
    },
  };
}
