/**
 * The compressed telemetry envelope: `{"b64": base64(gzip(json))}`, where `b64` is the only key.
 *
 * @example
 * ```ts
 * const payload = encodeCompressed({ device_id: "thing-42", token: "t0k3n", points: [] });
 * decodeCompressed(payload).device_id; // "thing-42"
 * ```
 * @module
 */
import { ThingwireError } from "../errors.ts";
import { encodeBase64 } from "./base64.ts";
import { telemetryFromEnvelope } from "./envelope.ts";
import { checkMaxBytes, gzip } from "./gzip.ts";
import { jsonText, parseJson } from "./json-text.ts";
import type { Telemetry } from "./telemetry.ts";
import { checkTelemetry, writeTelemetry } from "./telemetry-schema.ts";
import { encodeUtf8 } from "./utf8.ts";

/**
 * gzip compression level: 0 (stored) … 9 (smallest, slowest).
 *
 * @example
 * ```ts
 * const level: GzipLevel = 6;
 * ```
 */
export type GzipLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Options for encoders that compress.
 *
 * @example
 * ```ts
 * encodeCompressed(telemetry, { level: 9 });
 * ```
 */
export interface CompressOptions {
  /** gzip level, default 6. */
  level?: GzipLevel;
}

/**
 * Options for decoders that decompress.
 *
 * @example
 * ```ts
 * decodeCompressed(payload, { maxBytes: 1024 * 1024 });
 * ```
 */
export interface DecompressOptions {
  /**
   * Cap on the decompressed size in bytes, default 16 MiB (16,777,216). A payload that
   * decompresses to more is rejected with `CODEC_TOO_LARGE` before it is fully inflated.
   */
  maxBytes?: number;
}

/**
 * Encodes telemetry as the compressed envelope `{"b64":"…"}`: JSON text (as
 * {@link encodeTelemetry} writes it), gzipped (mtime 0, so the output is deterministic),
 * base64-encoded. Returns UTF-8 bytes ready to publish. Bad telemetry throws as in
 * {@link encodeTelemetry}.
 *
 * @example
 * ```ts
 * const payload = encodeCompressed({ device_id: "thing-42", token: "t0k3n", points: [] }, { level: 9 });
 * new TextDecoder().decode(payload).startsWith('{"b64":"H4sI'); // true
 * ```
 */
export function encodeCompressed(telemetry: Telemetry, options: CompressOptions = {}): Uint8Array {
  checkTelemetry(telemetry);
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ThingwireError("OPTIONS_INVALID", "level must be a whole number from 0 to 9", { path: "level" });
  }
  const gz = gzip(encodeUtf8(writeTelemetry(telemetry)), level);
  return encodeUtf8(`{"b64":"${encodeBase64(gz)}"}`);
}

/**
 * Decodes the compressed envelope from UTF-8 bytes or a string. Errors are `ThingwireError`s with
 * a code and, where it applies, `path` and `offset`: `CODEC_JSON` (envelope or decompressed JSON
 * malformed), `CODEC_SCHEMA` (not `{"b64": string}` or bad telemetry inside), `CODEC_BASE64`
 * (offset = character in the b64 string), `CODEC_GZIP` / `CODEC_TRUNCATED` (offset = byte of the
 * gzip data), `CODEC_TOO_LARGE` (above `maxBytes`).
 *
 * @example
 * ```ts
 * const t = decodeCompressed(payload, { maxBytes: 1 << 20 });
 * ```
 */
export function decodeCompressed(input: Uint8Array | string, options: DecompressOptions = {}): Telemetry {
  const maxBytes = checkMaxBytes(options.maxBytes);
  const envelope = parseJson(jsonText(input, "compressed envelope"), input, "compressed envelope");
  return telemetryFromEnvelope(envelope, maxBytes);
}
