/**
 * gzip on the platform's `CompressionStream` / `DecompressionStream` (internal): the engine of
 * the async codecs. Native gzip (C in Chromium and Node, Rust in Deno) beside the JavaScript of
 * gzip.ts, with the same guarantees:
 *
 * - The output cap holds while streaming: input goes in slices small enough that one slice cannot
 *   expand far past the remaining budget (deflate expands at most ~1032:1), output is counted as
 *   it comes, and once it passes the cap reading stops and both sides of the stream are cancelled.
 *   Nothing past the cap is kept.
 * - The native decoder checks each member's CRC-32 and length itself. When it rejects the input,
 *   the input goes to gzip.ts's `gunzip` (capped, so bounded), which gives the error its code and
 *   byte offset: the same `CODEC_GZIP` / `CODEC_TRUNCATED` error the sync decoder throws, whatever
 *   the runtime's message was. Input that gzip allows but a native decoder refuses (several
 *   concatenated members, which Node, Deno and Chromium do not take) is decoded there too, so the
 *   async decoders accept what the sync ones accept (test/suites/codec-compressed-async.suite.ts
 *   compares them on mutated input).
 * - A runtime without the streams uses gzip.ts, as does any level but 6 (the streams have no
 *   level: zlib's default, 6, is what they use).
 */
import { ThingwireError } from "../errors.ts";
import type { GzipLevel } from "./compressed.ts";
import { concatBytes } from "./concat.ts";
import { gunzip, gzip } from "./gzip.ts";

const MAX_SLICE = 64 * 1024;
const MIN_SLICE = 1024;
const MAX_RATIO = 1032;

/** Returned by {@link pump} when the output passed the cap; `at` is where the last slice began. */
interface Capped {
  capped: true;
  at: number;
}

const hasStreams = (): boolean => typeof CompressionStream === "function" && typeof DecompressionStream === "function";

/** gzip of `data` (single member) on `CompressionStream("gzip")` for level 6, else gzip.ts. */
export async function gzipAsync(data: Uint8Array, level: GzipLevel = 6): Promise<Uint8Array> {
  if (level !== 6 || !hasStreams()) return gzip(data, level);
  // No cap on the output (it is smaller than the input, give or take a header), so never Capped.
  return (await pump(data, new CompressionStream("gzip"), Infinity)) as Uint8Array;
}

/**
 * Decompresses gzip `input` to at most `maxBytes` bytes, as gzip.ts's `gunzip` does (same
 * result, same errors: `CODEC_GZIP`, `CODEC_TRUNCATED`, `CODEC_TOO_LARGE`, offsets from `base`).
 */
export async function gunzipAsync(input: Uint8Array, maxBytes: number, what: string, base = 0): Promise<Uint8Array> {
  if (!hasStreams()) return gunzip(input, maxBytes, what, base);
  let out: Uint8Array | Capped | undefined;
  try {
    out = await pump(input, new DecompressionStream("gzip"), maxBytes);
  } catch {
    // The runtime's TypeError says little and differs by runtime: gunzip names the fault below.
  }
  if (out && "capped" in out) {
    throw new ThingwireError(
      "CODEC_TOO_LARGE",
      `${what}: decompresses to more than the ${maxBytes}-byte cap, stopped in the data from this byte; raise maxBytes if it is legitimate (byte ${base + out.at})`,
      { offset: base + out.at },
    );
  }
  const n = input.length;
  // The trailer's length (mod 2^32) of a single member; a mismatch means several members.
  if (out && n >= 18 && ((input[n - 4]! | (input[n - 3]! << 8) | (input[n - 2]! << 16) | (input[n - 1]! << 24)) >>> 0) === out.length % 0x100000000) {
    return out;
  }
  return gunzip(input, maxBytes, what, base);
}

/**
 * Pushes `input` through a transform stream in slices sized by the remaining output budget, and
 * collects the output up to `maxBytes`. Rejects with the stream's error.
 */
async function pump(input: Uint8Array, stream: CompressionStream | DecompressionStream, maxBytes: number): Promise<Uint8Array | Capped> {
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  let stopped = false;
  const writing = (async () => {
    let pos = 0;
    while (pos < input.length && !stopped) {
      const slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.ceil((maxBytes - total) / MAX_RATIO)));
      const end = Math.min(input.length, pos + slice);
      at = pos;
      await writer.write(input.subarray(pos, end) as Uint8Array<ArrayBuffer>);
      pos = end;
    }
    if (!stopped) await writer.close();
  })();
  // A failed write also errors the readable side, which is where it is reported.
  writing.catch(() => {});
  const stop = async () => {
    stopped = true;
    await Promise.all([reader.cancel().catch(() => {}), writer.abort().catch(() => {})]);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        chunks.length = 0;
        await stop();
        return { capped: true, at };
      }
      chunks.push(value);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  await writing;
  return concatBytes(chunks);
}
