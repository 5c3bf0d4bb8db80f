/**
 * Redaction of `PreparedConnection.secrets` from text the device shows (error messages, status
 * reasons, log lines). Internal: imported by the device layer, not exported from mod.ts.
 */
import { encodeRfc3986 } from "./hmac.ts";

/**
 * Replaces every occurrence of each secret in `text` — as it is, URL-encoded (encodeURIComponent
 * and RFC 3986) and form-encoded (`+` for space) — with `[redacted]`. Longest first, so a URL that
 * contains a signature is removed whole.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== "string" || s === "") continue;
    forms.add(s);
    try {
      const uri = encodeURIComponent(s);
      forms.add(uri);
      forms.add(encodeRfc3986(s));
      forms.add(uri.replace(/%20/g, "+"));
    } catch {
      // a lone surrogate has no encoded form; the raw form is enough
    }
  }
  let out = text;
  for (const f of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(f)) out = out.split(f).join("[redacted]");
  }
  return out;
}
