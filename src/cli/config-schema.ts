/**
 * The thing config, normalized (`ThingConfig`), and a small validating reader that turns any
 * value in a parsed YAML/JSON document into typed config or a `CONFIG_INVALID` error naming the
 * file, the key path and what is expected:
 *
 *   config.yml: thing.mqtt.port: expected an integer 1-65535, got "abc" (line 23)
 *
 * Secret values (passwords, secret keys, tokens) are never echoed in an error, only their type.
 * Both the thingwire shape (config-native.ts) and the FlashLex shape (config-flashlex.ts) produce
 * a `ThingConfig` through this reader.
 *
 * @example
 * ```ts
 * const at = new At(ctx, parsed, []);
 * const port = at.key("thing").key("mqtt").key("port").int({ min: 1, max: 65535 });
 * ```
 */
import { ThingwireError } from "../errors.ts";
import type { InboxOptions, OutboxOptions, ReconnectOptions } from "../device/types.ts";

/** A key path into the document: keys and list indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/** Renders `["bridge","handlers",1,"url"]` as `bridge.handlers[1].url`. */
export function pathText(path: ConfigPath): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += (out === "" ? "" : ".") + p;
  }
  return out === "" ? "(top level)" : out;
}

/** Where a config came from, for error messages. */
export interface ConfigSource {
  /** The file as the user named it (shown in messages). */
  displayFile: string;
  /** Absolute path. */
  file: string;
  /** 1-based line and column of the value at `path`, when the parser kept positions. */
  locate?(path: ConfigPath): { line: number; column: number } | undefined;
}

/** Describes a value for "got …" without ever showing a secret. */
export function describeValue(v: unknown, secret = false): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "object") return "a mapping";
  if (secret) return typeof v === "string" ? `a string of ${v.length} characters` : `a ${typeof v}`;
  if (typeof v === "string") {
    const s = v.length > 60 ? v.slice(0, 57) + "..." : v;
    return JSON.stringify(s);
  }
  return String(v);
}

/** Builds the CONFIG_INVALID error for a value. */
export function configError(src: ConfigSource, path: ConfigPath, text: string): ThingwireError {
  const pos = safeLocate(src, path);
  const where = pos ? ` (line ${pos.line})` : "";
  return new ThingwireError("CONFIG_INVALID", `${src.displayFile}: ${pathText(path)}: ${text}${where}`, {
    path: pathText(path),
    file: src.file,
    ...(pos ? { line: pos.line, column: pos.column } : {}),
  });
}

function safeLocate(src: ConfigSource, path: ConfigPath): { line: number; column: number } | undefined {
  try {
    return src.locate?.(path);
  } catch {
    return undefined;
  }
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Options of the number readers. */
export interface NumOptions {
  min?: number;
  max?: number;
  /** Words for "expected …" (default: derived from min/max). */
  what?: string;
}

/** Options of the string readers. */
export interface StrOptions {
  /** Never echo the value in an error. */
  secret?: boolean;
  /** Allow "" (default false). */
  empty?: boolean;
  /** Words for "expected …". */
  what?: string;
  maxLength?: number;
}

/** A value at a key path, with validating accessors. Missing keys read as `undefined`. */
export class At {
  readonly src: ConfigSource;
  readonly value: unknown;
  readonly path: ConfigPath;
  constructor(src: ConfigSource, value: unknown, path: ConfigPath) {
    this.src = src;
    this.value = value;
    this.path = path;
  }

  /** True when the key is present and not null. */
  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** The child at `k` (undefined value when this is not a mapping or has no such key). */
  key(k: string): At {
    const v = isMapping(this.value) && own(this.value, k) ? this.value[k] : undefined;
    return new At(this.src, v, [...this.path, k]);
  }

  /** Throws CONFIG_INVALID at this path. */
  fail(expected: string, secret = false): never {
    if (this.value === undefined) throw configError(this.src, this.path, `missing: expected ${expected}`);
    throw configError(this.src, this.path, `expected ${expected}, got ${describeValue(this.value, secret)}`);
  }

  /** Throws CONFIG_INVALID at this path with a free text. */
  failWith(text: string): never {
    throw configError(this.src, this.path, text);
  }

  /** Asserts a mapping (or absent when optional); with `allowed`, unknown keys are an error. */
  mapping(allowed?: readonly string[], what = "a mapping"): Record<string, unknown> {
    if (!isMapping(this.value)) this.fail(what);
    if (allowed) {
      for (const k of Object.keys(this.value)) {
        if (!allowed.includes(k)) {
          const hint = nearest(k, allowed);
          throw configError(this.src, [...this.path, k], `unknown key${hint ? `; did you mean "${hint}"?` : ""} (allowed here: ${allowed.join(", ")})`);
        }
      }
    }
    return this.value;
  }

  /** Like mapping() but absent is fine (returns false then). */
  optMapping(allowed?: readonly string[], what?: string): boolean {
    if (!this.present) return false;
    this.mapping(allowed, what);
    return true;
  }

  /** The elements of a list (absent: empty when `optional`). */
  list(what = "a list", optional = false): At[] {
    if (!this.present && optional) return [];
    if (!Array.isArray(this.value)) this.fail(what);
    return this.value.map((v, i) => new At(this.src, v, [...this.path, i]));
  }

  str(o: StrOptions = {}): string {
    const v = this.value;
    const what = o.what ?? (o.empty ? "a string" : "a non-empty string");
    if (typeof v === "number" && Number.isFinite(v) && !o.secret) return String(v);
    if (typeof v !== "string") this.fail(what, o.secret);
    if (!o.empty && v.trim() === "") this.fail(what, o.secret);
    if (o.maxLength !== undefined && v.length > o.maxLength) this.fail(`${what} of at most ${o.maxLength} characters`, o.secret);
    if (v.includes("\0")) this.fail(`${what} without NUL characters`, o.secret);
    return v;
  }

  optStr(o: StrOptions = {}): string | undefined {
    return this.present ? this.str(o) : undefined;
  }

  num(o: NumOptions = {}): number {
    let v = this.value;
    if (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) v = Number(v);
    const what = o.what ?? rangeWords("a number", o);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(what);
    if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) this.fail(what);
    return v;
  }

  optNum(o: NumOptions = {}): number | undefined {
    return this.present ? this.num(o) : undefined;
  }

  int(o: NumOptions = {}): number {
    let v = this.value;
    if (typeof v === "string" && /^\s*-?\d+\s*$/.test(v)) v = Number(v);
    const what = o.what ?? rangeWords("an integer", o);
    if (typeof v !== "number" || !Number.isSafeInteger(v)) this.fail(what);
    if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) this.fail(what);
    return v;
  }

  optInt(o: NumOptions = {}): number | undefined {
    return this.present ? this.int(o) : undefined;
  }

  bool(): boolean {
    const v = this.value;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "yes" || v === "on") return true;
    if (v === "false" || v === "no" || v === "off") return false;
    return this.fail("true or false");
  }

  optBool(): boolean | undefined {
    return this.present ? this.bool() : undefined;
  }

  oneOf<T extends string>(values: readonly T[]): T {
    const v = this.value;
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      this.fail(`one of ${values.map((x) => JSON.stringify(x)).join(", ")}`);
    }
    return v as T;
  }

  optOneOf<T extends string>(values: readonly T[]): T | undefined {
    return this.present ? this.oneOf(values) : undefined;
  }
}

function rangeWords(base: string, o: NumOptions): string {
  if (o.min !== undefined && o.max !== undefined) return `${base} ${o.min}-${o.max}`;
  if (o.min !== undefined) return `${base} >= ${o.min}`;
  if (o.max !== undefined) return `${base} <= ${o.max}`;
  return base;
}

/** The allowed key closest to a misspelt one (edit distance ≤ 2), for "did you mean". */
function nearest(k: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = distance(k.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 99;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// The normalized config

/** A device JWT: minted per connection (token auth) or per request (HTTP collect). */
export interface JwtConfig {
  /** Absolute path of the PEM private key. */
  privateKey: string;
  /** Key path in the config (for messages). */
  privateKeyPath: string;
  /** RS256 or ES256; default from the key: RS256 for RSA, ES256 for EC P-256. */
  alg?: "RS256" | "ES256";
  issuer?: string;
  audience?: string;
  /** Lifetime, seconds. */
  ttlSec: number;
  /** JWT header `kid`; default the thing id. */
  kid?: string;
  /** Extra claims (FlashLex: none). */
  subject?: string;
}

/** How the thing signs in, with secrets resolved (from the config or the environment). */
export type AuthConfig =
  | { type: "none" }
  | {
    type: "sigv4";
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }
  | {
    type: "cert";
    /** Absolute paths. */
    key: string;
    cert: string;
    ca?: string;
  }
  | { type: "token"; username?: string; password?: string; jwt?: JwtConfig };

/** Where and how to reach a broker. */
export interface BrokerConfig {
  url: string;
  protocolVersion: 4 | 5;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  clean?: boolean;
  sessionExpirySec?: number;
  /** Absolute path of a CA bundle to trust for wss/mqtts (besides the system's). */
  ca?: string;
  /** Default true; false only against a test broker. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** A broker connection: address, sign-in and client id. */
export interface EndpointConfig {
  broker: BrokerConfig;
  auth: AuthConfig;
  clientId: string;
  /** Key path of this endpoint in the config ("" = top level), for messages. */
  at: string;
}

/** A message handler as configured (`handlers:` for run, `bridge.handlers:` for bridge). */
export type HandlerConfig =
  | { type: "stdout"; name: string }
  | { type: "mqtt"; name: string; endpoint: EndpointConfig; topic: string; qos: 0 | 1; retain: boolean; timeoutMs: number }
  | {
    type: "http";
    name: string;
    url: string;
    method: "POST" | "PUT";
    headers: Record<string, string>;
    body: "json" | "raw";
    timeoutMs: number;
  }
  | { type: "module"; name: string; path: string; options: unknown };

/** Retry pacing of failing handlers. */
export interface RetryConfig {
  baseMs: number;
  maxMs: number;
}

/** A key or certificate file the config names. */
export interface KeyFileRef {
  /** Key path in the config, e.g. `auth.key` or `thing.keys.privateKey`. */
  path: string;
  /** Absolute file path. */
  file: string;
  kind: "private-key" | "certificate" | "ca" | "public-key";
}

/** A thing config, whatever file shape it came from. */
export interface ThingConfig {
  /** "thingwire" or "flashlex": which shape the file had. */
  format: "thingwire" | "flashlex";
  /** Absolute path of the config file. */
  file: string;
  /** The config file as the user named it. */
  displayFile: string;
  /** Directory relative key paths resolved against. */
  keysDir: string;
  id: string;
  name: string;
  clientId: string;
  broker: BrokerConfig;
  auth: AuthConfig;
  topics: { ingress?: string; egress?: string; pubsub?: string };
  store: { kind: "memory" } | { kind: "sqlite"; path: string };
  reconnect?: ReconnectOptions;
  outbox?: OutboxOptions;
  inbox?: InboxOptions;
  /** Time allowed for one operation (send's flush, bootstrap's round trip), ms. */
  operationTimeoutMs: number;
  collect?: { url: string; timeoutMs: number; jwt: JwtConfig };
  /** Handlers `run` passes every ingress message to (acknowledged once all succeeded). */
  handlers: HandlerConfig[];
  bridge?: {
    source: EndpointConfig & { topics: string[]; qos: 0 | 1 };
    handlers: HandlerConfig[];
    retry: RetryConfig;
    /** The bridge's own inbox (default: the store path with a "-bridge" suffix), so `run` and `bridge` never share one. */
    store: { kind: "memory" } | { kind: "sqlite"; path: string };
  };
  retry: RetryConfig;
  /** The message bootstrap publishes to the pubsub topic. */
  testMessage: string;
  /** Every key and certificate file named, for bootstrap's checks. */
  keyFiles: KeyFileRef[];
  /** Environment variables the config reads (names only). */
  envNames: string[];
  /** Secret values (passwords, secret keys, header values …) to scrub from every output. */
  secrets: string[];
  /** Things worth knowing that are not errors (a FlashLex setting with no equivalent …). */
  warnings: string[];
}

/** Defaults every shape shares. */
export const DEFAULTS = {
  operationTimeoutMs: 10_000,
  jwtTtlSec: 300,
  httpTimeoutMs: 10_000,
  retry: { baseMs: 500, maxMs: 30_000 },
} as const;
