/**
 * JSON text in and out for the codecs (internal). Parsing never lets an engine error escape: a
 * syntax error, nesting the engine cannot handle, or malformed UTF-8 becomes `CODEC_JSON` with a
 * byte offset. The engine's message is not forwarded, because it may quote the payload, and a
 * payload carries an auth token.
 */
import { ThingwireError } from "../errors.ts";
import { decodeUtf8, utf8Length } from "./utf8.ts";

/** JSON text of `input`: bytes are decoded as strict UTF-8; a leading BOM is dropped. */
export function jsonText(input: Uint8Array | string, what: string): string {
  if (typeof input === "string") return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  return decodeUtf8(input, 0, what, "CODEC_JSON");
}

/**
 * Parses `text` (from {@link jsonText} of `input`). Offsets in errors count bytes of `input`
 * when it was bytes, UTF-16 code units when it was a string.
 */
export function parseJson(text: string, input: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const found = locateJsonError(text);
    let at = found?.at;
    if (at !== undefined && typeof input !== "string") {
      const bom = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
      at = bom + utf8Length(text.slice(0, at));
    } else if (at !== undefined && input.length !== text.length) at += 1; // the dropped BOM
    const why = found?.why ?? "the runtime's JSON parser rejected it (nested too deep?)";
    const where = at === undefined ? "" : ` at ${typeof input === "string" ? "character" : "byte"} ${at}`;
    const details: { offset?: number; cause: unknown } = { cause: e instanceof Error ? e.name : undefined };
    if (at !== undefined) details.offset = at;
    throw new ThingwireError("CODEC_JSON", `${what} is not valid JSON${where}: ${why}`, details);
  }
}

const WS = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/**
 * Finds the first JSON syntax error in `s` (iteratively, so any depth). Only called after
 * `JSON.parse` failed, to say where. Returns undefined when it finds none.
 */
export function locateJsonError(s: string): { at: number; why: string } | undefined {
  const n = s.length;
  let i = 0;
  // Open containers, 1 = object, 0 = array: one byte each, so a text of a million '[' costs a megabyte.
  let stack = new Uint8Array(64);
  let depth = 0;
  let expectValue = true;
  const fail = (why: string) => ({ at: Math.min(i, n), why });
  const skip = () => {
    while (i < n && WS(s.charCodeAt(i))) i++;
  };
  const string = (): { at: number; why: string } | undefined => {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return fail("control character inside a string");
      if (c === 0x5c) {
        const e = s.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) return fail("bad \\u escape in a string");
          i += 6;
        } else if (ESCAPES.has(e)) i += 2;
        else return fail("bad escape in a string");
      } else i++;
    }
    return fail("unterminated string");
  };
  const key = (): { at: number; why: string } | undefined => {
    skip();
    if (i >= n) return fail("the text ends where a property name should be");
    if (s.charCodeAt(i) !== 0x22) return fail("expected a double-quoted property name");
    const e = string();
    if (e) return e;
    skip();
    if (s.charCodeAt(i) !== 0x3a) return fail("expected ':' after a property name");
    i++;
    return undefined;
  };
  for (;;) {
    skip();
    if (expectValue) {
      if (i >= n) return fail("the text ends where a value should be");
      const c = s.charCodeAt(i);
      if (c === 0x7b || c === 0x5b) {
        i++;
        skip();
        if (s.charCodeAt(i) === (c === 0x7b ? 0x7d : 0x5d)) {
          i++;
          expectValue = false;
          continue;
        }
        if (depth === stack.length) {
          const grown = new Uint8Array(depth * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = c === 0x7b ? 1 : 0;
        if (c === 0x7b) {
          const e = key();
          if (e) return e;
        }
        continue;
      }
      if (c === 0x22) {
        const e = string();
        if (e) return e;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(s);
        if (!m) return fail("malformed number");
        i += m[0].length;
      } else if (s.startsWith("true", i)) i += 4;
      else if (s.startsWith("false", i)) i += 5;
      else if (s.startsWith("null", i)) i += 4;
      else return fail("unexpected character where a value should be");
      expectValue = false;
      continue;
    }
    if (depth === 0) return i < n ? fail("unexpected text after the JSON value") : undefined;
    const isObject = stack[depth - 1] === 1;
    const d = s.charCodeAt(i);
    if (d === 0x2c) {
      i++;
      if (isObject) {
        const e = key();
        if (e) return e;
      }
      expectValue = true;
      continue;
    }
    if (d === (isObject ? 0x7d : 0x5d)) {
      i++;
      depth--;
      continue;
    }
    if (i >= n) return fail("the text ends inside an object or array");
    return fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}
