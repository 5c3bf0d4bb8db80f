/**
 * thingwire's DBC decoder against canmatrix, to the last bit: every frame of
 * test/fixtures/dbc/expected.json (made by scripts/make-dbc-fixtures.py from vehicle.dbc) must
 * decode to the same signals, the same raw integers (compared as BigInt), the same physical
 * doubles (===, NaN matching NaN) and the same value-table labels.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "vitest";
import { decodeSignals, findDbcMessage, parseDbc } from "../../src/codec/dbc.ts";
import { fromHex } from "../../src/codec/hex.ts";

interface Expected {
  signalValues: number;
  frames: { message: string; canId: number; data: string; signals: Record<string, { raw: string; phys: string; label?: string }> }[];
}

const dir = new URL("../fixtures/dbc/", import.meta.url);
const dbc = parseDbc(readFileSync(new URL("vehicle.dbc", dir), "utf8"));
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8")) as Expected;

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

describe("DBC cross-check against canmatrix", () => {
  test("the fixture covers every message and every signal of vehicle.dbc", () => {
    for (const m of dbc.messages) {
      const frames = expected.frames.filter((f) => f.message === m.name);
      assert.ok(frames.length >= 60, `${m.name}: ${frames.length} frames`);
      for (const s of m.signals) {
        assert.ok(frames.some((f) => s.name in f.signals), `${m.name}.${s.name} is never decoded`);
      }
    }
    const kinds = dbc.messages.flatMap((m) => m.signals);
    assert.ok(kinds.some((s) => s.byteOrder === "motorola" && s.signed));
    assert.ok(kinds.some((s) => s.valueType === "float32" && s.byteOrder === "motorola"));
    assert.ok(kinds.some((s) => s.valueType === "float64" && s.byteOrder === "intel"));
    assert.ok(kinds.some((s) => s.length === 64 && s.valueType === "integer" && !s.signed));
    assert.ok(dbc.messages.some((m) => m.extended) && dbc.messages.some((m) => m.size === 64));
  });

  test("every signal value agrees to the last bit", () => {
    let compared = 0;
    for (const f of expected.frames) {
      const where = `${f.message} ${f.data}`;
      assert.equal(findDbcMessage(dbc, f.canId)?.name, f.message, where);
      const got = decodeSignals(dbc, f.canId, fromHex(f.data, "data"), { raw: true });
      assert.equal(got.missing, undefined, where);
      assert.deepEqual(Object.keys(got.signals).sort(), Object.keys(f.signals).sort(), where);
      for (const [name, e] of Object.entries(f.signals)) {
        const raw = got.raw![name]!;
        if (typeof raw === "bigint") assert.equal(raw, BigInt(e.raw), `${where} ${name} raw`);
        else assert.ok(same(raw, Number(e.raw)), `${where} ${name} raw ${raw} != ${e.raw}`);
        const phys = got.signals[name]!;
        assert.ok(same(phys, Number(e.phys)), `${where} ${name} phys ${phys} != ${e.phys}`);
        assert.equal(got.labels[name], e.label, `${where} ${name} label`);
        compared++;
      }
    }
    assert.equal(compared, expected.signalValues);
  });
});
