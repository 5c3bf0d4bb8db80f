/**
 * Keeps secrets out of everything the device says: status reasons, errors, log entries.
 * It learns the secrets of every connection attempt (`PreparedConnection.secrets`, the signed
 * URL's query values) and replaces each occurrence — raw, URL-encoded, and form-encoded — with
 * `[redacted]`. URL query strings are always cut, since presigned URLs carry signatures there.
 */
import { ThingwireError, type ThingwireErrorCode } from "../errors.ts";

const MASK = "[redacted]";
/** Secrets remembered at most (old attempts' tokens may still appear in late errors). */
const MAX_SECRETS = 128;

/** Scrubs known secrets from text, errors and log entries. */
export interface Redactor {
  /** Learns secrets (empty strings are ignored). */
  add(secrets: Iterable<string>): void;
  /** Learns the query values of a URL (signature, token, credential …). */
  addUrl(url: string): void;
  text(s: string): string;
  /** A copy of `value` with every string scrubbed (objects and arrays walked, depth-limited). */
  value<T>(value: T): T;
  /** Wraps any thrown value as a `ThingwireError` with a scrubbed message and no raw cause. */
  error(e: unknown, code: ThingwireErrorCode, prefix: string): ThingwireError;
}

/** Message of anything thrown, without its stack. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

function variants(s: string): string[] {
  const out = new Set([s]);
  try {
    out.add(encodeURIComponent(s));
    out.add(encodeURIComponent(s).replace(/%20/g, "+"));
    out.add(encodeURIComponent(encodeURIComponent(s)));
  } catch {
    // lone surrogates: the raw form is enough
  }
  return [...out];
}

/** Creates a redactor. */
export function createRedactor(): Redactor {
  const known = new Map<string, string[]>(); // insertion order: the oldest is evicted first
  let secrets: string[] = [];
  const add = (s: string) => {
    if (typeof s !== "string" || s.length === 0 || known.has(s)) return;
    known.set(s, variants(s));
    while (known.size > MAX_SECRETS) known.delete(known.keys().next().value!);
    // Longest first, so a secret containing another is masked whole.
    secrets = [...known.values()].flat().sort((a, b) => b.length - a.length);
  };
  const text = (s: string): string => {
    let out = String(s);
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    // Any URL's query string may hold a signature or token.
    return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi, `$1?${MASK}`);
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return text(v);
    if (depth > 6 || v === null || typeof v !== "object") return v;
    if (v instanceof ThingwireError) return v; // already scrubbed where it was made
    if (v instanceof Error) return { name: v.name, message: text(describe(v)) };
    if (v instanceof Uint8Array) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = walk(x, depth + 1);
    return o;
  };
  return {
    add(list) {
      for (const s of list) add(s);
    },
    addUrl(url) {
      try {
        for (const [, v] of new URL(url).searchParams) if (v.length >= 8) add(v);
        const u = new URL(url);
        if (u.password) add(decodeURIComponent(u.password));
      } catch {
        // not a URL: nothing to learn
      }
    },
    text,
    value: <T>(v: T) => walk(v, 0) as T,
    error(e, code, prefix) {
      const inner = text(describe(e));
      return new ThingwireError(code, inner ? `${prefix}: ${inner}` : prefix);
    },
  };
}
