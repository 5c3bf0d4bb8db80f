/**
 * Decoding a parsed compressed envelope `{"b64": ...}` (internal: shared by decodeCompressed and
 * decodePayload, which parse the JSON first, and in pieces by their async variants).
 */
import { ThingwireError } from "../errors.ts";
import { decodeBase64 } from "./base64.ts";
import { gunzip } from "./gzip.ts";
import { jsonText, parseJson } from "./json-text.ts";
import type { Telemetry } from "./telemetry.ts";
import { checkTelemetry } from "./telemetry-schema.ts";

/** Decodes a parsed envelope value: b64 the only key, base64, capped gunzip, then the telemetry schema. */
export function telemetryFromEnvelope(envelope: unknown, maxBytes: number): Telemetry {
  const gz = gzipFromEnvelope(envelope);
  let json: Uint8Array;
  try {
    json = gunzip(gz, maxBytes, "b64 (gzip data)");
  } catch (e) {
    throw rewrap(e, "");
  }
  return telemetryFromJson(json);
}

/** The gzip bytes of a parsed envelope value: checks b64 is the only key, decodes the base64. */
export function gzipFromEnvelope(envelope: unknown): Uint8Array {
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new ThingwireError("CODEC_SCHEMA", '(root): expected the compressed envelope {"b64": "..."}', { path: "" });
  }
  for (const k in envelope) {
    if (k !== "b64") {
      throw new ThingwireError("CODEC_SCHEMA", `${k}: b64 must be the only key of a compressed envelope`, { path: k });
    }
  }
  const b64 = (envelope as { b64?: unknown }).b64;
  if (typeof b64 !== "string") {
    throw new ThingwireError("CODEC_SCHEMA", "b64: expected a base64 string", { path: "b64" });
  }
  try {
    return decodeBase64(b64);
  } catch (e) {
    throw rewrap(e, "b64: ");
  }
}

/** The telemetry in decompressed envelope bytes: JSON, then the schema. */
export function telemetryFromJson(json: Uint8Array): Telemetry {
  const value = parseJson(jsonText(json, "decompressed telemetry"), json, "decompressed telemetry");
  checkTelemetry(value);
  return value;
}

/** A gzip or base64 error re-thrown with `path: "b64"` and `prefix` before its message. */
export function rewrap(e: unknown, prefix: string): unknown {
  if (!(e instanceof ThingwireError)) return e;
  const details: { path: string; offset?: number } = { path: "b64" };
  if (e.offset !== undefined) details.offset = e.offset;
  return new ThingwireError(e.code, prefix + e.message, details);
}
