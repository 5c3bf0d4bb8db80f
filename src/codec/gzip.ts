/**
 * gzip for the codecs (internal), on fflate. Compression is deterministic (mtime 0). Decompression
 * is streamed so its output can be capped: fflate's `gunzipSync` sizes its buffer from the
 * trailer's claimed length and cannot stop early, so a small bomb could ask for gigabytes. Input
 * goes in slices small enough that one slice cannot expand far past the cap (deflate expands at
 * most ~1032:1), output is counted as it comes, and the trailer of every member (CRC-32 and
 * length) is checked, which fflate's streaming decoder does not do.
 */
import { Gunzip, gunzipSync, gzipSync } from "fflate";
import { ThingwireError } from "../errors.ts";
import type { GzipLevel } from "./compressed.ts";
import { concatBytes } from "./concat.ts";
import { crc32 } from "./crc32.ts";

/** Default cap on decompressed size: 16 MiB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

const MAX_SLICE = 64 * 1024;
const MIN_SLICE = 1024;
const MAX_RATIO = 1032;

/** gzip of `data` (single member, mtime 0, no file name). */
export function gzip(data: Uint8Array, level: GzipLevel = 6): Uint8Array {
  return gzipSync(data, { level, mtime: 0 });
}

/** Checks a `maxBytes` option: a number ≥ 0 (Infinity allowed). */
export function checkMaxBytes(maxBytes: unknown): number {
  if (maxBytes === undefined) return DEFAULT_MAX_BYTES;
  if (typeof maxBytes !== "number" || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new ThingwireError("OPTIONS_INVALID", "maxBytes must be a number of bytes, 0 or more (Infinity for no cap)", { path: "maxBytes" });
  }
  return maxBytes;
}

/** Thrown from inside fflate's callback to stop inflating at the cap. */
const CAP_EXCEEDED = { capExceeded: true };

const u32le = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** Length of the gzip member header at `at` (fixed part, FEXTRA, FNAME, FCOMMENT, FHCRC), or -1 if it runs past the end. */
function headerLength(input: Uint8Array, at: number): number {
  const flags = input[at + 3]!;
  let p = at + 10;
  if (flags & 4) {
    if (p + 2 > input.length) return -1;
    p += 2 + (input[p]! | (input[p + 1]! << 8));
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      while (p < input.length && input[p] !== 0) p++;
      p++;
    }
  }
  if (flags & 2) p += 2;
  return p > input.length ? -1 : p - at;
}

/**
 * Decompresses gzip `input` (one or more members) to at most `maxBytes` bytes. Errors carry the
 * byte offset `base` + index into `input`: `CODEC_GZIP` (not gzip, corrupt, checksum), `CODEC_TRUNCATED`,
 * `CODEC_TOO_LARGE` (the cap).
 */
export function gunzip(input: Uint8Array, maxBytes: number, what: string, base = 0): Uint8Array {
  const n = input.length;
  const fail = (code: "CODEC_GZIP" | "CODEC_TRUNCATED" | "CODEC_TOO_LARGE", at: number, why: string, cause?: unknown) =>
    new ThingwireError(code, `${what}: ${why} (byte ${base + at})`, cause === undefined ? { offset: base + at } : { offset: base + at, cause });
  if (n < 2 || input[0] !== 0x1f || input[1] !== 0x8b) throw fail("CODEC_GZIP", 0, "not gzip data, which starts with the bytes 1f 8b");
  if (n < 10) throw fail("CODEC_TRUNCATED", n, "the data ends inside the 10-byte gzip header");
  if (input[2] !== 8) throw fail("CODEC_GZIP", 2, "the gzip compression method must be 8 (deflate)");
  if (input[3]! & 0xe0) throw fail("CODEC_GZIP", 3, "reserved gzip header flags are set");
  const header = headerLength(input, 0);
  if (header < 0 || header + 8 > n) throw fail("CODEC_TRUNCATED", n, "the gzip stream ends early");

  // The fast path trusts the trailer for the buffer size only, and does the work of inflating
  // everything even when the trailer lies; so only for inputs that cannot expand past ~4× the cap.
  // fflate drops what does not fit the buffer it is given, so the buffer has one byte to spare:
  // output longer than the trailer claims (bytes appended after the stream, a forged trailer for
  // a prefix) comes back longer than `claimed` and goes to the careful path instead of being cut.
  const claimed = u32le(input, n - 4);
  if (claimed <= maxBytes && maxBytes < 0x100000000 && n * MAX_RATIO <= 4 * Math.max(maxBytes, MIN_SLICE * MAX_RATIO)) {
    let out: Uint8Array | undefined;
    try {
      out = gunzipSync(input, { out: new Uint8Array(claimed + 1) });
    } catch (e) {
      // fflate's codes: 0 unexpected end, 1-3 corrupt deflate data. Others take the streaming path.
      const code = (e as { code?: unknown } | null)?.code;
      if (code === 0) throw fail("CODEC_TRUNCATED", n, "the gzip stream ends early", e);
      if (code === 1 || code === 2 || code === 3) {
        throw fail("CODEC_GZIP", header, `corrupt deflate data at or after this byte: ${(e as Error).message}`, e);
      }
    }
    if (out && out.length === claimed && crc32(out) === u32le(input, n - 8)) return out;
  }
  return gunzipStreaming(input, maxBytes, fail);
}

type Fail = (code: "CODEC_GZIP" | "CODEC_TRUNCATED" | "CODEC_TOO_LARGE", at: number, why: string, cause?: unknown) => ThingwireError;

/** The slow, careful path: several members, a trailer that lies, or a stream above the cap. */
function gunzipStreaming(input: Uint8Array, maxBytes: number, fail: Fail): Uint8Array {
  const n = input.length;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let crc = 0;
  let size = 0;
  const checkTrailer = (at: number) => {
    if (at < 10 || u32le(input, at) !== crc || u32le(input, at + 4) !== size % 0x100000000) {
      throw fail("CODEC_GZIP", Math.max(at, 0), "gzip checksum or length mismatch: the data is corrupt or truncated, or has bytes after the gzip stream");
    }
  };
  const stream = new Gunzip((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw CAP_EXCEEDED;
    if (chunk.length === 0) return;
    chunks.push(chunk);
    crc = crc32(chunk, crc);
    size += chunk.length;
  });
  stream.onmember = (offset) => {
    checkTrailer(offset - 8);
    crc = 0;
    size = 0;
  };

  let pos = 0;
  try {
    while (pos < n) {
      const budget = maxBytes - total;
      const slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.ceil(budget / MAX_RATIO)));
      const end = Math.min(n, pos + slice);
      stream.push(input.subarray(pos, end), end === n);
      pos = end;
    }
  } catch (e) {
    if (e instanceof ThingwireError) throw e;
    if (e === CAP_EXCEEDED) {
      throw fail("CODEC_TOO_LARGE", pos, `decompresses to more than the ${maxBytes}-byte cap, stopped in the data from this byte; raise maxBytes if it is legitimate`);
    }
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 0) throw fail("CODEC_TRUNCATED", n, "the gzip stream ends early", e);
    const detail = e instanceof Error && typeof code === "number" ? `: ${e.message}` : "";
    throw fail("CODEC_GZIP", pos, `corrupt gzip data at or after this byte${detail}`, e);
  }
  checkTrailer(n - 8);
  return concatBytes(chunks);
}
