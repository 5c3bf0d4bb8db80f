/**
 * Lowercase hex for CAN data in JSON (internal: the CLI and tests use it).
 */
import { ThingwireError } from "../errors.ts";

const DIGITS = "0123456789abcdef";

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += DIGITS[bytes[i]! >> 4]! + DIGITS[bytes[i]! & 15]!;
  return s;
}

/** Bytes of hex text (either case, even length); malformed text throws `CODEC_SCHEMA` at `path`. */
export function fromHex(text: string, path: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new ThingwireError("CODEC_SCHEMA", `${path}: expected hex digits, an even number of them`, { path });
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
