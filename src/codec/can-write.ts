/**
 * The binary CAN writer (internal; the public entry is `encodeCan` in can.ts): one pass checks
 * and sizes, a second writes into a buffer of exactly that size.
 */
import { ThingwireError, type ThingwireErrorCode } from "../errors.ts";
import type { CanMessage } from "./can.ts";
import { checkTimestamp } from "./telemetry-schema.ts";
import { encodeUtf8 } from "./utf8.ts";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function bad(code: ThingwireErrorCode, path: string, message: string): ThingwireError {
  return new ThingwireError(code, `${path}: ${message}`, { path });
}

function uint(v: unknown, max: number, path: string, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw bad("CODEC_SCHEMA", path, `expected ${what}, a whole number from 0 to ${max}`);
  }
  return v;
}

/** Checks `message` and writes it in the plain binary form. */
export function writeCanMessage(message: CanMessage, lengths: readonly number[]): Uint8Array {
  if (typeof message !== "object" || message === null) throw bad("CODEC_SCHEMA", "", "expected a CAN message {token, points}");
  const { token, points } = message;
  if (typeof token !== "string") throw bad("CODEC_SCHEMA", "token", "expected string");
  if (LONE_SURROGATE.test(token)) throw bad("CODEC_SCHEMA", "token", "contains a lone surrogate, which UTF-8 cannot carry");
  if (!Array.isArray(points)) throw bad("CODEC_SCHEMA", "points", "expected an array of points");
  const tokenBytes = encodeUtf8(token);
  let total = 4 + tokenBytes.length;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const at = `points[${i}]`;
    if (typeof p !== "object" || p === null) throw bad("CODEC_SCHEMA", at, "expected a point {timestamp, readings}");
    checkTimestamp(p.timestamp, `${at}.timestamp`);
    const readings = p.readings;
    if (!Array.isArray(readings)) throw bad("CODEC_SCHEMA", `${at}.readings`, "expected an array of readings");
    if (readings.length > 0xffff) {
      throw bad("CODEC_TOO_LARGE", `${at}.readings`, `${readings.length} readings, a point holds at most 65535: split it`);
    }
    let size = 12;
    for (let j = 0; j < readings.length; j++) {
      const r = readings[j];
      const rat = `${at}.readings[${j}]`;
      if (typeof r !== "object" || r === null) throw bad("CODEC_SCHEMA", rat, "expected a reading {canId, bus, dlc, data}");
      uint(r.canId, 0xffffffff, `${rat}.canId`, "a CAN id");
      uint(r.bus, 7, `${rat}.bus`, "a bus number");
      const dlc = r.dlc;
      if (typeof dlc !== "number" || !Number.isInteger(dlc)) throw bad("CODEC_SCHEMA", `${rat}.dlc`, "expected a data length code 0-15");
      const length = lengths[dlc];
      if (length === undefined) throw bad("CODEC_BAD_DLC", `${rat}.dlc`, `${dlc} is not a CAN FD data length code (0-15)`);
      if (!(r.data instanceof Uint8Array)) throw bad("CODEC_SCHEMA", `${rat}.data`, "expected a Uint8Array");
      if (r.data.length !== length) {
        throw bad("CODEC_LENGTH_MISMATCH", `${rat}.data`, `dlc ${dlc} means ${length} bytes, data has ${r.data.length}`);
      }
      size += 5 + length;
    }
    if (size > 0xffff) throw bad("CODEC_TOO_LARGE", at, `the point takes ${size} bytes, at most 65535 fit its length field: split it`);
    total += size;
  }

  const out = new Uint8Array(total);
  const n = tokenBytes.length;
  out[0] = n >>> 24;
  out[1] = n >>> 16;
  out[2] = n >>> 8;
  out[3] = n;
  out.set(tokenBytes, 4);
  let pos = 4 + n;
  for (const p of points) {
    const t = p.timestamp;
    const lo = t >>> 0;
    const hi = Math.floor(t / 4294967296);
    out[pos] = lo;
    out[pos + 1] = lo >>> 8;
    out[pos + 2] = lo >>> 16;
    out[pos + 3] = lo >>> 24;
    out[pos + 4] = hi;
    out[pos + 5] = hi >>> 8;
    out[pos + 6] = hi >>> 16;
    out[pos + 7] = 0;
    const start = pos;
    const count = p.readings.length;
    out[pos + 8] = count;
    out[pos + 9] = count >>> 8;
    pos += 12;
    for (const r of p.readings) {
      const id = r.canId;
      out[pos] = id;
      out[pos + 1] = id >>> 8;
      out[pos + 2] = id >>> 16;
      out[pos + 3] = id >>> 24;
      out[pos + 4] = (r.bus << 5) | r.dlc;
      out.set(r.data, pos + 5);
      pos += 5 + r.data.length;
    }
    const length = pos - start;
    out[start + 10] = length;
    out[start + 11] = length >>> 8;
  }
  return out;
}
