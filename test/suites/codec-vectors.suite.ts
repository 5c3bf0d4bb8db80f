/**
 * The golden vectors of ../shared/vectors (an independent encoder's output): every can/N.bin
 * decodes to can/N.json and re-encodes to bytes that decode the same (plain ones byte for byte);
 * every json/N.txt decodes to json/N.json. Runners read the files and pass them in, so the suite
 * itself does no I/O: `codecVectorsSuite(h, await loadVectors(read))`.
 */
import { decodeCan, encodeCan } from "../../src/codec/can.ts";
import type { CanMessage } from "../../src/codec/can.ts";
import { decodeCompressed, encodeCompressed } from "../../src/codec/compressed.ts";
import { decodePayload } from "../../src/codec/detect.ts";
import { fromHex, toHex } from "../../src/codec/hex.ts";
import { decodeTelemetry, encodeTelemetry } from "../../src/codec/telemetry.ts";
import type { Telemetry } from "../../src/codec/telemetry.ts";
import type { Assert, Harness } from "./harness.ts";

export interface Vectors {
  can: { n: number; bin: Uint8Array; json: unknown }[];
  json: { n: number; txt: Uint8Array; json: unknown }[];
}

/** Reads vectors through `read(relativePath)` (undefined when the file does not exist). */
export async function loadVectors(read: (path: string) => Promise<Uint8Array | undefined>): Promise<Vectors> {
  const text = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown;
  const out: Vectors = { can: [], json: [] };
  for (let n = 0; ; n++) {
    const bin = await read(`can/${n}.bin`);
    const json = await read(`can/${n}.json`);
    if (!bin || !json) break;
    out.can.push({ n, bin, json: text(json) });
  }
  for (let n = 0; ; n++) {
    const txt = await read(`json/${n}.txt`);
    const json = await read(`json/${n}.json`);
    if (!txt || !json) break;
    out.json.push({ n, txt, json: text(json) });
  }
  return out;
}

/** CAN message → the vectors' JSON shape (data as lowercase hex). */
export function canToJson(m: CanMessage): unknown {
  return {
    token: m.token,
    points: m.points.map((p) => ({
      timestamp: p.timestamp,
      readings: p.readings.map((r) => ({ canId: r.canId, bus: r.bus, dlc: r.dlc, data: toHex(r.data) })),
    })),
  };
}

function canFromJson(j: { token: string; points: { timestamp: number; readings: { canId: number; bus: number; dlc: number; data: string }[] }[] }): CanMessage {
  return {
    token: j.token,
    points: j.points.map((p) => ({
      timestamp: p.timestamp,
      readings: p.readings.map((r) => ({ canId: r.canId, bus: r.bus, dlc: r.dlc, data: fromHex(r.data, "data") })),
    })),
  };
}

export function codecVectorsSuite(h: Harness, vectors: Vectors): void {
  const assert: Assert = h.assert;
  h.describe("golden vectors", () => {
    h.test("the vector set is there (40 CAN, 20 JSON)", () => {
      assert.ok(vectors.can.length >= 40, `found ${vectors.can.length} CAN vectors: is ../shared/vectors (or THINGWIRE_VECTORS) there?`);
      assert.ok(vectors.json.length >= 20, `found ${vectors.json.length} JSON vectors`);
    });

    h.test("every can/N.bin decodes to can/N.json", () => {
      for (const v of vectors.can) {
        const compressed = v.n % 3 === 0;
        assert.equal(v.bin[0] === 0xfc, compressed, `vector ${v.n}: compressed form expected for N % 3 == 0`);
        assert.deepEqual(canToJson(decodeCan(v.bin)), v.json, `can/${v.n}`);
        const p = decodePayload(v.bin);
        assert.equal(p.format, compressed ? "can+gzip" : "can", `can/${v.n} format`);
        assert.deepEqual(canToJson(p.message as CanMessage), v.json, `can/${v.n} via decodePayload`);
      }
    });

    h.test("every CAN vector re-encodes to bytes that decode the same (plain ones byte for byte)", () => {
      for (const v of vectors.can) {
        const compressed = v.n % 3 === 0;
        const again = encodeCan(decodeCan(v.bin), { compress: compressed });
        assert.deepEqual(canToJson(decodeCan(again)), v.json, `can/${v.n}`);
        if (!compressed) assert.equal(toHex(again), toHex(v.bin), `can/${v.n} bytes`);
        // and from the JSON side
        const fromJson = encodeCan(canFromJson(v.json as Parameters<typeof canFromJson>[0]));
        assert.deepEqual(canToJson(decodeCan(fromJson)), v.json, `can/${v.n} from JSON`);
      }
    });

    h.test("plain CAN readings are views into the input, not copies", () => {
      const v = vectors.can.find((x) => x.n % 3 !== 0 && (x.json as { points: { readings: unknown[] }[] }).points.some((p) => p.readings.length))!;
      const m = decodeCan(v.bin);
      const r = m.points.flatMap((p) => p.readings)[0]!;
      assert.equal(r.data.buffer, v.bin.buffer);
    });

    h.test("every json/N.txt decodes to json/N.json (even N compressed)", () => {
      for (const v of vectors.json) {
        const compressed = v.n % 2 === 0;
        const p = decodePayload(v.txt);
        assert.equal(p.format, compressed ? "json+gzip" : "json", `json/${v.n} format`);
        assert.deepEqual(p.message, v.json, `json/${v.n}`);
        const direct = compressed ? decodeCompressed(v.txt) : decodeTelemetry(v.txt);
        assert.deepEqual(direct, v.json, `json/${v.n} direct`);
        const asString = new TextDecoder().decode(v.txt);
        assert.deepEqual(decodePayload(asString).message, v.json, `json/${v.n} as a string`);
      }
    });

    h.test("every JSON vector re-encodes to a payload that decodes the same", () => {
      for (const v of vectors.json) {
        const t = v.json as Telemetry;
        assert.deepEqual(decodeTelemetry(encodeTelemetry(t)), v.json, `json/${v.n} plain`);
        assert.deepEqual(decodeCompressed(encodeCompressed(t)), v.json, `json/${v.n} compressed`);
        assert.equal(decodePayload(encodeCompressed(t)).format, "json+gzip");
      }
    });
  });
}
