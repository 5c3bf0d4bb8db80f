/**
 * Base64 (RFC 4648 standard alphabet) for the compressed envelope (internal). Uses the native
 * `Uint8Array.fromBase64` / `toBase64` where the runtime has them (feature-detected at call time,
 * as jose's src/lib/base64.ts does) and a table-driven fallback elsewhere. Both accept the same
 * language, that of `fromBase64` with its defaults: ASCII whitespace is skipped, padding is
 * optional but must be complete when present, a lone final character is an error, and the
 * unused low bits of a partial final chunk are ignored.
 */
import { ThingwireError } from "../errors.ts";

interface NativeBase64 {
  fromBase64?: (text: string) => Uint8Array;
}
interface NativeBase64Instance {
  toBase64?: () => string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INVALID = 255;
const SPACE = 254;
const PAD = 253;

let decodeTable: Uint8Array | undefined;
let encodeTable: Uint8Array | undefined;

function table(): Uint8Array {
  if (decodeTable) return decodeTable;
  const t = new Uint8Array(256).fill(INVALID);
  for (let i = 0; i < 64; i++) t[ALPHABET.charCodeAt(i)] = i;
  for (const c of [0x09, 0x0a, 0x0c, 0x0d, 0x20]) t[c] = SPACE;
  t[0x3d] = PAD;
  return (decodeTable = t);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function bad(at: number, why: string): ThingwireError {
  return new ThingwireError("CODEC_BASE64", `base64 text is malformed at character ${at}: ${why}`, { offset: at });
}

/** Base64 text of `bytes`, with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64Instance).toBase64;
  if (typeof native === "function") return native.call(bytes);
  return encodeBase64Portable(bytes);
}

/** The fallback encoder (exported for tests that compare it with the native one). */
export function encodeBase64Portable(bytes: Uint8Array): string {
  const enc = encodeTable ??= Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = enc[v >>> 18]!;
    out[o++] = enc[(v >>> 12) & 63]!;
    out[o++] = enc[(v >>> 6) & 63]!;
    out[o++] = enc[v & 63]!;
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | (i + 1 < n ? bytes[i + 1]! << 8 : 0);
    out[o++] = enc[v >>> 18]!;
    out[o++] = enc[(v >>> 12) & 63]!;
    out[o++] = i + 1 < n ? enc[(v >>> 6) & 63]! : 0x3d;
    out[o++] = 0x3d;
  }
  let s = "";
  for (let k = 0; k < out.length; k += 0x8000) {
    s += String.fromCharCode.apply(null, out.subarray(k, k + 0x8000) as unknown as number[]);
  }
  return s;
}

/** Bytes of base64 `text`; malformed text throws `CODEC_BASE64` with the character offset. */
export function decodeBase64(text: string): Uint8Array {
  const native = (Uint8Array as unknown as NativeBase64).fromBase64;
  if (typeof native === "function") {
    try {
      return native(text);
    } catch {
      // The native error has no position: the portable decoder finds it.
      decodeBase64Portable(text);
      throw bad(0, "rejected by the runtime's base64 decoder");
    }
  }
  return decodeBase64Portable(text);
}

/** The fallback decoder (exported for tests that compare it with the native one). */
export function decodeBase64Portable(text: string): Uint8Array {
  // Strings from JSON.parse are often slices of the payload, slow to index character by
  // character; their UTF-8 bytes (the same as the characters while all are ASCII) are fast.
  const ascii = (encoder ??= new TextEncoder()).encode(text);
  return decodeCodes(ascii.length === text.length ? ascii : text);
}

let encoder: TextEncoder | undefined;

/** Decodes character codes, from ASCII bytes or (with non-ASCII text, to report offsets right) the string. */
function decodeCodes(src: Uint8Array | string): Uint8Array {
  const t = table();
  const n = src.length;
  const code = typeof src === "string" ? (i: number) => src.charCodeAt(i) : (i: number) => src[i]!;
  const out = new Uint8Array(Math.floor((n * 3) / 4) + 3);
  let o = 0;
  let i = 0;
  if (typeof src !== "string") {
    // Fast path: whole quads of alphabet characters.
    while (i + 4 <= n) {
      const a = t[src[i]!]!, b = t[src[i + 1]!]!, c = t[src[i + 2]!]!, d = t[src[i + 3]!]!;
      if ((a | b | c | d) > 63) break;
      const v = (a << 18) | (b << 12) | (c << 6) | d;
      out[o++] = v >>> 16;
      out[o++] = (v >>> 8) & 255;
      out[o++] = v & 255;
      i += 4;
    }
  }
  // General path: whitespace, padding, partial final chunk.
  let acc = 0;
  let have = 0;
  let last = -1; // offset of the last alphabet character read
  for (; i < n; i++) {
    const c = code(i);
    const v = c < 256 ? t[c]! : INVALID;
    if (v < 64) {
      acc = (acc << 6) | v;
      last = i;
      if (++have === 4) {
        out[o++] = acc >>> 16;
        out[o++] = (acc >>> 8) & 255;
        out[o++] = acc & 255;
        acc = 0;
        have = 0;
      }
    } else if (v === SPACE) continue;
    else if (v === PAD) {
      if (have < 2) throw bad(i, "padding '=' where no partial group ends");
      let j = i + 1;
      if (have === 2) {
        while (j < n && isSpace(code(j))) j++;
        if (j >= n || code(j) !== 0x3d) throw bad(j >= n ? i : j, "a two-character group needs '==' padding");
        j++;
      }
      while (j < n && isSpace(code(j))) j++;
      if (j < n) throw bad(j, "characters after the padding");
      i = n;
      break;
    } else throw bad(i, `character ${JSON.stringify(String.fromCharCode(c))} is not in the base64 alphabet`);
  }
  if (have === 1) throw bad(last, "a single character cannot end the text");
  if (have === 2) out[o++] = (acc >>> 4) & 255;
  else if (have === 3) {
    out[o++] = (acc >>> 10) & 255;
    out[o++] = (acc >>> 2) & 255;
  }
  return out.subarray(0, o);
}
