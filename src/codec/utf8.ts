/**
 * UTF-8 helpers for the codecs (internal): strict decoding that reports the byte offset of the
 * first malformed sequence, and encoding. The TextDecoder/TextEncoder are created on first use,
 * not at import time.
 */
import { ThingwireError, type ThingwireErrorCode } from "../errors.ts";

let decoder: TextDecoder | undefined;
let encoder: TextEncoder | undefined;

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
export function encodeUtf8(text: string): Uint8Array {
  return (encoder ??= new TextEncoder()).encode(text);
}

/**
 * Decodes `bytes` as strict UTF-8 (a leading BOM is dropped). Malformed input throws `code` with
 * the absolute offset (`base` + index of the first bad byte) and `what` in the message.
 */
export function decodeUtf8(bytes: Uint8Array, base: number, what: string, code: ThingwireErrorCode): string {
  try {
    return (decoder ??= new TextDecoder("utf-8", { fatal: true })).decode(bytes);
  } catch (e) {
    const at = base + firstInvalidUtf8(bytes);
    throw new ThingwireError(code, `${what} is not valid UTF-8 at byte ${at}: fix the encoder or re-send the text as UTF-8`, {
      offset: at,
      cause: e,
    });
  }
}

/** Index of the first byte that starts a malformed UTF-8 sequence, or `bytes.length` when all is well-formed. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i;
    const c1 = bytes[i + 1]!;
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}

/** Number of UTF-8 bytes `text` encodes to (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
