/**
 * From a loaded `ThingConfig` to a running device: key files read (errors name the config key and
 * the file), the auth built (`clientCert`, `sigv4`, `tokenAuth` with a device JWT, or none), the
 * store opened (`openSqliteStore` at the configured path, or `memoryStore`), and `createDevice`
 * options assembled. Every secret learnt on the way (key PEMs, passwords, minted JWTs) is added to
 * a `Secrets` list the CLI's logger and error output scrub.
 *
 * @example
 * ```ts
 * const secrets = new Secrets(cfg.secrets);
 * const opts = await deviceOptionsFor(cfg, thingEndpoint(cfg), { secrets });   // key files read here
 * const device = createDevice({ ...opts, store: await openConfiguredStore(cfg) });
 * ```
 */
import { createPrivateKey } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type DeviceAuth, noAuth, type PreparedConnection, type TlsMaterial } from "../auth/auth.ts";
import { clientCert, tokenAuth } from "../auth/credentials.ts";
import { deviceJwt } from "../auth/jwt.ts";
import { sigv4 } from "../auth/sigv4.ts";
import { ThingwireError } from "../errors.ts";
import type { DeviceOptions, LogEntry } from "../device/types.ts";
import { memoryStore } from "../store/memory.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import type { EndpointConfig, JwtConfig, ThingConfig } from "./config-schema.ts";

/** The growing list of secret values to scrub from every output. */
export class Secrets {
  #values: string[] = [];
  #minted: string[] = [];
  constructor(initial: readonly string[] = []) {
    for (const s of initial) this.add(s);
  }
  add(value: string | undefined): void {
    if (typeof value === "string" && value.length >= 4 && !this.#values.includes(value)) this.#values.push(value);
  }
  /** A short-lived token: only the latest few are kept. */
  addMinted(value: string): void {
    this.#minted.push(value);
    if (this.#minted.length > 16) this.#minted.shift();
  }
  list(): string[] {
    return [...this.#values, ...this.#minted];
  }
}

/** The thing's own broker connection as an endpoint. */
export function thingEndpoint(cfg: ThingConfig): EndpointConfig {
  return { broker: cfg.broker, auth: cfg.auth, clientId: cfg.clientId, at: "" };
}

const fileWhy = (code: string | undefined): string =>
  code === "ENOENT"
    ? "no such file"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code === "EISDIR"
    ? "it is a directory"
    : `cannot read it (${code ?? "I/O error"})`;

/** Reads a key or certificate file named at `keyPath` in the config; `CONFIG_NOT_FOUND` names both. */
export async function readKeyFile(cfg: Pick<ThingConfig, "displayFile" | "keysDir">, keyPath: string, file: string): Promise<string> {
  try {
    const st = await stat(file);
    if (st.size > 1024 * 1024) {
      throw new ThingwireError("CONFIG_INVALID", `${cfg.displayFile}: ${keyPath}: ${file} is larger than 1 MiB; expected a PEM key or certificate`, {
        path: keyPath,
        file,
      });
    }
    return await readFile(file, "utf8");
  } catch (e) {
    if (e instanceof ThingwireError) throw e;
    const code = (e as { code?: string }).code;
    throw new ThingwireError(
      "CONFIG_NOT_FOUND",
      `${cfg.displayFile}: ${keyPath}: cannot read ${file} (${fileWhy(code)}); relative key paths resolve against --keys (now ${cfg.keysDir})`,
      { path: keyPath, file },
    );
  }
}

/** The key file path as written in the config, for messages. */
function keyPathOf(cfg: ThingConfig, file: string, fallback: string): string {
  return cfg.keyFiles.find((k) => k.file === file)?.path ?? fallback;
}

/** Wraps an auth error from the SDK so the message names the config key and file. */
function wrapAuthError(cfg: ThingConfig, e: unknown, where: string): never {
  if (e instanceof ThingwireError && (e.code === "AUTH_INVALID_OPTIONS" || e.code === "OPTIONS_INVALID")) {
    throw new ThingwireError("CONFIG_INVALID", `${cfg.displayFile}: ${where}${e.path ? `.${e.path}` : ""}: ${e.message}`, {
      path: where,
      file: cfg.file,
      cause: e,
    });
  }
  throw e;
}

/** PKCS#8 PEM of any unencrypted PEM private key (PKCS#1 RSA and SEC1 EC are converted), and its JWT alg. */
export function pkcs8(pem: string, where: () => string): { pem: string; alg: "RS256" | "ES256" } {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ThingwireError("CONFIG_INVALID", `${where()}: not an unencrypted PEM private key`);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type !== "rsa" && !(type === "ec" && curve === "prime256v1")) {
    throw new ThingwireError("CONFIG_INVALID", `${where()}: a ${type}${curve ? ` ${curve}` : ""} key cannot sign a device JWT; use an RSA (RS256) or EC P-256 (ES256) key`);
  }
  return { pem: key.export({ type: "pkcs8", format: "pem" }) as string, alg: type === "rsa" ? "RS256" : "ES256" };
}

/** A provider minting a fresh device JWT per call (per connection, per collect request). */
export async function jwtProvider(cfg: ThingConfig, jwt: JwtConfig, secrets: Secrets): Promise<() => Promise<string>> {
  const text = await readKeyFile(cfg, jwt.privateKeyPath, jwt.privateKey);
  secrets.add(text);
  const where = () => `${cfg.displayFile}: ${jwt.privateKeyPath} (${jwt.privateKey})`;
  const { pem, alg: keyAlg } = pkcs8(text, where);
  secrets.add(pem);
  const alg = jwt.alg ?? keyAlg;
  if (alg !== keyAlg) {
    throw new ThingwireError("CONFIG_INVALID", `${where()}: the key is for ${keyAlg} but the config asks for alg ${alg}`, { path: jwt.privateKeyPath, file: cfg.file });
  }
  let mint: () => Promise<string>;
  try {
    mint = deviceJwt({
      privateKey: pem,
      alg,
      thingId: jwt.kid ?? cfg.id,
      ...(jwt.issuer !== undefined ? { issuer: jwt.issuer } : {}),
      ...(jwt.audience !== undefined ? { audience: jwt.audience } : {}),
      ttlSec: Math.min(jwt.ttlSec, 86_400),
      ...(jwt.subject !== undefined ? { claims: { sub: jwt.subject } } : {}),
    });
  } catch (e) {
    return wrapAuthError(cfg, e, jwt.privateKeyPath.replace(/\.privateKey$/, ""));
  }
  return async () => {
    const token = await mint();
    secrets.addMinted(token);
    return token;
  };
}

/** Server-side TLS settings of a broker (private CA, servername), read from files. */
async function serverTls(cfg: ThingConfig, ep: EndpointConfig, secrets: Secrets): Promise<Pick<TlsMaterial, "ca" | "rejectUnauthorized" | "servername"> | undefined> {
  const b = ep.broker;
  const tls: Pick<TlsMaterial, "ca" | "rejectUnauthorized" | "servername"> = {};
  if (b.ca !== undefined) tls.ca = await readKeyFile(cfg, keyPathOf(cfg, b.ca, `${ep.at ? ep.at + "." : ""}broker.ca`), b.ca);
  if (b.rejectUnauthorized !== undefined) tls.rejectUnauthorized = b.rejectUnauthorized;
  if (b.servername !== undefined) tls.servername = b.servername;
  void secrets;
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** Builds the `DeviceAuth` of an endpoint. */
export async function authFor(cfg: ThingConfig, ep: EndpointConfig, secrets: Secrets): Promise<DeviceAuth> {
  const a = ep.auth;
  const prefix = ep.at ? `${ep.at}.auth` : "auth";
  const tls = await serverTls(cfg, ep, secrets);
  try {
    switch (a.type) {
      case "none":
        if (!tls) return noAuth();
        return {
          kind: "none",
          prepare: (t): Promise<PreparedConnection> => Promise.resolve({ url: t.url, tls: { ...tls }, secrets: [] }),
        };
      case "sigv4":
        secrets.add(a.secretAccessKey);
        secrets.add(a.sessionToken);
        return sigv4({
          region: a.region,
          credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey, ...(a.sessionToken ? { sessionToken: a.sessionToken } : {}) },
          ...(tls ? { tls } : {}),
        });
      case "cert": {
        const key = await readKeyFile(cfg, keyPathOf(cfg, a.key, `${prefix}.key`), a.key);
        secrets.add(key);
        const cert = await readKeyFile(cfg, keyPathOf(cfg, a.cert, `${prefix}.cert`), a.cert);
        const ca = a.ca === undefined ? tls?.ca : await readKeyFile(cfg, keyPathOf(cfg, a.ca, `${prefix}.ca`), a.ca);
        return clientCert({
          key,
          cert,
          ...(ca !== undefined ? { ca } : {}),
          ...(tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
          ...(tls?.servername !== undefined ? { servername: tls.servername } : {}),
        });
      }
      case "token": {
        secrets.add(a.password);
        const password = a.jwt ? await jwtProvider(cfg, a.jwt, secrets) : a.password;
        const username = a.username ?? (password === undefined ? undefined : ep.clientId);
        return tokenAuth({
          ...(username !== undefined ? { username } : {}),
          ...(password !== undefined ? { password } : {}),
          ...(tls ? { tls } : {}),
        });
      }
    }
  } catch (e) {
    return wrapAuthError(cfg, e, prefix);
  }
}

/** Opens the configured store: SQLite at `store` (its directory created when `create`), or memory. */
export async function openConfiguredStore(cfg: ThingConfig, options: { create?: boolean } = {}): Promise<Store> {
  if (cfg.store.kind === "memory") return memoryStore();
  const path = cfg.store.path;
  if (options.create !== false) {
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new ThingwireError("STORE_IO", `cannot create the store directory ${dirname(path)} (${code ?? "I/O error"}); check store in ${cfg.displayFile} or --data`, {
        file: path,
        cause: e,
      });
    }
  }
  return openSqliteStore(path);
}

/** `createDevice` options for an endpoint of the config (key files are read and checked here). */
export async function deviceOptionsFor(
  cfg: ThingConfig,
  ep: EndpointConfig,
  o: { store?: Store; secrets: Secrets; logger?: (entry: LogEntry) => void },
): Promise<DeviceOptions> {
  const b = ep.broker;
  const opts: DeviceOptions = {
    url: b.url,
    clientId: ep.clientId,
    auth: await authFor(cfg, ep, o.secrets),
    protocolVersion: b.protocolVersion,
  };
  if (o.store) opts.store = o.store;
  if (b.keepaliveSec !== undefined) opts.keepaliveSec = b.keepaliveSec;
  if (b.connectTimeoutMs !== undefined) opts.connectTimeoutMs = b.connectTimeoutMs;
  if (b.clean !== undefined) opts.clean = b.clean;
  if (b.sessionExpirySec !== undefined) opts.sessionExpirySec = b.sessionExpirySec;
  if (ep.at === "") {
    if (cfg.reconnect) opts.reconnect = cfg.reconnect;
    if (cfg.outbox) opts.outbox = cfg.outbox;
    if (cfg.inbox) opts.inbox = cfg.inbox;
  } else if (cfg.reconnect) {
    opts.reconnect = cfg.reconnect;
  }
  if (o.logger) opts.logger = o.logger;
  return opts;
}
