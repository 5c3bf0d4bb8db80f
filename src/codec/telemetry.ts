/**
 * Flexconnect telemetry JSON: `device_id`, `token`, `tags`, and `points` of timestamped fields.
 *
 * @example
 * ```ts
 * const bytes = encodeTelemetry({
 *   device_id: "thing-42", token: "t0k3n", tags: [{ site: "north" }],
 *   points: [{ timestamp: 1622547800000, tags: [], fields: [{ name: "temperature", value: 22.5 }] }],
 * });
 * decodeTelemetry(bytes).points[0].fields[0].value; // 22.5
 * ```
 * @module
 */
import { jsonText, parseJson } from "./json-text.ts";
import { checkTelemetry, writeTelemetry } from "./telemetry-schema.ts";
import { encodeUtf8 } from "./utf8.ts";

/**
 * A tag: exactly one key with a string value.
 *
 * @example
 * ```ts
 * const tag: TelemetryTag = { site: "north" };
 * ```
 */
export type TelemetryTag = Record<string, string>;

/**
 * One measurement of a point.
 *
 * @example
 * ```ts
 * const field: TelemetryField = { name: "humidity", value: 45 };
 * ```
 */
export interface TelemetryField {
  /** The field identifier. */
  name: string;
  /** A string or a finite number. */
  value: string | number;
}

/**
 * A data point: a timestamp and its fields.
 *
 * @example
 * ```ts
 * const point: TelemetryPoint = { timestamp: Date.now(), fields: [{ name: "rpm", value: 900 }] };
 * ```
 */
export interface TelemetryPoint {
  /** Milliseconds since 1970-01-01T00:00:00Z: a whole number, 0 to 2^53 − 1. */
  timestamp: number;
  /** Tags of this point. Optional; absent stays absent through a round trip. */
  tags?: TelemetryTag[];
  fields: TelemetryField[];
}

/**
 * A Flexconnect telemetry message (the JSON format). The schema is closed: other keys are
 * rejected by both {@link encodeTelemetry} and {@link decodeTelemetry}.
 *
 * @example
 * ```ts
 * const t: Telemetry = { device_id: "thing-42", token: "t0k3n", points: [] };
 * ```
 */
export interface Telemetry {
  /** The unique identifier of the device. */
  device_id: string;
  /** The authentication token provided to the device. */
  token: string;
  /** Tags of the whole message. Optional; absent stays absent through a round trip. */
  tags?: TelemetryTag[];
  points: TelemetryPoint[];
}

/**
 * Encodes telemetry as UTF-8 JSON bytes, ready to publish. Checks the object first: a bad field
 * throws `ThingwireError` `CODEC_SCHEMA` (or `CODEC_TIMESTAMP_RANGE`) whose `path` and message
 * name it, as `points[3].fields[0].value: expected string or number`. Keys are written in a fixed
 * order with no whitespace; `-0` is written as `0`.
 *
 * @example
 * ```ts
 * const payload = encodeTelemetry({ device_id: "thing-42", token: "t0k3n", points: [] });
 * new TextDecoder().decode(payload); // '{"device_id":"thing-42","token":"t0k3n","points":[]}'
 * ```
 */
export function encodeTelemetry(telemetry: Telemetry): Uint8Array {
  checkTelemetry(telemetry);
  return encodeUtf8(writeTelemetry(telemetry));
}

/**
 * Decodes a plain (uncompressed) telemetry payload from UTF-8 bytes or a string. Errors are
 * `ThingwireError`s: `CODEC_JSON` (malformed text, with `offset`), `CODEC_SCHEMA` /
 * `CODEC_TIMESTAMP_RANGE` (with `path`). A compressed envelope `{"b64": …}` is rejected with a
 * pointer to {@link decodeCompressed}; {@link decodePayload} accepts either.
 *
 * @example
 * ```ts
 * const t = decodeTelemetry('{"device_id":"d","token":"t","points":[{"timestamp":0,"fields":[]}]}');
 * t.points.length; // 1
 * ```
 */
export function decodeTelemetry(input: Uint8Array | string): Telemetry {
  const value = parseJson(jsonText(input, "telemetry payload"), input, "telemetry payload");
  checkTelemetry(value);
  return value;
}
