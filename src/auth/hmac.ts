/**
 * SHA-256, HMAC-SHA256, hex and RFC 3986 encoding on WebCrypto (`crypto.subtle`), so signing runs
 * unchanged in browsers, Deno and Node. Internal to the auth layer: not exported from mod.ts.
 */

import { ThingwireError } from "../errors.ts";

const encoder = new TextEncoder();

/** WebCrypto, or AUTH_UNSUPPORTED where it is missing (a browser page on plain http:// other than localhost). */
export function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (s === undefined) {
    throw new ThingwireError("AUTH_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available here: browsers offer it only to https:// pages and localhost; serve the page over https");
  }
  return s;
}

/** SHA-256 of the empty string: the payload hash of a presigned GET. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function utf8(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof data === "string") return encoder.encode(data);
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy;
}

/** Hex SHA-256 of the UTF-8 bytes of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest("SHA-256", utf8(text))));
}

/** HMAC-SHA256 of the UTF-8 bytes of `data` under `key` (UTF-8 text or raw bytes). */
export async function hmacSha256(key: string | Uint8Array, data: string): Promise<Uint8Array> {
  const k = await subtle().importKey("raw", utf8(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle().sign("HMAC", k, utf8(data)));
}

/**
 * RFC 3986 percent-encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - _ . ~` is encoded,
 * as UTF-8, with upper-case hex.
 */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** False when `text` holds a lone UTF-16 surrogate (it has no UTF-8 form to sign or encode). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
