/**
 * The one error type of thingwire. Every failure the SDK reports is a `ThingwireError`
 * with a string-literal `code`, a message that says what to do next, and where it applies
 * the byte `offset`, the field `path`, or the `line`/`column` of a text input.
 *
 * @example
 * ```ts
 * try { decodeCan(bytes); } catch (e) {
 *   if (e instanceof ThingwireError && e.code === "CODEC_TRUNCATED") console.log(e.offset);
 * }
 * ```
 */

/** Every code a `ThingwireError` can carry. */
export type ThingwireErrorCode =
  // codecs
  | "CODEC_TRUNCATED" // input ends before a field it announced
  | "CODEC_INVALID" // a field has a value the format does not allow
  | "CODEC_LENGTH_MISMATCH" // a length field disagrees with the content
  | "CODEC_BAD_DLC" // a CAN FD data length code outside 0..15
  | "CODEC_TIMESTAMP_RANGE" // a timestamp above 2^53 - 1 or negative
  | "CODEC_TOO_LARGE" // decompressed or declared size above the cap
  | "CODEC_GZIP" // gzip stream is corrupt
  | "CODEC_BASE64" // base64 text is malformed
  | "CODEC_JSON" // text is not JSON, or nested too deep
  | "CODEC_SCHEMA" // JSON is valid but not the expected shape (path says where)
  | "CODEC_UNKNOWN_FORMAT" // decodePayload could not tell the format
  | "DBC_SYNTAX" // DBC text has a syntax error (line/column say where)
  | "DBC_INVALID" // DBC is well-formed but inconsistent (signal outside frame …)
  | "DBC_UNKNOWN_MESSAGE" // no DBC message for a CAN id
  // auth
  | "AUTH_INVALID_OPTIONS" // auth options are missing or malformed
  | "AUTH_CREDENTIALS" // the credentials provider failed or returned nothing usable
  | "AUTH_REJECTED" // the broker or gateway refused the credentials
  | "AUTH_UNSUPPORTED" // this auth cannot work in this runtime (key material in a browser …)
  // connection and device
  | "OPTIONS_INVALID" // createDevice / command options are malformed
  | "CONNECT_TIMEOUT" // no CONNACK within connectTimeoutMs
  | "CONNECT_FAILED" // the transport failed (DNS, refused, TLS …)
  | "CONNECTION_LOST" // an established connection dropped
  | "DEVICE_CLOSED" // the device was closed
  | "TOPIC_INVALID" // a topic or filter breaks MQTT rules
  | "MESSAGE_TOO_LARGE" // a payload above the configured or broker limit
  | "PUBLISH_REFUSED" // the broker refused a message for good (dead-lettered)
  | "SUBSCRIBE_REFUSED" // the broker refused a subscription
  | "TIMEOUT" // an operation did not finish in time
  // store
  | "STORE_FULL" // the outbox is at its count or byte limit (policy "reject")
  | "STORE_CLOSED" // the store was closed
  | "STORE_IO" // the storage engine failed (disk full, I/O error)
  | "STORE_READONLY" // the storage is read-only
  | "STORE_CORRUPT" // the storage file is not a valid database
  | "STORE_QUOTA" // the browser storage quota is exceeded
  | "STORE_UNAVAILABLE" // the storage engine is missing in this runtime
  // cli, config, http
  | "CONFIG_INVALID" // a config key has a bad value (path says which)
  | "CONFIG_NOT_FOUND" // a config or key file cannot be read
  | "CLI_USAGE" // a command line that does not parse
  | "HTTP_FAILED"; // an HTTP collect request failed

/** Where an error applies, when it applies somewhere. */
export interface ThingwireErrorDetails {
  /** Byte offset into a binary input. */
  offset?: number;
  /** Path of the offending field, as `points[3].fields[0].value` or `thing.mqtt.host`. */
  path?: string;
  /** 1-based line of a text input (DBC, config). */
  line?: number;
  /** 1-based column of a text input. */
  column?: number;
  /** File the error is about (config, key file). */
  file?: string;
  /** HTTP status of a failed request (HTTP_FAILED). */
  status?: number;
  /** The underlying error. Never carries secrets: wrap, do not forward, errors that may. */
  cause?: unknown;
}

/**
 * An error from thingwire. `code` is stable and safe to switch on; `message` is for people.
 *
 * @example
 * ```ts
 * throw new ThingwireError("CODEC_TRUNCATED", "CAN point header needs 12 bytes, 5 remain", { offset: 17 });
 * ```
 */
export class ThingwireError extends Error {
  override readonly name = "ThingwireError";
  readonly code: ThingwireErrorCode;
  readonly offset?: number;
  readonly path?: string;
  readonly line?: number;
  readonly column?: number;
  readonly file?: string;
  readonly status?: number;

  constructor(code: ThingwireErrorCode, message: string, details: ThingwireErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.path !== undefined) this.path = details.path;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    if (details.file !== undefined) this.file = details.file;
    if (details.status !== undefined) this.status = details.status;
  }

  /** A plain object for logs and `--json` output (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    for (const k of ["offset", "path", "line", "column", "file", "status"] as const) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    return out;
  }
}

/**
 * True when `e` is a `ThingwireError`, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isThingwireError(e, "STORE_FULL")) await device.flush();
 * ```
 */
export function isThingwireError(e: unknown, code?: ThingwireErrorCode): e is ThingwireError {
  return e instanceof ThingwireError && (code === undefined || e.code === code);
}
