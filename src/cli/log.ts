/**
 * The CLI's structured log: one JSON object per line (`{"ts","level","msg",...}`), with every
 * secret scrubbed before the line is written. Scrubbing removes the known secret values (passwords,
 * secret keys, session tokens, private key PEMs, header values marked secret) wherever they occur,
 * URL-encoded too, and anything that looks like a secret whatever its source: SigV4 signatures and
 * security tokens in URLs, `Bearer` tokens, JWTs, PEM private key blocks and URL passwords.
 *
 * @example
 * ```ts
 * const log = createJsonLogger((line) => process.stderr.write(line), () => ["s3cret"]);
 * log({ level: "info", msg: "status", state: "online", reason: "connected with s3cret" });
 * // {"ts":"…","level":"info","msg":"status","state":"online","reason":"connected with ***"}
 * ```
 */
import type { LogEntry } from "../device/types.ts";

/** What replaces a secret. */
export const REDACTED = "***";

const PATTERNS: Array<[RegExp, string]> = [
  // PEM private keys (any flavour)
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, "-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----"],
  // SigV4 query parameters in presigned URLs
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"'<>]*/gi, `$1${REDACTED}`],
  // Authorization headers
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // JWTs (header.payload.signature, base64url)
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // user:password@ in URLs
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)[^\s@/"']+@/gi, `$1${REDACTED}@`],
];

/** Object keys whose values are secret whatever they hold. */
const SECRET_KEY = /^(password|passwd|secret|secretAccessKey|sessionToken|token|privateKey|authorization)$/i;

/** The forms in which a secret may show up in text: as it is, URL-encoded, and each long line of a PEM. */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== "string" || s.length < 4) continue;
    forms.add(s);
    try {
      const enc = encodeURIComponent(s);
      if (enc !== s) forms.add(enc);
    } catch {
      // lone surrogates: nothing to add
    }
    if (s.includes("\n")) {
      for (const line of s.split(/\r?\n/)) {
        const t = line.trim();
        if (t.length >= 16 && !t.startsWith("-----")) forms.add(t);
      }
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every known secret (and anything secret-shaped) in `text` with `***`.
 *
 * @example
 * ```ts
 * scrubText("password is hunter22", ["hunter22"]); // "password is ***"
 * ```
 */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const form of secretForms(secrets)) {
    if (out.includes(form)) out = out.split(form).join(REDACTED);
  }
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

/** Deep copy of `value` with every string scrubbed; errors become `{code?, message}`. Cycles end in "[circular]". */
export function scrubValue(value: unknown, secrets: readonly string[] = [], seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return scrubText(value, secrets);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return typeof value === "function" ? undefined : value;
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (value instanceof Error) {
    const o: Record<string, unknown> = {};
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) o.code = code;
    o.message = scrubText(value.message, secrets);
    return o;
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k) && v !== undefined && v !== null && v !== "") {
      out[k] = REDACTED;
      continue;
    }
    const s = scrubValue(v, secrets, seen);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** The URL without query or credentials, for logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

/** A log sink: the device's `logger` option has this shape. */
export type LogFn = (entry: LogEntry) => void;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/**
 * A logger writing one scrubbed JSON object per line through `write`. `secrets` is read at each
 * call, so secrets learnt later (a minted token) are scrubbed too.
 */
export function createJsonLogger(
  write: (line: string) => void,
  secrets: () => readonly string[],
  minLevel: LogEntry["level"] = "info",
): LogFn {
  const min = LEVELS[minLevel];
  return (entry) => {
    if ((LEVELS[entry.level] ?? 20) < min) return;
    const { level, msg, ...rest } = entry;
    const body = scrubValue({ ts: new Date().toISOString(), level, msg, ...rest }, secrets());
    let line: string;
    try {
      line = JSON.stringify(body);
    } catch {
      line = JSON.stringify({ ts: new Date().toISOString(), level, msg: scrubText(String(msg), secrets()) });
    }
    write(line + "\n");
  };
}
