/**
 * Fuzzing every decoder with fast-check: at least 100,000 inputs each (random, and mutations of
 * valid encodings: bit flips, truncation, insertion, deletion, hostile length fields, splices,
 * and for JSON, subtrees replaced by random JSON). Every input must give a value or a
 * ThingwireError with a code from the decoder's set and an offset (binary), a path (schema) or a
 * line and column (DBC); never a RangeError, another error type, or a hang. Inputs that decode
 * must re-encode consistently.
 */
import fc from "fast-check";
import { ThingwireError } from "../../src/errors.ts";
import { encodeBase64 } from "../../src/codec/base64.ts";
import { decodeCan, encodeCan } from "../../src/codec/can.ts";
import { decodeCompressed, encodeCompressed } from "../../src/codec/compressed.ts";
import { decodeDbcMessage, parseDbc } from "../../src/codec/dbc.ts";
import { decodePayload } from "../../src/codec/detect.ts";
import { gzip } from "../../src/codec/gzip.ts";
import { decodeTelemetry, encodeTelemetry } from "../../src/codec/telemetry.ts";
import type { Telemetry } from "../../src/codec/telemetry.ts";
import type { Assert, Harness } from "./harness.ts";
import { arbCanMessage, arbTelemetry } from "./codec-roundtrip.suite.ts";

/** Inputs per decoder: at least 100,000, split between random and mutated. */
export const FUZZ_RUNS = 100_000;
const SEED = 424242;

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "u16" | "u32"; at: number; value: number }
  | { kind: "splice"; other: number; at: number; from: number };

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant("u16" as const), at: fc.nat(), value: fc.constantFrom(0, 1, 11, 12, 13, 17, 0x7fff, 0xffff) }),
  fc.record({ kind: fc.constant("u32" as const), at: fc.nat(), value: fc.constantFrom(0, 1, 5, 0x7fffffff, 0x80000000, 0xffffffff) }),
  fc.record({ kind: fc.constant("splice" as const), other: fc.nat(), at: fc.nat(), from: fc.nat() }),
);
const arbMutations = fc.array(arbMutation, { minLength: 1, maxLength: 4 });

function mutate(base: Uint8Array, ms: readonly Mutation[], corpus: readonly Uint8Array[]): Uint8Array {
  let b = base;
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case "flip":
        if (at < b.length) (b = b.slice())[at]! ^= 1 << m.bit;
        break;
      case "set":
        if (at < b.length) (b = b.slice())[at] = m.value;
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "insert":
        b = Uint8Array.of(...b.subarray(0, at), ...m.bytes, ...b.subarray(at));
        break;
      case "delete":
        b = Uint8Array.of(...b.subarray(0, at), ...b.subarray(at + m.count));
        break;
      case "u16":
      case "u32": {
        const n = m.kind === "u16" ? 2 : 4;
        if (at + n > b.length) break;
        b = b.slice();
        for (let i = 0; i < n; i++) b[at + i] = Math.floor(m.value / 256 ** i) & 255;
        if (m.value !== 0 && m.at % 2 === 1) b.subarray(at, at + n).reverse(); // big- or little-endian
        break;
      }
      case "splice": {
        const other = corpus[m.other % corpus.length]!;
        const from = other.length === 0 ? 0 : m.from % other.length;
        b = Uint8Array.of(...b.subarray(0, at), ...other.subarray(from, from + 64));
        break;
      }
    }
  }
  return b;
}

/** Replaces one random node of a JSON value with `replacement` (or deletes an object member). */
function replaceNode(root: unknown, index: number, replacement: unknown, remove: boolean): unknown {
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (nodes.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) nodes.push({ parent: v as Record<string, unknown>, key: k }), walk(x);
    }
  };
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  walk(copy);
  if (nodes.length === 0) return replacement;
  const n = nodes[index % nodes.length]!;
  if (remove && !Array.isArray(n.parent)) delete (n.parent as Record<string, unknown>)[n.key as string];
  else (n.parent as Record<string, unknown>)[n.key as string] = replacement;
  return copy;
}

interface Tally {
  runs: number;
  ok: number;
  codes: Record<string, number>;
}

export function codecFuzzSuite(h: Harness, runs = FUZZ_RUNS): void {
  const assert: Assert = h.assert;
  const enc = (s: string) => new TextEncoder().encode(s);
  const randomShare = Math.floor(runs * 0.4);
  const mutatedShare = runs - randomShare;
  const opts = (numRuns: number, salt: number) => ({ numRuns: Math.ceil(numRuns), seed: SEED + salt, endOnFailure: true });

  // Corpora of valid encodings to mutate (fixed seeds: the same inputs on every run).
  const canMessages = fc.sample(arbCanMessage, { numRuns: 60, seed: SEED });
  const canCorpus = [...canMessages.map((m) => encodeCan(m)), ...canMessages.slice(0, 20).map((m) => encodeCan(m, { compress: true }))];
  const telemetries = fc.sample(arbTelemetry, { numRuns: 60, seed: SEED + 1 });
  const jsonCorpus = telemetries.map((t) => encodeTelemetry(t));
  const envelopeCorpus = telemetries.slice(0, 30).map((t) => encodeCompressed(t));
  const gzipCorpus = jsonCorpus.slice(0, 30).map((j) => gzip(j));
  const allCorpus = [...canCorpus, ...jsonCorpus, ...envelopeCorpus];

  const tally = (): Tally => ({ runs: 0, ok: 0, codes: {} });
  const report = (name: string, t: Tally) => {
    // One line per decoder: the counts for the closing report.
    console.log(`fuzz ${name}: ${t.runs} inputs, ${t.ok} decoded, errors ${JSON.stringify(t.codes)}`);
  };

  /** Runs `fn`; an error must be a ThingwireError with a known code and a location. */
  function attempt<T>(t: Tally, fn: () => T, codes: ReadonlySet<string>, where: (e: ThingwireError) => boolean): T | undefined {
    t.runs++;
    try {
      const v = fn();
      t.ok++;
      return v;
    } catch (e) {
      if (!(e instanceof ThingwireError)) throw new Error(`not a ThingwireError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      if (!codes.has(e.code)) throw new Error(`unexpected code ${e.code}: ${e.message}`);
      if (!where(e)) throw new Error(`${e.code} without a usable location: ${JSON.stringify(e.toJSON())}`);
      t.codes[e.code] = (t.codes[e.code] ?? 0) + 1;
      return undefined;
    }
  }
  const at = (len: number) => (e: ThingwireError) => Number.isInteger(e.offset) && e.offset! >= 0 && e.offset! <= len;
  const atOrPath = (len: number) => (e: ThingwireError) => at(len)(e) || (e.offset === undefined && typeof e.path === "string");

  const CAN_CODES = new Set(["CODEC_TRUNCATED", "CODEC_LENGTH_MISMATCH", "CODEC_BAD_DLC", "CODEC_TIMESTAMP_RANGE", "CODEC_INVALID", "CODEC_GZIP", "CODEC_TOO_LARGE"]);
  const JSON_CODES = new Set(["CODEC_JSON", "CODEC_SCHEMA", "CODEC_TIMESTAMP_RANGE"]);
  const ENVELOPE_CODES = new Set([...JSON_CODES, "CODEC_BASE64", "CODEC_GZIP", "CODEC_TRUNCATED", "CODEC_TOO_LARGE"]);
  const PAYLOAD_CODES = new Set([...CAN_CODES, ...ENVELOPE_CODES, "CODEC_UNKNOWN_FORMAT"]);
  const DBC_CODES = new Set(["DBC_SYNTAX", "DBC_INVALID"]);

  const checkCan = (t: Tally, b: Uint8Array) => {
    const m = attempt(t, () => decodeCan(b, { maxBytes: 1 << 20 }), CAN_CODES, at(b.length));
    if (!m) return;
    if (b[0] !== 0xfc) assert.deepEqual(encodeCan(m), b, "a plain message that decodes re-encodes to the same bytes");
    else assert.deepEqual(decodeCan(encodeCan(m, { compress: true })), m);
  };
  const checkTelemetry = (t: Tally, input: Uint8Array | string) => {
    const v = attempt(t, () => decodeTelemetry(input), JSON_CODES, atOrPath(input.length));
    if (v) assert.deepEqual(encodeTelemetry(decodeTelemetry(encodeTelemetry(v))), encodeTelemetry(v));
  };
  const checkEnvelope = (t: Tally, input: Uint8Array | string) => {
    const v = attempt(t, () => decodeCompressed(input, { maxBytes: 1 << 20 }), ENVELOPE_CODES, (e) => e.offset !== undefined || e.path !== undefined);
    if (v) assert.deepEqual(decodeCompressed(encodeCompressed(v)), decodeTelemetry(encodeTelemetry(v)));
  };
  const checkPayload = (t: Tally, input: Uint8Array | string) => {
    attempt(t, () => decodePayload(input, { maxBytes: 1 << 20 }), PAYLOAD_CODES, (e) => e.offset !== undefined || e.path !== undefined);
  };

  const jsonish = fc.string({ unit: fc.constantFrom(..."{}[]\":,-+.0123456789eEabtrufnl \\/\u00e9\ud83d"), maxLength: 60 });
  const structural = (corpus: readonly Uint8Array[]) =>
    fc.tuple(fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.boolean()).map(([i, node, value, remove]) => {
      const doc = JSON.parse(new TextDecoder().decode(corpus[i % corpus.length]!)) as unknown;
      return enc(JSON.stringify(replaceNode(doc, node, value, remove)));
    });

  h.describe(`codec fuzzing (${runs} inputs per decoder)`, () => {
    h.test("decodeCan: random and mutated bytes", () => {
      const t = tally();
      fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (b) => checkCan(t, b)), opts(randomShare / 2, 1));
      // random bytes behind a plausible header, so the point and reading parsers get exercised
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 120 }), (token, rest) => {
          checkCan(t, Uint8Array.of(0, 0, 0, token.length, ...token, ...rest));
        }),
        opts(randomShare - randomShare / 2, 2),
      );
      fc.assert(fc.property(fc.nat(), arbMutations, (i, ms) => checkCan(t, mutate(canCorpus[i % canCorpus.length]!, ms, canCorpus))), opts(mutatedShare, 3));
      report("decodeCan", t);
      assert.ok(t.runs >= runs);
    }, { timeout: 300_000 });

    h.test("decodeTelemetry: random text, mutated bytes, replaced subtrees", () => {
      const t = tally();
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkTelemetry(t, b)), opts(randomShare / 4, 4));
      fc.assert(fc.property(jsonish, (s) => checkTelemetry(t, s)), opts(randomShare / 4, 5));
      fc.assert(fc.property(fc.json({ maxDepth: 3 }), (s) => checkTelemetry(t, s)), opts(randomShare / 2, 6));
      fc.assert(fc.property(fc.nat(), arbMutations, (i, ms) => checkTelemetry(t, mutate(jsonCorpus[i % jsonCorpus.length]!, ms, jsonCorpus))), opts(mutatedShare / 2, 7));
      fc.assert(fc.property(structural(jsonCorpus), (b) => checkTelemetry(t, b)), opts(mutatedShare / 2, 8));
      report("decodeTelemetry", t);
      assert.ok(t.runs >= runs);
    }, { timeout: 300_000 });

    h.test("decodeCompressed: random envelopes, mutated envelopes, gzip and JSON inside", () => {
      const t = tally();
      const b64 = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= "), maxLength: 40 });
      fc.assert(fc.property(b64, (s) => checkEnvelope(t, `{"b64":"H4sI${s}"}`)), opts(randomShare / 2, 9));
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkEnvelope(t, b)), opts(randomShare / 4, 10));
      fc.assert(fc.property(fc.json({ maxDepth: 2 }), (s) => checkEnvelope(t, s)), opts(randomShare / 4, 11));
      fc.assert(
        fc.property(fc.nat(), arbMutations, (i, ms) => checkEnvelope(t, mutate(envelopeCorpus[i % envelopeCorpus.length]!, ms, envelopeCorpus))),
        opts(mutatedShare / 4, 12),
      );
      const wrap = (gz: Uint8Array) => `{"b64":"${encodeBase64(gz)}"}`;
      fc.assert(
        fc.property(fc.nat(), arbMutations, (i, ms) => checkEnvelope(t, wrap(mutate(gzipCorpus[i % gzipCorpus.length]!, ms, gzipCorpus)))),
        opts(mutatedShare / 2, 13),
      );
      fc.assert(
        fc.property(fc.nat(), arbMutations, (i, ms) => checkEnvelope(t, wrap(gzip(mutate(jsonCorpus[i % jsonCorpus.length]!, ms, jsonCorpus), 0)))),
        opts(mutatedShare / 4, 14),
      );
      report("decodeCompressed", t);
      assert.ok(t.runs >= runs);
    }, { timeout: 300_000 });

    h.test("decodePayload: random bytes and strings, every format mutated", () => {
      const t = tally();
      fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (b) => checkPayload(t, b)), opts(randomShare / 2, 15));
      fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => checkPayload(t, s)), opts(randomShare / 4, 16));
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkPayload(t, Uint8Array.of(0xfc, 0x1f, 0x8b, 8, ...b))), opts(randomShare / 4, 17));
      fc.assert(fc.property(fc.nat(), arbMutations, (i, ms) => checkPayload(t, mutate(allCorpus[i % allCorpus.length]!, ms, allCorpus))), opts(mutatedShare, 18));
      report("decodePayload", t);
      assert.ok(t.runs >= runs);
    }, { timeout: 300_000 });

    h.test("parseDbc: token soup and mutated DBC text; parsed files decode any frame", () => {
      const t = tally();
      const tokens = [
        "BO_ ", "SG_ ", " SG_ ", "VAL_ ", "CM_ ", "SIG_VALTYPE_ ", "BA_ ", "BU_:", "NS_ :", "VERSION ", "\n", " ", ":", "|", "@",
        "0", "1", "7", "8", "63", "64", "+", "-", "(", ")", ",", "[", "]", "\"", "\"x\"", ";", "M", "m0", "m1M", "Msg", "Sig",
        "2147483648", "4294967296", "0.1", "1E-005", "-40", "\\", "é",
      ];
      const soup = fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((a) => a.join(""));
      const seeds = [DBC_SEED, ...DBC_SEED.split("\n\n")].map((s) => enc(s));
      const checkDbc = (text: string) => {
        const dbc = attempt(t, () => parseDbc(text), DBC_CODES, (e) => Number.isInteger(e.line) && e.line! >= 1 && Number.isInteger(e.column) && e.column! >= 1);
        if (!dbc) return;
        for (const m of dbc.messages) {
          for (const data of [new Uint8Array(m.size), new Uint8Array(64).fill(0xa5), new Uint8Array(3)]) {
            const d = decodeDbcMessage(m, data, { raw: true });
            for (const v of Object.values(d.signals)) assert.equal(typeof v, "number");
          }
        }
      };
      fc.assert(fc.property(soup, (s) => checkDbc(s)), opts(randomShare / 2, 19));
      fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => checkDbc(s)), opts(randomShare / 2, 20));
      fc.assert(
        fc.property(fc.nat(), arbMutations, (i, ms) => checkDbc(new TextDecoder().decode(mutate(seeds[i % seeds.length]!, ms, seeds)))),
        opts(mutatedShare, 21),
      );
      report("parseDbc", t);
      assert.ok(t.runs >= runs);
    }, { timeout: 300_000 });
  });
}

/** A small DBC with every construct the parser knows, to mutate. */
const DBC_SEED = `VERSION "1"

NS_ :
	CM_
	VAL_

BS_:

BU_: A B

BO_ 291 Engine: 8 A
 SG_ Speed : 0|16@1+ (0.25,0) [0|16383.75] "rpm" B
 SG_ Temp : 23|12@0- (0.1,-40) [-40|215] "degC" B,A

BO_ 2566844926 Ext: 64 B
 SG_ Mux M : 0|4@1+ (1,0) [0|15] "" A
 SG_ PageA m0 : 8|64@1- (1E-005,0) [0|1] "" A
 SG_ PageB m1 : 15|32@0- (1,0) [0|1] "" A

CM_ BO_ 291 "engine \\"data\\"";
CM_ SG_ 291 Speed "speed";
BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_ "GenMsgCycleTime" BO_ 291 100;
VAL_ 291 Temp 0 "cold" -1 "fault" ;
SIG_VALTYPE_ 2566844926 PageB : 1;
`;
