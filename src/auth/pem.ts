/**
 * PEM checks for TLS material. Internal to the auth layer. Messages name the field and what is wrong,
 * never the content.
 */
import { ThingwireError } from "../errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

export interface PemBlock {
  label: string;
  /** Base64 body without whitespace. */
  body: string;
  /** Header lines such as `Proc-Type: 4,ENCRYPTED` (legacy OpenSSL encryption). */
  headers: string[];
}

const invalid = (field: string, message: string) => new ThingwireError("AUTH_INVALID_OPTIONS", `${field} ${message}`, { path: field });

/** PEM text from a string or UTF-8 bytes; anything else is AUTH_INVALID_OPTIONS naming `field`. */
export function pemText(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) {
    try {
      return decoder.decode(value);
    } catch {
      throw invalid(field, "bytes are not PEM text (DER is not accepted: convert with `openssl x509 -inform der` or `openssl pkey -inform der`)");
    }
  }
  throw invalid(field, "must be PEM text: a string or a Uint8Array of it");
}

/** The PEM blocks of `text` (empty when there is none). */
export function pemBlocks(text: string, field: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] ?? "";
    const lines = (m[2] ?? "").split(/\r?\n/);
    const headers: string[] = [];
    let i = 0;
    // RFC 1421 style headers ("Proc-Type: …", "DEK-Info: …") end with an empty line.
    if (lines[0]?.includes(":")) {
      while (i < lines.length && (lines[i] ?? "").trim() !== "") headers.push(lines[i++] ?? "");
    }
    const body = lines.slice(i).join("").replace(/\s+/g, "");
    if (!BASE64_BODY.test(body)) throw invalid(field, `has a ${label} block whose body is not base64; check the file is not truncated or edited`);
    out.push({ label, body, headers });
  }
  return out;
}

/** The one private key block of `text`; errors say what was found instead. */
export function privateKeyPem(value: unknown, field: string): { text: string; block: PemBlock } {
  const text = pemText(value, field);
  const blocks = pemBlocks(text, field);
  const keys = blocks.filter((b) => b.label.endsWith("PRIVATE KEY"));
  if (keys.length === 0) {
    if (blocks.some((b) => b.label === "CERTIFICATE")) throw invalid(field, "holds a certificate, not a private key: did you swap key and cert?");
    throw invalid(field, 'is not a PEM private key (expected "-----BEGIN PRIVATE KEY-----", "EC PRIVATE KEY" or "RSA PRIVATE KEY")');
  }
  if (keys.length > 1) throw invalid(field, "holds more than one private key; give exactly one");
  const block = keys[0] as PemBlock;
  if (block.label === "ENCRYPTED PRIVATE KEY" || block.headers.some((h) => /ENCRYPTED/i.test(h))) {
    throw invalid(field, "is an encrypted private key; decrypt it first (openssl pkey -in key.pem -out key-plain.pem) and protect the file instead");
  }
  return { text, block };
}

/** Certificate PEM text with at least one CERTIFICATE block and no private key. */
export function certificatePem(value: unknown, field: string): string {
  const text = pemText(value, field);
  const blocks = pemBlocks(text, field);
  if (blocks.some((b) => b.label.endsWith("PRIVATE KEY"))) throw invalid(field, "holds a private key, not a certificate: did you swap key and cert?");
  if (!blocks.some((b) => b.label === "CERTIFICATE")) throw invalid(field, 'is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----")');
  return text;
}
