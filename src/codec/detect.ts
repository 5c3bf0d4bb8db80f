/**
 * Format detection for incoming payloads: plain JSON, the compressed JSON envelope, binary CAN and
 * compressed CAN, told apart by their first bytes.
 *
 * @example
 * ```ts
 * const { format, message } = decodePayload(payload);
 * if (format === "can" || format === "can+gzip") console.log(message.points.length);
 * ```
 * @module
 */
import { ThingwireError } from "../errors.ts";
import { decodeCan } from "./can.ts";
import type { CanMessage } from "./can.ts";
import type { DecompressOptions } from "./compressed.ts";
import { telemetryFromEnvelopeAsync } from "./compressed-envelope-async.ts";
import { telemetryFromEnvelope } from "./envelope.ts";
import { checkMaxBytes } from "./gzip.ts";
import { jsonText, parseJson } from "./json-text.ts";
import type { Telemetry } from "./telemetry.ts";
import { checkTelemetry } from "./telemetry-schema.ts";

/**
 * The four Flexconnect wire formats.
 *
 * @example
 * ```ts
 * const f: PayloadFormat = "can+gzip";
 * ```
 */
export type PayloadFormat = "json" | "json+gzip" | "can" | "can+gzip";

/**
 * A decoded payload: its format and the message.
 *
 * @example
 * ```ts
 * const d: DecodedPayload = decodePayload(bytes);
 * if (d.format === "json") console.log(d.message.device_id);
 * ```
 */
export type DecodedPayload =
  | { format: "json" | "json+gzip"; message: Telemetry }
  | { format: "can" | "can+gzip"; message: CanMessage };

/**
 * Detects a payload's format and decodes it:
 * - first byte 0xFC: compressed CAN;
 * - first non-blank character `{` (after an optional UTF-8 BOM): JSON, and an object whose only
 *   key is `b64` is the compressed envelope;
 * - otherwise binary CAN, if the 4-byte token length fits the payload.
 *
 * A string is JSON text (the JSON formats only). A payload that fits none throws
 * `CODEC_UNKNOWN_FORMAT` (offset 0); one that fits a format but is malformed throws that format's
 * error (see {@link decodeTelemetry}, {@link decodeCompressed}, {@link decodeCan}).
 *
 * @example
 * ```ts
 * decodePayload(new TextEncoder().encode('{"b64":"H4sI..."}')).format; // "json+gzip"
 * decodePayload(encodeCan({ token: "t", points: [] }, { compress: true })).format; // "can+gzip"
 * ```
 */
export function decodePayload(input: Uint8Array | string, options: DecompressOptions = {}): DecodedPayload {
  const maxBytes = checkMaxBytes(options.maxBytes);
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new ThingwireError("CODEC_UNKNOWN_FORMAT", "decodePayload expects a Uint8Array or a string", { offset: 0 });
  }
  const n = input.length;
  if (n === 0) throw new ThingwireError("CODEC_UNKNOWN_FORMAT", "the payload is empty", { offset: 0 });
  if (typeof input !== "string" && input[0] === 0xfc) {
    return { format: "can+gzip", message: decodeCan(input, { maxBytes }) };
  }
  if (looksLikeJson(input)) {
    const value = parseJson(jsonText(input, "JSON payload"), input, "JSON payload");
    if (typeof value === "object" && value !== null && "b64" in value) {
      return { format: "json+gzip", message: telemetryFromEnvelope(value, maxBytes) };
    }
    checkTelemetry(value);
    return { format: "json", message: value };
  }
  if (typeof input !== "string" && n >= 4) {
    const tokenLength = ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0;
    if (tokenLength <= n - 4) return { format: "can", message: decodeCan(input) };
  }
  throw new ThingwireError(
    "CODEC_UNKNOWN_FORMAT",
    typeof input === "string"
      ? "the text is not a JSON object (it must start with '{')"
      : "the payload is not JSON (no '{'), not compressed CAN (no 0xFC first byte), and not binary CAN (its token length does not fit)",
    { offset: 0 },
  );
}

/**
 * {@link decodePayload}, with the compressed JSON envelope inflated by the runtime's
 * `DecompressionStream` as {@link decodeCompressedAsync} does. Same detection, result, cap and
 * errors; compressed CAN is decoded as `decodePayload` does it.
 *
 * @example
 * ```ts
 * const { format, message } = await decodePayloadAsync(payload, { maxBytes: 1 << 20 });
 * if (format === "json+gzip") console.log(message.device_id);
 * ```
 */
export async function decodePayloadAsync(input: Uint8Array | string, options: DecompressOptions = {}): Promise<DecodedPayload> {
  const maxBytes = checkMaxBytes(options.maxBytes);
  if ((typeof input === "string" || (input instanceof Uint8Array && input[0] !== 0xfc)) && looksLikeJson(input)) {
    const value = parseJson(jsonText(input, "JSON payload"), input, "JSON payload");
    if (typeof value === "object" && value !== null && "b64" in value) {
      return { format: "json+gzip", message: await telemetryFromEnvelopeAsync(value, maxBytes) };
    }
    checkTelemetry(value);
    return { format: "json", message: value };
  }
  return decodePayload(input, options);
}

function looksLikeJson(input: Uint8Array | string): boolean {
  let i = 0;
  if (typeof input === "string") {
    if (input.charCodeAt(0) === 0xfeff) i = 1;
    while (i < input.length && isBlank(input.charCodeAt(i))) i++;
    return input.charCodeAt(i) === 0x7b;
  }
  if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3;
  while (i < input.length && isBlank(input[i]!)) i++;
  return input[i] === 0x7b;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
