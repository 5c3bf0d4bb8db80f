/**
 * Decoding a parsed compressed envelope `{"b64": ...}` on native gzip (internal: shared by
 * decodeCompressedAsync and decodePayloadAsync): envelope.ts's `telemetryFromEnvelope` with the
 * gunzip of gzip-stream.ts.
 */
import { gzipFromEnvelope, rewrap, telemetryFromJson } from "./envelope.ts";
import { gunzipAsync } from "./gzip-stream.ts";
import type { Telemetry } from "./telemetry.ts";

/** Decodes a parsed envelope value: b64 the only key, base64, capped native gunzip, then the telemetry schema. */
export async function telemetryFromEnvelopeAsync(envelope: unknown, maxBytes: number): Promise<Telemetry> {
  const gz = gzipFromEnvelope(envelope);
  let json: Uint8Array;
  try {
    json = await gunzipAsync(gz, maxBytes, "b64 (gzip data)");
  } catch (e) {
    throw rewrap(e, "");
  }
  return telemetryFromJson(json);
}
