/**
 * Bad input, case by case: each failure is a ThingwireError with the right code and the byte
 * offset or field path that points at the problem.
 */
import { ThingwireError } from "../../src/errors.ts";
import { decodeCan, encodeCan } from "../../src/codec/can.ts";
import type { CanMessage } from "../../src/codec/can.ts";
import { decodeCompressed, encodeCompressed } from "../../src/codec/compressed.ts";
import { decodePayload } from "../../src/codec/detect.ts";
import { crc32 } from "../../src/codec/crc32.ts";
import { gzip } from "../../src/codec/gzip.ts";
import { decodeTelemetry, encodeTelemetry } from "../../src/codec/telemetry.ts";
import type { Telemetry } from "../../src/codec/telemetry.ts";
import type { Assert, Harness } from "./harness.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

/** A plain CAN message: token "ab", one point at `ts` with the given readings (raw bytes). */
function can(readings: number[][], opts: { count?: number; length?: number; ts?: [number, number] } = {}): Uint8Array {
  const body = readings.flat();
  const length = opts.length ?? 12 + body.length;
  const count = opts.count ?? readings.length;
  const [lo, hi] = opts.ts ?? [0x10, 0];
  return bytes(
    0, 0, 0, 2, 0x61, 0x62,
    lo & 255, (lo >>> 8) & 255, (lo >>> 16) & 255, lo >>> 24, hi & 255, (hi >>> 8) & 255, (hi >>> 16) & 255, hi >>> 24,
    count & 255, count >> 8, length & 255, length >> 8,
    ...body,
  );
}

const telemetry: Telemetry = {
  device_id: "dev-1",
  token: "secret-token-value",
  tags: [{ site: "north" }],
  points: [
    { timestamp: 1622547800000, tags: [], fields: [{ name: "temperature", value: 22.5 }, { name: "state", value: "ok" }] },
  ],
};

export function codecErrorsSuite(h: Harness): void {
  const assert: Assert = h.assert;
  const fails = (fn: () => unknown, code: string, more: Record<string, unknown> = {}, message?: string) => {
    assert.throws(fn, (e: unknown) => {
      if (!(e instanceof ThingwireError)) throw new Error(`expected a ThingwireError, got ${String(e)}`);
      assert.equal(e.code, code, `${message ?? ""} ${e.message}`);
      for (const [k, v] of Object.entries(more)) {
        assert.deepEqual((e as unknown as Record<string, unknown>)[k], v, `${k} of "${e.message}"`);
      }
      return true;
    });
  };

  h.describe("binary CAN: bad input", () => {
    h.test("a well-formed message decodes; DLC codes 9..15 map to 12..64 bytes", () => {
      const m = decodeCan(can([[0x23, 1, 0, 0, (3 << 5) | 13, ...new Array(32).fill(7)]]));
      assert.equal(m.token, "ab");
      assert.equal(m.points[0]!.timestamp, 16);
      const r = m.points[0]!.readings[0]!;
      assert.deepEqual([r.canId, r.bus, r.dlc, r.data.length], [0x123, 3, 13, 32]);
    });
    h.test("DLC codes 16..31 are CODEC_BAD_DLC at the bus|dlc byte", () => {
      for (const code of [16, 21, 31]) {
        fails(() => decodeCan(can([[1, 0, 0, 0, (2 << 5) | code]])), "CODEC_BAD_DLC", { offset: 22 });
      }
    });
    h.test("a point length that disagrees with its readings is CODEC_LENGTH_MISMATCH at the length field", () => {
      const longer = can([[1, 0, 0, 0, 2, 9, 9]], { length: 20 });
      fails(() => decodeCan(Uint8Array.of(...longer, 0)), "CODEC_LENGTH_MISMATCH", { offset: 16 });
      fails(() => decodeCan(longer), "CODEC_TRUNCATED", { offset: 6 }); // the last point claims a byte that is not there
      fails(() => decodeCan(can([[1, 0, 0, 0, 2, 9, 9]], { length: 18 })), "CODEC_LENGTH_MISMATCH", { offset: 16 });
      fails(() => decodeCan(can([[1, 0, 0, 0, 2, 9, 9]], { length: 11 })), "CODEC_LENGTH_MISMATCH", { offset: 16 });
      // the count says more readings than the length holds
      fails(() => decodeCan(can([[1, 0, 0, 0, 0]], { count: 2 })), "CODEC_LENGTH_MISMATCH", { offset: 16 });
    });
    h.test("a point length beyond the input is CODEC_TRUNCATED at the point", () => {
      const b = can([[1, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]]);
      fails(() => decodeCan(b.subarray(0, b.length - 1)), "CODEC_TRUNCATED", { offset: 6 });
      fails(() => decodeCan(b.subarray(0, 10)), "CODEC_TRUNCATED", { offset: 6 });
      fails(() => decodeCan(bytes(0, 0)), "CODEC_TRUNCATED", { offset: 0 });
      fails(() => decodeCan(bytes(0, 0, 0, 9, 1, 2)), "CODEC_TRUNCATED", { offset: 0 });
      fails(() => decodeCan(bytes(0xff, 0xff, 0xff, 0xff)), "CODEC_TRUNCATED", { offset: 0 });
    });
    h.test("timestamps above 2^53 - 1 are CODEC_TIMESTAMP_RANGE, 2^53 - 1 itself decodes", () => {
      fails(() => decodeCan(can([], { ts: [0, 0x200000] })), "CODEC_TIMESTAMP_RANGE", { offset: 6 });
      fails(() => decodeCan(can([], { ts: [0, 0xffffffff] })), "CODEC_TIMESTAMP_RANGE", { offset: 6 });
      assert.equal(decodeCan(can([], { ts: [0xffffffff, 0x1fffff] })).points[0]!.timestamp, Number.MAX_SAFE_INTEGER);
    });
    h.test("a token that is not UTF-8 is CODEC_INVALID at its first bad byte", () => {
      fails(() => decodeCan(bytes(0, 0, 0, 3, 0x61, 0xc3, 0x28)), "CODEC_INVALID", { offset: 5 });
    });
    h.test("compressed CAN: corrupt, truncated and oversized gzip", () => {
      const m: CanMessage = { token: "t", points: [{ timestamp: 5, readings: [{ canId: 1, bus: 0, dlc: 8, data: new Uint8Array(8) }] }] };
      const good = encodeCan(m, { compress: true });
      assert.deepEqual(decodeCan(good), m);
      fails(() => decodeCan(bytes(0xfc)), "CODEC_GZIP", { offset: 1 });
      fails(() => decodeCan(bytes(0xfc, 1, 2, 3)), "CODEC_GZIP", { offset: 1 });
      fails(() => decodeCan(good.subarray(0, 8)), "CODEC_TRUNCATED");
      fails(() => decodeCan(good.subarray(0, good.length - 3)), "CODEC_GZIP");
      const flipped = good.slice();
      flipped[flipped.length - 6]! ^= 1; // inside the CRC-32
      fails(() => decodeCan(flipped), "CODEC_GZIP", { offset: good.length - 8 });
      const trailing = new Uint8Array(good.length + 2);
      trailing.set(good);
      fails(() => decodeCan(trailing), "CODEC_GZIP");
      // 8 zero bytes appended look like a trailer for empty output (CRC-32 of nothing is 0)
      const zeroTrailer = new Uint8Array(good.length + 8);
      zeroTrailer.set(good);
      fails(() => decodeCan(zeroTrailer), "CODEC_GZIP");
      // decompressed content errors count bytes of the decompressed message
      const inner = gzip(bytes(0, 0, 0, 9));
      const wrapped = new Uint8Array(inner.length + 1);
      wrapped[0] = 0xfc;
      wrapped.set(inner, 1);
      assert.throws(() => decodeCan(wrapped), (e: unknown) => e instanceof ThingwireError && e.code === "CODEC_TRUNCATED" && /decompressed/.test(e.message));
    });
    h.test("a forged trailer that describes only a prefix of the output is refused, not obeyed", () => {
      const text = enc(JSON.stringify({ b64: "x".repeat(200) }));
      const g = gzip(text);
      const prefix = text.subarray(0, 10);
      const forged = new Uint8Array(g.length + 8);
      forged.set(g);
      const view = new DataView(forged.buffer);
      view.setUint32(g.length, crc32(prefix), true);
      view.setUint32(g.length + 4, prefix.length, true);
      const wrapped = new Uint8Array(forged.length + 1);
      wrapped[0] = 0xfc;
      wrapped.set(forged, 1);
      fails(() => decodeCan(wrapped), "CODEC_GZIP");
    });
    h.test("a gzip bomb stops at the cap with CODEC_TOO_LARGE (default 16 MiB, configurable)", () => {
      const zeros = new Uint8Array(17 * 1024 * 1024);
      const raw = encodeCan({ token: "t", points: [] });
      zeros.set(raw);
      const gz = gzip(zeros, 9);
      const bomb = new Uint8Array(gz.length + 1);
      bomb[0] = 0xfc;
      bomb.set(gz, 1);
      assert.ok(bomb.length < 40_000, `bomb is ${bomb.length} bytes`);
      fails(() => decodeCan(bomb), "CODEC_TOO_LARGE");
      fails(() => decodePayload(bomb), "CODEC_TOO_LARGE");
      fails(() => decodeCan(encodeCan({ token: "x".repeat(2000), points: [] }, { compress: true }), { maxBytes: 1000 }), "CODEC_TOO_LARGE");
      fails(() => decodeCan(bomb, { maxBytes: -1 }), "OPTIONS_INVALID");
    }, { timeout: 30_000 });
  });

  h.describe("binary CAN: encoder checks", () => {
    const base = (): CanMessage => ({ token: "t", points: [{ timestamp: 1, readings: [{ canId: 1, bus: 0, dlc: 2, data: bytes(1, 2) }] }] });
    const mutate = (f: (m: CanMessage) => void) => {
      const m = base();
      f(m);
      return m;
    };
    h.test("each bad field is named by its path", () => {
      const r = (m: CanMessage) => m.points[0]!.readings[0]!;
      fails(() => encodeCan(mutate((m) => (r(m).dlc = 16))), "CODEC_BAD_DLC", { path: "points[0].readings[0].dlc" });
      fails(() => encodeCan(mutate((m) => (r(m).data = bytes(1)))), "CODEC_LENGTH_MISMATCH", { path: "points[0].readings[0].data" });
      fails(() => encodeCan(mutate((m) => (r(m).bus = 8))), "CODEC_SCHEMA", { path: "points[0].readings[0].bus" });
      fails(() => encodeCan(mutate((m) => (r(m).canId = 2 ** 32))), "CODEC_SCHEMA", { path: "points[0].readings[0].canId" });
      fails(() => encodeCan(mutate((m) => (m.points[0]!.timestamp = 2 ** 53))), "CODEC_TIMESTAMP_RANGE", { path: "points[0].timestamp" });
      fails(() => encodeCan(mutate((m) => (m.points[0]!.timestamp = -1))), "CODEC_TIMESTAMP_RANGE", { path: "points[0].timestamp" });
      fails(() => encodeCan(mutate((m) => (m.token = "\ud800"))), "CODEC_SCHEMA", { path: "token" });
      fails(() => encodeCan(mutate((m) => (r(m).data = [1, 2] as unknown as Uint8Array))), "CODEC_SCHEMA", { path: "points[0].readings[0].data" });
    });
    h.test("a point above 65,535 bytes is CODEC_TOO_LARGE: split it", () => {
      const reading = { canId: 1, bus: 0, dlc: 15, data: new Uint8Array(64) };
      const m: CanMessage = { token: "", points: [{ timestamp: 0, readings: new Array(1000).fill(reading) }] };
      fails(() => encodeCan(m), "CODEC_TOO_LARGE", { path: "points[0]" });
      m.points[0]!.readings.length = 949; // 12 + 949 * 69 = 65,493 bytes: fits
      assert.equal(decodeCan(encodeCan(m)).points[0]!.readings.length, 949);
    });
  });

  h.describe("telemetry JSON: bad input", () => {
    const withValue = (value: unknown) => {
      const t = structuredClone(telemetry) as unknown as { points: { fields: { value: unknown }[] }[] };
      t.points.push(t.points[0]!, t.points[0]!, structuredClone(t.points[0]!));
      t.points[3]!.fields[0]!.value = value;
      return JSON.stringify(t);
    };
    h.test("schema errors name the path of the first bad field", () => {
      fails(() => decodeTelemetry(withValue(null)), "CODEC_SCHEMA", {
        path: "points[3].fields[0].value",
        message: "points[3].fields[0].value: expected string or number",
      });
      fails(() => decodeTelemetry(withValue({})), "CODEC_SCHEMA", { path: "points[3].fields[0].value" });
      fails(() => decodeTelemetry('{"device_id":1,"token":"t","points":[]}'), "CODEC_SCHEMA", { path: "device_id" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t"}'), "CODEC_SCHEMA", { path: "points" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","points":[],"extra":1}'), "CODEC_SCHEMA", { path: "extra" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","tags":[{"a":"1","b":"2"}],"points":[]}'), "CODEC_SCHEMA", { path: "tags[0]" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","tags":[{"a":1}],"points":[]}'), "CODEC_SCHEMA", { path: "tags[0].a" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","points":[{"fields":[]}]}'), "CODEC_SCHEMA", { path: "points[0].timestamp" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","points":[{"timestamp":1.5,"fields":[]}]}'), "CODEC_TIMESTAMP_RANGE", { path: "points[0].timestamp" });
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","points":[{"timestamp":9007199254740992,"fields":[]}]}'), "CODEC_TIMESTAMP_RANGE");
      fails(() => decodeTelemetry('{"device_id":"d","token":"t","points":[{"timestamp":1,"fields":[{"name":"x","value":1e999}]}]}'), "CODEC_SCHEMA", { path: "points[0].fields[0].value" });
      fails(() => decodeTelemetry("[]"), "CODEC_SCHEMA", { path: "" });
      fails(() => decodeTelemetry('{"b64":"H4sI"}'), "CODEC_SCHEMA", { path: "b64" });
    });
    h.test("encodeTelemetry checks the same schema, and NaN / Infinity too", () => {
      const bad = structuredClone(telemetry);
      bad.points[0]!.fields[1]!.value = Number.NaN;
      fails(() => encodeTelemetry(bad), "CODEC_SCHEMA", { path: "points[0].fields[1].value" });
      fails(() => encodeCompressed(bad), "CODEC_SCHEMA", { path: "points[0].fields[1].value" });
      fails(() => encodeTelemetry({ ...telemetry, extra: 1 } as unknown as Telemetry), "CODEC_SCHEMA", { path: "extra" });
    });
    h.test("syntax errors carry the byte offset and never quote the payload", () => {
      fails(() => decodeTelemetry('{"token": "secret-token-value", x}'), "CODEC_JSON", { offset: 32 });
      fails(() => decodeTelemetry(enc('{"device_id": "é", ]')), "CODEC_JSON", { offset: 20 });
      fails(() => decodeTelemetry("\ufeff{]"), "CODEC_JSON", { offset: 2 });
      fails(() => decodeTelemetry(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x5d)), "CODEC_JSON", { offset: 4 });
      fails(() => decodeTelemetry('{"a":'), "CODEC_JSON", { offset: 5 });
      fails(() => decodeTelemetry(""), "CODEC_JSON", { offset: 0 });
      fails(() => decodeTelemetry(bytes(0x7b, 0x22, 0xff, 0x22)), "CODEC_JSON", { offset: 2 });
      assert.throws(() => decodeTelemetry('{"token": "secret-token-value", x}'), (e: unknown) => !String((e as Error).message).includes("secret"));
    });
    h.test("deep nesting is bounded: a ThingwireError, never a RangeError", () => {
      const deep = "[".repeat(200_000) + "]".repeat(200_000);
      const doc = `{"device_id":"d","token":"t","points":[{"timestamp":1,"fields":[{"name":"n","value":${deep}}]}]}`;
      assert.throws(() => decodeTelemetry(doc), (e: unknown) => e instanceof ThingwireError && (e.code === "CODEC_SCHEMA" || e.code === "CODEC_JSON"));
      assert.throws(() => decodeTelemetry("[".repeat(300_000)), (e: unknown) => e instanceof ThingwireError && e.code === "CODEC_JSON");
    });
  });

  h.describe("compressed envelope: bad input", () => {
    h.test("b64 must be the only key and a string", () => {
      fails(() => decodeCompressed('{"b64":"H4sI","x":1}'), "CODEC_SCHEMA", { path: "x" });
      fails(() => decodeCompressed('{"b64":5}'), "CODEC_SCHEMA", { path: "b64" });
      fails(() => decodeCompressed("[1]"), "CODEC_SCHEMA", { path: "" });
      fails(() => decodePayload('{"b64":"H4sI","device_id":"d"}'), "CODEC_SCHEMA");
    });
    h.test("malformed base64 is CODEC_BASE64 at the character", () => {
      fails(() => decodeCompressed('{"b64":"H4s*"}'), "CODEC_BASE64", { offset: 3, path: "b64" });
      fails(() => decodeCompressed('{"b64":"H"}'), "CODEC_BASE64", { offset: 0 });
      fails(() => decodeCompressed('{"b64":"QQ="}'), "CODEC_BASE64");
      fails(() => decodeCompressed('{"b64":"QQ==QQ=="}'), "CODEC_BASE64", { offset: 4 });
    });
    h.test("not gzip, corrupt gzip, bad JSON inside, a bomb", () => {
      fails(() => decodeCompressed('{"b64":"QUJD"}'), "CODEC_GZIP", { offset: 0, path: "b64" });
      const good = new TextDecoder().decode(encodeCompressed(telemetry));
      const b64 = (JSON.parse(good) as { b64: string }).b64;
      const cut = `{"b64":"${b64.slice(0, 24)}"}`;
      fails(() => decodeCompressed(cut), "CODEC_TRUNCATED");
      const gzJson = (s: string) => `{"b64":"${btoaBytes(gzip(enc(s)))}"}`;
      fails(() => decodeCompressed(gzJson('{"device_id":')), "CODEC_JSON", { offset: 13 });
      fails(() => decodeCompressed(gzJson('{"device_id":"d","token":"t","points":[{}]}')), "CODEC_SCHEMA", { path: "points[0].timestamp" });
      const bomb = gzJson(" ".repeat(2_000_000));
      fails(() => decodeCompressed(bomb, { maxBytes: 1_000_000 }), "CODEC_TOO_LARGE");
      fails(() => decodeCompressed(bomb), "CODEC_JSON"); // under the default cap it inflates, then is not JSON
    });
  });

  h.describe("decodePayload: detection", () => {
    h.test("tells the four formats apart; whitespace and a BOM before '{' are JSON", () => {
      assert.equal(decodePayload(encodeTelemetry(telemetry)).format, "json");
      assert.equal(decodePayload("\ufeff \n" + new TextDecoder().decode(encodeTelemetry(telemetry))).format, "json");
      assert.equal(decodePayload(bytes(0xef, 0xbb, 0xbf, 0x20, ...encodeTelemetry(telemetry))).format, "json");
      assert.equal(decodePayload(encodeCompressed(telemetry)).format, "json+gzip");
      const m: CanMessage = { token: "", points: [] };
      assert.equal(decodePayload(encodeCan(m)).format, "can");
      assert.equal(decodePayload(encodeCan(m, { compress: true })).format, "can+gzip");
    });
    h.test("what fits no format is CODEC_UNKNOWN_FORMAT at offset 0", () => {
      fails(() => decodePayload(new Uint8Array(0)), "CODEC_UNKNOWN_FORMAT", { offset: 0 });
      fails(() => decodePayload(""), "CODEC_UNKNOWN_FORMAT", { offset: 0 });
      fails(() => decodePayload("hello"), "CODEC_UNKNOWN_FORMAT", { offset: 0 });
      fails(() => decodePayload(enc("hello")), "CODEC_UNKNOWN_FORMAT", { offset: 0 });
      fails(() => decodePayload(bytes(0, 0)), "CODEC_UNKNOWN_FORMAT", { offset: 0 });
    });
    h.test("a payload that fits a format reports that format's error", () => {
      fails(() => decodePayload(enc('{"device_id": }')), "CODEC_JSON", { offset: 14 });
      fails(() => decodePayload(can([[1, 0, 0, 0, 31]])), "CODEC_BAD_DLC", { offset: 22 });
      fails(() => decodePayload(bytes(0xfc, 0x1f, 0x8b)), "CODEC_TRUNCATED");
    });
  });
}

function btoaBytes(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
