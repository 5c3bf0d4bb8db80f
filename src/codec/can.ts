/**
 * The Flexconnect binary CAN format. Layout (the guide's tables):
 *
 * ```
 * message  = token length (u32 BE) · token (UTF-8) · point*
 * point    = timestamp (u64 LE, ms) · readings count (u16 LE) · point length (u16 LE, incl. this 12-byte header) · reading*
 * reading  = CAN id (u32 LE) · bus << 5 | dlc (u8) · data (CAN FD length of dlc)
 * compressed = 0xFC · gzip(message)
 * ```
 *
 * @example
 * ```ts
 * const bytes = encodeCan({ token: "t0k3n", points: [{ timestamp: 1622547800000, readings: [
 *   { canId: 0x123, bus: 1, dlc: 4, data: new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]) },
 * ] }] }, { compress: true });
 * decodeCan(bytes).points[0].readings[0].canId; // 0x123
 * ```
 * @module
 */
import { ThingwireError } from "../errors.ts";
import type { CompressOptions, DecompressOptions } from "./compressed.ts";
import { readCanMessage } from "./can-read.ts";
import { writeCanMessage } from "./can-write.ts";
import { checkMaxBytes, gunzip, gzip } from "./gzip.ts";

/**
 * One CAN frame of a point.
 *
 * @example
 * ```ts
 * const r: CanReading = { canId: 0x18fef100, bus: 0, dlc: 8, data: new Uint8Array(8) };
 * ```
 */
export interface CanReading {
  /** CAN identifier, 0 … 2^32 − 1 as carried on the wire (11- or 29-bit ids; flag bits are the sender's). */
  canId: number;
  /** Bus number, 0 … 7. */
  bus: number;
  /** CAN FD data length code, 0 … 15: 0–8 are byte counts, 9…15 mean 12, 16, 20, 24, 32, 48, 64. */
  dlc: number;
  /**
   * The data, `dlcToLength(dlc)` bytes. Decoders return views into the decoded buffer (no copy),
   * so they change if that buffer does: copy with `slice()` to keep one.
   */
  data: Uint8Array;
}

/**
 * Readings taken at one time.
 *
 * @example
 * ```ts
 * const p: CanPoint = { timestamp: Date.now(), readings: [] };
 * ```
 */
export interface CanPoint {
  /** Milliseconds since 1970-01-01T00:00:00Z: a whole number, 0 to 2^53 − 1. */
  timestamp: number;
  /** At most 65,535 readings, at most 65,535 bytes with the 12-byte header. */
  readings: CanReading[];
}

/**
 * A binary CAN message.
 *
 * @example
 * ```ts
 * const m: CanMessage = { token: "t0k3n", points: [] };
 * ```
 */
export interface CanMessage {
  /** The authentication token (UTF-8 on the wire). */
  token: string;
  points: CanPoint[];
}

/**
 * Options of {@link encodeCan}.
 *
 * @example
 * ```ts
 * encodeCan(message, { compress: true, level: 9 });
 * ```
 */
export interface EncodeCanOptions extends CompressOptions {
  /** Produce the compressed form: byte 0xFC, then gzip of the message. Default false. */
  compress?: boolean;
}

const DLC_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64] as const;

/**
 * Data length in bytes of a CAN FD data length code (0 … 15); `undefined` for other codes.
 *
 * @example
 * ```ts
 * dlcToLength(13); // 32
 * ```
 */
export function dlcToLength(dlc: number): number | undefined {
  return Number.isInteger(dlc) ? DLC_LENGTHS[dlc] : undefined;
}

/**
 * The CAN FD data length code for a data length; `undefined` when no code has that length
 * (CAN FD lengths are 0–8, 12, 16, 20, 24, 32, 48, 64).
 *
 * @example
 * ```ts
 * lengthToDlc(64); // 15
 * ```
 */
export function lengthToDlc(length: number): number | undefined {
  const i = DLC_LENGTHS.indexOf(length as (typeof DLC_LENGTHS)[number]);
  return i < 0 ? undefined : i;
}

/**
 * Encodes a CAN message. Checks everything first and throws `ThingwireError` with `path`:
 * `CODEC_SCHEMA` (wrong type), `CODEC_BAD_DLC` (dlc not 0…15), `CODEC_LENGTH_MISMATCH` (data
 * length is not the dlc's), `CODEC_TIMESTAMP_RANGE`, `CODEC_TOO_LARGE` (a point above 65,535
 * bytes or readings: split it). `{ compress: true }` returns 0xFC + gzip.
 *
 * @example
 * ```ts
 * const bytes = encodeCan({ token: "t", points: [{ timestamp: 0, readings: [
 *   { canId: 0x7ff, bus: 2, dlc: 2, data: Uint8Array.of(1, 2) }] }] });
 * bytes.length; // 4 + 1 + 12 + 5 + 2 = 24
 * ```
 */
export function encodeCan(message: CanMessage, options: EncodeCanOptions = {}): Uint8Array {
  const raw = writeCanMessage(message, DLC_LENGTHS);
  if (!options.compress) return raw;
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ThingwireError("OPTIONS_INVALID", "level must be a whole number from 0 to 9", { path: "level" });
  }
  const gz = gzip(raw, level);
  const out = new Uint8Array(gz.length + 1);
  out[0] = 0xfc;
  out.set(gz, 1);
  return out;
}

/**
 * Decodes a CAN message, plain or compressed (first byte 0xFC). Any input yields a message or a
 * `ThingwireError` with a code and a byte `offset`: `CODEC_TRUNCATED`, `CODEC_LENGTH_MISMATCH`
 * (a point length that disagrees with its readings; offset of that length field),
 * `CODEC_BAD_DLC` (codes 16…31), `CODEC_TIMESTAMP_RANGE` (above 2^53 − 1), `CODEC_INVALID`
 * (token not UTF-8), and for the compressed form `CODEC_GZIP` / `CODEC_TOO_LARGE`
 * (`maxBytes`, default 16 MiB). In the compressed form, offsets of errors inside the message
 * count bytes of the decompressed message, as the error message says. `data` of each reading is
 * a view into the input (or the decompressed buffer), not a copy.
 *
 * @example
 * ```ts
 * const { token, points } = decodeCan(bytes, { maxBytes: 1 << 20 });
 * for (const p of points) for (const r of p.readings) console.log(p.timestamp, r.canId, r.data);
 * ```
 */
export function decodeCan(input: Uint8Array, options: DecompressOptions = {}): CanMessage {
  if (!(input instanceof Uint8Array)) {
    throw new ThingwireError("CODEC_INVALID", "decodeCan expects a Uint8Array", { offset: 0 });
  }
  if (input.length > 0 && input[0] === 0xfc) {
    const maxBytes = checkMaxBytes(options.maxBytes);
    const raw = gunzip(input.subarray(1), maxBytes, "compressed CAN message", 1);
    return readCanMessage(raw, " of the decompressed message", DLC_LENGTHS);
  }
  return readCanMessage(input, "", DLC_LENGTHS);
}
