/**
 * The Flexconnect telemetry schema (internal): checking a parsed value, and writing a checked
 * object as JSON text with a fixed key order. The schema is closed: a key it does not name is an
 * error in both directions, so a typo (`timestmp`) fails at the device, not at the platform.
 */
import { ThingwireError } from "../errors.ts";
import type { Telemetry } from "./telemetry.ts";

const ROOT_KEYS = new Set(["device_id", "token", "tags", "points"]);
const POINT_KEYS = new Set(["timestamp", "tags", "fields"]);
const FIELD_KEYS = new Set(["name", "value"]);

type Obj = Record<string, unknown>;

function schema(path: string, expected: string): ThingwireError {
  return new ThingwireError("CODEC_SCHEMA", `${path || "(root)"}: ${expected}`, { path });
}

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Rejects keys outside `allowed`. Fast case first: when the enumerable keys number exactly the
 * `present` known ones, there is nothing else to find.
 */
function checkKeys(o: Obj, allowed: Set<string>, path: string, present: number): void {
  let count = 0;
  for (const _ in o) count++;
  if (count === present) return;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    if (!allowed.has(k)) {
      const at = path ? `${path}.${k}` : k;
      throw schema(at, `unknown key; the Flexconnect schema allows ${[...allowed].join(", ")} here`);
    }
  }
}

function checkString(v: unknown, path: string): void {
  if (typeof v !== "string") throw schema(path, "expected string");
}

function checkTags(v: unknown, path: string): void {
  if (!Array.isArray(v)) throw schema(path, "expected an array of one-key objects, as [{\"site\": \"north\"}]");
  for (let i = 0; i < v.length; i++) {
    const tag: unknown = v[i];
    const at = `${path}[${i}]`;
    if (!isObject(tag)) throw schema(at, "expected an object with one key and a string value");
    let count = 0;
    for (const k in tag) {
      if (!Object.prototype.hasOwnProperty.call(tag, k)) continue;
      if (++count > 1) throw schema(at, "a tag has exactly one key; use one array element per tag");
      checkString(tag[k], `${at}.${k}`);
    }
    if (count === 0) throw schema(at, "a tag has exactly one key, this one has none");
  }
}

/** Checks a timestamp: whole milliseconds since the epoch, 0 … 2^53 − 1. */
export function checkTimestamp(v: unknown, path: string): void {
  if (typeof v !== "number") throw schema(path, "expected a number of milliseconds since 1970-01-01T00:00:00Z");
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new ThingwireError(
      "CODEC_TIMESTAMP_RANGE",
      `${path}: expected whole milliseconds since the epoch, 0 to 2^53 - 1`,
      { path },
    );
  }
}

function checkPoint(p: unknown, path: string): void {
  if (!isObject(p)) throw schema(path, "expected an object with timestamp, tags and fields");
  checkKeys(p, POINT_KEYS, path, p.tags === undefined ? 2 : 3);
  if (!("timestamp" in p)) throw schema(`${path}.timestamp`, "missing; every point needs a timestamp");
  checkTimestamp(p.timestamp, `${path}.timestamp`);
  if (p.tags !== undefined) checkTags(p.tags, `${path}.tags`);
  const fields = p.fields;
  if (!Array.isArray(fields)) throw schema(`${path}.fields`, "expected an array of {name, value}");
  for (let i = 0; i < fields.length; i++) {
    const f: unknown = fields[i];
    const at = `${path}.fields[${i}]`;
    if (!isObject(f)) throw schema(at, "expected an object {name, value}");
    checkKeys(f, FIELD_KEYS, at, 2);
    checkString(f.name, `${at}.name`);
    const value = f.value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw schema(`${at}.value`, "expected a finite number (JSON has no NaN or Infinity)");
    } else if (typeof value !== "string") throw schema(`${at}.value`, "expected string or number");
  }
}

/** Checks that `v` is a Flexconnect telemetry object; throws `CODEC_SCHEMA` naming the first bad path. */
export function checkTelemetry(v: unknown): asserts v is Telemetry {
  if (!isObject(v)) throw schema("", "expected a JSON object with device_id, token, tags and points");
  if ("b64" in v) {
    throw schema("b64", "this is a compressed envelope; decode it with decodeCompressed or decodePayload");
  }
  checkKeys(v, ROOT_KEYS, "", v.tags === undefined ? 3 : 4);
  checkString(v.device_id, "device_id");
  checkString(v.token, "token");
  if (v.tags !== undefined) checkTags(v.tags, "tags");
  const points = v.points;
  if (!Array.isArray(points)) throw schema("points", "expected an array of points");
  for (let i = 0; i < points.length; i++) checkPoint(points[i], `points[${i}]`);
}

function writeTags(tags: readonly Record<string, string>[]): string {
  let s = "[";
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    let k = "";
    for (const key in tag) if (Object.prototype.hasOwnProperty.call(tag, key)) k = key;
    s += `${i ? "," : ""}{${JSON.stringify(k)}:${JSON.stringify(tag[k])}}`;
  }
  return s + "]";
}

/** JSON text of a checked telemetry object: fixed key order, no whitespace, no toJSON hooks. */
export function writeTelemetry(t: Telemetry): string {
  let s = `{"device_id":${JSON.stringify(t.device_id)},"token":${JSON.stringify(t.token)}`;
  if (t.tags !== undefined) s += `,"tags":${writeTags(t.tags)}`;
  s += `,"points":[`;
  for (let i = 0; i < t.points.length; i++) {
    const p = t.points[i]!;
    s += `${i ? "," : ""}{"timestamp":${p.timestamp}`;
    if (p.tags !== undefined) s += `,"tags":${writeTags(p.tags)}`;
    s += `,"fields":[`;
    for (let j = 0; j < p.fields.length; j++) {
      const f = p.fields[j]!;
      s += `${j ? "," : ""}{"name":${JSON.stringify(f.name)},"value":${typeof f.value === "number" ? String(f.value) : JSON.stringify(f.value)}}`;
    }
    s += "]}";
  }
  return s + "]}";
}
