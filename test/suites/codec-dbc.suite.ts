/**
 * DBC parsing and signal decoding, by hand-computed examples (the canmatrix cross-check in
 * test/node/dbc-crosscheck.test.ts covers random frames), and DBC errors with line and column.
 */
import { ThingwireError } from "../../src/errors.ts";
import { decodeDbcMessage, decodeSignals, findDbcMessage, parseDbc } from "../../src/codec/dbc.ts";
import type { Assert, Harness } from "./harness.ts";

const HEADER = `VERSION "t"\n\nNS_ :\n\tCM_\n\tVAL_\n\nBS_:\n\nBU_: X Y\n\n`;

const BASIC = `${HEADER}BO_ 100 Basic: 8 X
 SG_ I16 : 0|16@1+ (1,0) [0|65535] "" Y
 SG_ M16 : 23|16@0+ (1,0) [0|65535] "" Y
 SG_ M12 : 43|12@0+ (1,0) [0|4095] "" Y
 SG_ S4 : 60|4@1- (1,0) [-8|7] "" Y
 SG_ Tenth : 32|8@1+ (0.1,0) [0|25.5] "%" Y

BO_ 2566844672 J1939: 8 X
 SG_ Speed : 8|16@1+ (0.00390625,0) [0|250.996] "km/h" Y,X

BO_ 418378752 StdLooksExtended: 8 X
 SG_ A : 0|8@1+ (1,0) [0|255] "" Y

BO_ 200 Floats: 16 X
 SG_ F32 : 0|32@1- (1,0) [0|0] "" Y
 SG_ F32M : 39|32@0- (1,0) [0|0] "" Y
 SG_ F64 : 64|64@1- (1,0) [0|0] "" Y

BO_ 300 Big: 64 X
 SG_ U64 : 0|64@1+ (1,0) [0|0] "" Y
 SG_ S64M : 71|64@0- (1,0) [0|0] "" Y
 SG_ Tail : 511|8@0+ (1,0) [0|255] "" Y

BO_ 400 Muxed: 8 X
 SG_ Sel M : 0|8@1+ (1,0) [0|255] "" Y
 SG_ Always : 56|8@1+ (1,0) [0|255] "" Y
 SG_ A0 m0 : 8|16@1+ (1,0) [0|0] "" Y
 SG_ B1 m1 : 8|8@1- (2,-1) [0|0] "" Y

CM_ BO_ 100 "multi-line
comment with a \\"quote\\"";
CM_ SG_ 100 Tenth "percent";
VAL_TABLE_ Unused 0 "a" 1 "b" ;
BA_DEF_ SG_ "GenSigStartValue" INT 0 100;
VAL_ 400 Sel 0 "page zero" 1 "page one" ;
SIG_VALTYPE_ 200 F32 : 1;
SIG_VALTYPE_ 200 F32M : 1;
SIG_VALTYPE_ 200 F64 : 2;
`;

export function codecDbcSuite(h: Harness): void {
  const assert: Assert = h.assert;
  const dbcFails = (text: string, code: string, line: number, column: number, message?: RegExp) => {
    assert.throws(() => parseDbc(text), (e: unknown) => {
      if (!(e instanceof ThingwireError)) throw new Error(`expected a ThingwireError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.deepEqual([e.line, e.column], [line, column], e.message);
      if (message) assert.match(e.message, message);
      assert.match(e.message, new RegExp(`^line ${line}, column ${column}: `));
      return true;
    });
  };

  h.describe("DBC", () => {
    const dbc = parseDbc(BASIC);
    const msg = (name: string) => dbc.messages.find((m) => m.name === name)!;

    h.test("parses messages, signals, comments, value tables and value types", () => {
      assert.equal(dbc.version, "t");
      assert.deepEqual(dbc.nodes, ["X", "Y"]);
      assert.deepEqual(dbc.messages.map((m) => m.name), ["Basic", "J1939", "StdLooksExtended", "Floats", "Big", "Muxed"]);
      const basic = msg("Basic");
      assert.equal(basic.comment, 'multi-line\ncomment with a "quote"');
      assert.equal(basic.line, 11);
      const tenth = basic.signals.find((s) => s.name === "Tenth")!;
      assert.deepEqual(
        { ...tenth },
        { name: "Tenth", startBit: 32, length: 8, byteOrder: "intel", signed: false, valueType: "integer", factor: 0.1, offset: 0, min: 0, max: 25.5, unit: "%", receivers: ["Y"], multiplexer: false, comment: "percent", line: 16 },
      );
      assert.equal(basic.signals.find((s) => s.name === "M12")!.byteOrder, "motorola");
      assert.deepEqual(msg("J1939"), { ...msg("J1939"), id: 0x18fef100, extended: true });
      assert.deepEqual(msg("J1939").signals[0]!.receivers, ["Y", "X"]);
      assert.deepEqual(msg("Floats").signals.map((s) => s.valueType), ["float32", "float32", "float64"]);
      assert.deepEqual(msg("Muxed").signals.find((s) => s.name === "Sel")!.values, { "0": "page zero", "1": "page one" });
      assert.equal(msg("Muxed").signals.find((s) => s.name === "B1")!.multiplexValue, 1);
    });

    h.test("Intel and Motorola bit positions (Motorola start bit = MSB), signed values", () => {
      const data = Uint8Array.of(0x12, 0x34, 0xab, 0xcd, 0x07, 0x0f, 0xed, 0x80);
      const d = decodeSignals(dbc, 100, data, { raw: true });
      assert.equal(d.name, "Basic");
      assert.deepEqual(d.raw, { I16: 0x3412n, M16: 0xabcdn, M12: 0xfedn, S4: -8n, Tenth: 7n });
      assert.deepEqual(d.signals, { I16: 0x3412, M16: 0xabcd, M12: 0xfed, S4: -8, Tenth: 0.7 });
    });

    h.test("physical values are exact decimals rounded once (3 × 0.1 is 0.3)", () => {
      const d = decodeSignals(dbc, 100, Uint8Array.of(0, 0, 0, 0, 3, 0, 0, 0));
      assert.equal(d.signals.Tenth, 0.3);
      const s = decodeSignals(dbc, 0x80000000 | 0x18fef100, Uint8Array.of(0, 0x01, 0x32, 0, 0, 0, 0, 0));
      assert.equal(s.signals.Speed, 0x3201 * 0.00390625);
    });

    h.test("floats and doubles, both byte orders", () => {
      const data = new Uint8Array(16);
      const dv = new DataView(data.buffer);
      dv.setFloat32(0, 1.5, true);
      dv.setFloat32(4, -2.25, false);
      dv.setFloat64(8, Math.PI, true);
      const d = decodeSignals(dbc, 200, data);
      assert.deepEqual(d.signals, { F32: 1.5, F32M: -2.25, F64: Math.PI });
    });

    h.test("64-bit signals keep every bit in raw (BigInt); CAN FD 64-byte frames", () => {
      const data = new Uint8Array(64).fill(0xff);
      data[63] = 0x5a;
      const d = decodeSignals(dbc, 300, data, { raw: true });
      assert.equal(d.raw!.U64, 0xffffffffffffffffn);
      assert.equal(d.raw!.S64M, -1n);
      assert.equal(d.signals.U64, 18446744073709551615);
      assert.equal(d.signals.Tail, 0x5a);
      data.fill(0, 8, 16);
      data[8] = 0x80;
      assert.equal(decodeSignals(dbc, 300, data, { raw: true }).raw!.S64M, -(2n ** 63n));
    });

    h.test("simple multiplexing and value-table labels", () => {
      const page0 = decodeSignals(dbc, 400, Uint8Array.of(0, 0x34, 0x12, 0, 0, 0, 0, 9));
      assert.deepEqual(page0.signals, { Sel: 0, Always: 9, A0: 0x1234 });
      assert.deepEqual(page0.labels, { Sel: "page zero" });
      const page1 = decodeSignals(dbc, 400, Uint8Array.of(1, 0xff, 0, 0, 0, 0, 0, 9));
      assert.deepEqual(page1.signals, { Sel: 1, Always: 9, B1: -3 });
      const page7 = decodeSignals(dbc, 400, Uint8Array.of(7, 0xff, 0, 0, 0, 0, 0, 9));
      assert.deepEqual(page7.signals, { Sel: 7, Always: 9 });
      assert.deepEqual(page7.labels, {});
    });

    h.test("id lookup: bit 31 means extended; a plain id prefers the standard message", () => {
      assert.equal(findDbcMessage(dbc, 0x18fef100)?.name, "J1939");
      assert.equal(findDbcMessage(dbc, 0x80000000 + 0x18fef100)?.name, "J1939");
      assert.equal(findDbcMessage(dbc, 100)?.name, "Basic");
      assert.equal(findDbcMessage(dbc, 0x80000000 + 100), undefined);
      assert.equal(findDbcMessage(dbc, 0x80000000 | 0x18fef100)?.name, "J1939"); // a negative int32 from `|`
      assert.equal(findDbcMessage(dbc, 418378752)?.name, "StdLooksExtended");
      assert.throws(() => decodeSignals(dbc, 999, new Uint8Array(8)), { code: "DBC_UNKNOWN_MESSAGE" });
    });

    h.test("a frame shorter than its signals need: those are listed in missing", () => {
      const d = decodeDbcMessage(msg("Basic"), Uint8Array.of(1, 2, 3));
      assert.deepEqual(Object.keys(d.signals), ["I16"]);
      assert.deepEqual(d.missing, ["M16", "M12", "S4", "Tenth"]);
      const m = decodeDbcMessage(msg("Muxed"), new Uint8Array(0));
      assert.deepEqual(m.missing, ["Sel", "Always", "A0", "B1"]);
    });

    h.test("CRLF line ends, exponents and a BOM parse", () => {
      const text = "\ufeffBO_ 1 M: 8 X\r\n SG_ S : 0|8@1+ (1E-005,-1.5e+1) [0|1] \"\" X\r\n";
      const s = parseDbc(text).messages[0]!.signals[0]!;
      assert.deepEqual([s.factor, s.offset], [0.00001, -15]);
    });

    h.test("syntax errors name line and column", () => {
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|8@2+ (1,0) [0|1] "" X\n`, "DBC_SYNTAX", 2, 14, /byte order/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|8@1+ (1,0 [0|1] "" X\n`, "DBC_SYNTAX", 2, 22, /expected '\)'/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|8@1+ (1,0) [0|1] "unit X\n`, "DBC_SYNTAX", 2, 29, /unterminated string/);
      dbcFails(`VERSION ""\n\nFOO_ 1;\n`, "DBC_SYNTAX", 3, 1, /unknown keyword "FOO_"/);
      dbcFails(`VERSION ""\n SG_ S : 0|8@1+ (1,0) [0|1] "" X\n`, "DBC_SYNTAX", 2, 2, /outside a message/);
      dbcFails(`BO_ 1 M 8 X\n`, "DBC_SYNTAX", 1, 9, /expected ':'/);
      dbcFails(`BA_DEF_ BO_ "x" INT 0 1\n`, "DBC_SYNTAX", 1, 1, /no closing ';'/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S x : 0|8@1+ (1,0) [0|1] "" X\n`, "DBC_SYNTAX", 2, 8, /multiplex indicator/);
    });

    h.test("inconsistent files are DBC_INVALID with line and column", () => {
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 510|8@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 2, 10, /64-byte/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|65@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 2, 12);
      dbcFails(`BO_ 1 M: 65 X\n`, "DBC_INVALID", 1, 10);
      dbcFails(`BO_ 1 A: 8 X\nBO_ 1 B: 8 X\n`, "DBC_INVALID", 2, 5, /already used/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S m1M : 0|8@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 2, 8, /extended multiplexing/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ A M : 0|8@1+ (1,0) [0|1] "" X\n SG_ B M : 8|8@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 3, 6, /second multiplexor/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S m1 : 0|8@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 2, 1, /no multiplexor/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|16@1+ (1,0) [0|1] "" X\nSIG_VALTYPE_ 1 S : 1;\n`, "DBC_INVALID", 3, 20, /takes 32/);
      dbcFails(`BO_ 1 M: 8 X\nSIG_VALTYPE_ 1 T : 1;\n`, "DBC_INVALID", 2, 16, /does not define/);
      dbcFails(`BO_ 1 M: 8 X\n SG_ S : 0|8@1+ (1,0) [0|1] "" X\n SG_ S : 8|8@1+ (1,0) [0|1] "" X\n`, "DBC_INVALID", 3, 6, /already defined/);
    });

    h.test("parseDbc takes text only", () => {
      assert.throws(() => parseDbc(new Uint8Array(3) as unknown as string), { code: "DBC_SYNTAX", line: 1, column: 1 });
    });
  });
}
