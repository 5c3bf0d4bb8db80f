/**
 * The compressed envelope `{"b64": base64(gzip(json))}` on the platform's native gzip
 * (`CompressionStream` / `DecompressionStream`): the async twins of {@link encodeCompressed} and
 * {@link decodeCompressed}, with the same options, output format, cap and errors. Either side
 * reads what the other writes.
 *
 * Which pair is faster depends on the runtime. In browsers and Deno the streams run native code in
 * the calling thread, and the async pair is the faster one. On Node they wrap node:zlib's
 * thread-pool streams, which cost a thread hop per chunk: there `decodeCompressed` is faster at
 * every size, and `encodeCompressed` for small payloads (see bench/RESULTS.md).
 *
 * @example
 * ```ts
 * const payload = await encodeCompressedAsync({ device_id: "thing-42", token: "t0k3n", points: [] });
 * (await decodeCompressedAsync(payload)).device_id; // "thing-42"
 * ```
 * @module
 */
import { ThingwireError } from "../errors.ts";
import { encodeBase64 } from "./base64.ts";
import type { CompressOptions, DecompressOptions } from "./compressed.ts";
import { telemetryFromEnvelopeAsync } from "./compressed-envelope-async.ts";
import { checkMaxBytes } from "./gzip.ts";
import { gzipAsync } from "./gzip-stream.ts";
import { jsonText, parseJson } from "./json-text.ts";
import type { Telemetry } from "./telemetry.ts";
import { checkTelemetry, writeTelemetry } from "./telemetry-schema.ts";
import { encodeUtf8 } from "./utf8.ts";

/**
 * {@link encodeCompressed}, gzipping with the runtime's `CompressionStream` (native code in
 * browsers, Deno and Node). The streams have no level setting: level 6, the default, uses them;
 * any other level uses the same engine as `encodeCompressed`. The gzip bytes differ from
 * `encodeCompressed`'s (another deflate implementation) but decode to the same telemetry;
 * the mtime is 0, so a given runtime always writes the same bytes. Bad telemetry or options
 * reject as `encodeCompressed` throws.
 *
 * @example
 * ```ts
 * const payload = await encodeCompressedAsync({ device_id: "thing-42", token: "t0k3n", points: [] });
 * new TextDecoder().decode(payload).startsWith('{"b64":"H4sI'); // true
 * ```
 */
export async function encodeCompressedAsync(telemetry: Telemetry, options: CompressOptions = {}): Promise<Uint8Array> {
  checkTelemetry(telemetry);
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ThingwireError("OPTIONS_INVALID", "level must be a whole number from 0 to 9", { path: "level" });
  }
  const gz = await gzipAsync(encodeUtf8(writeTelemetry(telemetry)), level);
  return encodeUtf8(`{"b64":"${encodeBase64(gz)}"}`);
}

/**
 * {@link decodeCompressed}, inflating with the runtime's `DecompressionStream`. Same input, same
 * result, and the same errors with the same codes, paths, offsets and messages: `CODEC_JSON`,
 * `CODEC_SCHEMA`, `CODEC_BASE64`, `CODEC_GZIP` / `CODEC_TRUNCATED` (corrupt or cut gzip data,
 * including a CRC-32 or length mismatch). The `maxBytes` cap is enforced while streaming: a
 * payload that inflates past it is stopped there and rejects with `CODEC_TOO_LARGE`, whose offset
 * (the slice of gzip data being inflated) may differ from the sync decoder's.
 *
 * @example
 * ```ts
 * const t = await decodeCompressedAsync(payload, { maxBytes: 1 << 20 });
 * ```
 */
export async function decodeCompressedAsync(input: Uint8Array | string, options: DecompressOptions = {}): Promise<Telemetry> {
  const maxBytes = checkMaxBytes(options.maxBytes);
  const envelope = parseJson(jsonText(input, "compressed envelope"), input, "compressed envelope");
  return telemetryFromEnvelopeAsync(envelope, maxBytes);
}
