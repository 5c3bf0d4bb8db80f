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

/**
 * Decompresses gzip `input` (one or more members) to at most `maxBytes` bytes. Errors carry the
 * byte offset `base` + index into `input`: `CODEC_GZIP` (not gzip, corrupt, checksum), `CODEC_TRUNCATED`,
 * `CODEC_TOO_LARGE` (the cap).
 */
export function gunzip(input: Uint8Array, maxBytes: number, what: string, base = 0): Uint8Array {
  const n = input.length;
  if (n < 2 || input[0] !== 0x1f || input[1] !== 0x8b) {
    throw new ThingwireError("CODEC_GZIP", `${what} is not gzip data: it must start with the bytes 1f 8b (at byte ${base})`, {
      offset: base,
    });
  }
  if (n < 10) {
    throw new ThingwireError("CODEC_TRUNCATED", `${what} ends inside the 10-byte gzip header (at byte ${base + n})`, { offset: base + n });
  }
  if (input[2] !== 8) {
    throw new ThingwireError("CODEC_GZIP", `${what}: gzip compression method must be 8, deflate (byte ${base + 2})`, { offset: base + 2 });
  }
  if (input[3]! & 0xe0) {
    throw new ThingwireError("CODEC_GZIP", `${what}: reserved gzip header flags are set (byte ${base + 3})`, { offset: base + 3 });
  }

  if (n >= 18) {
    const claimed = u32le(input, n - 4);
    if (claimed <= maxBytes && maxBytes < 0x100000000) {
      let out: Uint8Array | undefined;
      try {
        out = gunzipSync(input, { out: new Uint8Array(claimed) });
      } catch {
        // the streaming path below reports it
      }
      if (out && out.length === claimed && crc32(out) === u32le(input, n - 8)) return out;
    }
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  let crc = 0;
  let size = 0;
  const checkTrailer = (at: number) => {
    if (at < 10 || u32le(input, at) !== crc || u32le(input, at + 4) !== size % 0x100000000) {
      throw new ThingwireError(
        "CODEC_GZIP",
        `${what}: gzip checksum or length mismatch at byte ${base + Math.max(at, 0)} (the data is corrupt or truncated, or has bytes after the gzip stream)`,
        { offset: base + Math.max(at, 0) },
      );
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
      throw new ThingwireError(
        "CODEC_TOO_LARGE",
        `${what} decompresses to more than the ${maxBytes}-byte cap (stopped at byte ${base + pos}); raise maxBytes if it is legitimate`,
        { offset: base + pos },
      );
    }
    const code = (e as { code?: unknown })?.code;
    if (code === 0) {
      throw new ThingwireError("CODEC_TRUNCATED", `${what}: the gzip stream ends early, at byte ${base + n}`, { offset: base + n });
    }
    const detail = e instanceof Error && typeof code === "number" ? `: ${e.message}` : "";
    throw new ThingwireError("CODEC_GZIP", `${what}: corrupt gzip data at or after byte ${base + pos}${detail}`, { offset: base + pos, cause: e });
  }
  checkTrailer(n - 8);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
