/**
 * Hostile input to the codecs, beyond the random fuzzing of codec-fuzz.suite.ts: gzip bombs
 * (a 17 MiB member, 1 GiB of concatenated members, a trailer claiming 4 GiB) through every entry
 * point that inflates — decodeCompressed, decodeCan with its 0xFC prefix, decodePayload — and JSON
 * nested 100,000 levels deep (also inside the gzip envelope, and through `thingwire decode`).
 * Each ends in a ThingwireError with a CODEC_* code (CODEC_TOO_LARGE with the byte offset for the
 * bombs; CODEC_JSON when the text is not JSON, CODEC_SCHEMA when it is JSON of the wrong shape),
 * never a RangeError; and inflating stops at the cap: memory grows by a small multiple of the cap,
 * not by the bomb's size.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "fflate";
import { afterAll, describe, expect, test } from "vitest";
import { decodeCan } from "../../src/codec/can.ts";
import { decodeCompressed } from "../../src/codec/compressed.ts";
import { decodePayload } from "../../src/codec/detect.ts";
import { decodeTelemetry } from "../../src/codec/telemetry.ts";
import { ThingwireError } from "../../src/errors.ts";
import { hasStackTrace } from "../helpers/cli.ts";
import { report } from "./fixtures/fault-util.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const dir = mkdtempSync(join(tmpdir(), "tw-hostile-codecs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const DEFAULT_CAP = 16 * MiB;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const envelope = (gz: Uint8Array) => new TextEncoder().encode(`{"b64":"${b64(gz)}"}`);
const canBomb = (gz: Uint8Array) => concat([new Uint8Array([0xfc]), gz]);

/** Runs `fn`, which must throw a ThingwireError; returns it with the ArrayBuffer growth during the call. */
function measure(fn: () => unknown): { error: ThingwireError; grewBytes: number } {
  gc();
  const before = process.memoryUsage().arrayBuffers;
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  const grewBytes = process.memoryUsage().arrayBuffers - before;
  if (!(caught instanceof ThingwireError)) throw new Error(`expected a ThingwireError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  return { error: caught, grewBytes };
}

describe("gzip bombs", () => {
  // One member inflating past the default cap, and 64 of them concatenated (a valid multi-member
  // gzip stream of 1.06 GiB from ~1 MiB).
  const member = gzipSync(new Uint8Array(17 * MiB), { level: 9 });
  const multi = concat(Array.from({ length: 64 }, () => member));
  // A tiny stream whose trailer claims 4 GiB: a decoder that sizes its buffer from ISIZE would try to allocate it.
  const liar = gzipSync(new TextEncoder().encode('{"device_id":"d","token":"t","points":[]}'));
  liar.set([0xff, 0xff, 0xff, 0xff], liar.length - 4);

  const cases: Array<[string, Uint8Array | string, (i: never, o?: { maxBytes?: number }) => unknown]> = [
    ["decodeCompressed, 17 MiB member", envelope(member), decodeCompressed as never],
    ["decodeCompressed, 1 GiB of members", envelope(multi), decodeCompressed as never],
    ["decodeCan 0xFC, 17 MiB member", canBomb(member), decodeCan as never],
    ["decodeCan 0xFC, 1 GiB of members", canBomb(multi), decodeCan as never],
    ["decodePayload (can+gzip), 1 GiB", canBomb(multi), decodePayload as never],
    ["decodePayload (json+gzip), 1 GiB", envelope(multi), decodePayload as never],
    ["decodePayload (json+gzip as a string), 1 GiB", new TextDecoder().decode(envelope(multi)), decodePayload as never],
  ];
  let tried = 0;
  let worstGrowth = 0;
  afterAll(() => {
    report({
      fault: "gzip bombs: 17 MiB member, 1.06 GiB of members, ISIZE claiming 4 GiB; each through decodeCompressed, decodeCan (0xFC), decodePayload; default and 1 MiB caps",
      iterations: tried,
      bound: "CODEC_TOO_LARGE (or CODEC_GZIP for the lying trailer) with a byte offset; ArrayBuffer growth < 4 × cap + 4 × input size + 8 MiB",
      measured: `largest ArrayBuffer growth during one decode: ${(worstGrowth / MiB).toFixed(1)} MiB (default cap 16 MiB)`,
    });
  });

  for (const [name, input, decode] of cases) {
    for (const cap of [undefined, MiB]) {
      test(`${name}${cap ? ", 1 MiB cap" : ", default 16 MiB cap"}: CODEC_TOO_LARGE at a byte offset, memory bounded by the cap`, () => {
        const { error, grewBytes } = measure(() => decode(input as never, cap === undefined ? undefined : { maxBytes: cap }));
        tried++;
        worstGrowth = Math.max(worstGrowth, grewBytes);
        console.log(`[measure] ${name}, cap ${cap ?? DEFAULT_CAP}: ArrayBuffers grew ${(grewBytes / MiB).toFixed(1)} MiB`);
        expect(error.code).toBe("CODEC_TOO_LARGE");
        expect(error.offset).toBeTypeOf("number");
        expect(error.message).toMatch(new RegExp(`${cap ?? DEFAULT_CAP}-byte cap`));
        // Allocation may follow the cap and the input's own size (base64 decoding, a copy), never the bomb's.
        const inputBytes = typeof input === "string" ? input.length : input.byteLength;
        expect(grewBytes).toBeLessThan(4 * (cap ?? DEFAULT_CAP) + 4 * inputBytes + 8 * MiB);
      });
    }
  }

  test("a trailer that claims 4 GiB: CODEC_GZIP at the trailer, nothing large allocated", () => {
    for (const [decode, input] of [[decodeCompressed, envelope(liar)], [decodeCan, canBomb(liar)], [decodePayload, canBomb(liar)]] as const) {
      const { error, grewBytes } = measure(() => (decode as (i: Uint8Array) => unknown)(input));
      tried++;
      expect(error.code).toBe("CODEC_GZIP");
      expect(error.message).toMatch(/checksum or length/);
      expect(grewBytes).toBeLessThan(MiB);
    }
  });
});

describe("deeply nested JSON (100,000 levels)", () => {
  const N = 100_000;
  const arrays = "[".repeat(N) + "]".repeat(N);
  const objects = '{"a":'.repeat(N) + "0" + "}".repeat(N);
  const inField = `{"device_id":"d","token":"t","points":[{"timestamp":1,"fields":[{"name":"x","value":${arrays}}]}]}`;
  const inTags = `{"device_id":"d","token":"t","tags":[{"k":${objects}}],"points":[]}`;
  const unclosed = `{"device_id":"d","token":"t","points":${"[".repeat(N)}`;
  const gz = (s: string) => envelope(gzipSync(new TextEncoder().encode(s)));
  const inputs: Array<[string, string]> = [
    ["arrays at the root", arrays],
    ["objects at the root", objects],
    ["arrays as a field value", inField],
    ["objects as a tag value", inTags],
    ["100,000 unclosed brackets", unclosed],
  ];
  const decoders: Array<[string, (i: Uint8Array | string) => unknown]> = [
    ["decodeTelemetry", (i) => decodeTelemetry(i)],
    ["decodePayload", (i) => decodePayload(i)],
    ["decodeCompressed (nested inside the gzip)", (i) => decodeCompressed(gz(typeof i === "string" ? i : new TextDecoder().decode(i)))],
    ["decodePayload (json+gzip, nested inside)", (i) => decodePayload(gz(typeof i === "string" ? i : new TextDecoder().decode(i)))],
  ];
  let tried = 0;
  afterAll(() => {
    report({
      fault: "JSON nested 100,000 levels (arrays, objects, in a field, in a tag, unclosed), as text and bytes, plain and inside gzip",
      iterations: tried,
      bound: "a ThingwireError CODEC_JSON / CODEC_SCHEMA / CODEC_UNKNOWN_FORMAT, never RangeError",
    });
  });

  for (const [what, text] of inputs) {
    test(`${what}: a CODEC_* ThingwireError from every decoder, as text and as bytes`, () => {
      for (const [name, decode] of decoders) {
        for (const input of [text, new TextEncoder().encode(text)]) {
          let caught: unknown;
          try {
            decode(input);
          } catch (e) {
            caught = e;
          }
          tried++;
          expect(caught, `${name} (${typeof input})`).toBeInstanceOf(ThingwireError);
          const e = caught as ThingwireError;
          expect(e.code, `${name}: ${e.message}`).toMatch(/^CODEC_(JSON|SCHEMA|UNKNOWN_FORMAT)$/);
          if (what.includes("unclosed") && name !== "decodePayload") expect(e.code).toBe("CODEC_JSON");
          if (e.code === "CODEC_JSON") expect(e.message).not.toMatch(/Maximum call stack|RangeError/);
        }
      }
    });
  }

  test("thingwire decode on a 100,000-level file: exit 2, a one-line error naming the path, no stack trace", () => {
    const file = join(dir, "deep.json");
    writeFileSync(file, inField);
    const root = new URL("../../", import.meta.url).pathname;
    const r = spawnSync(join(root, "node_modules/.bin/node"), ["--no-warnings", join(root, "src/cli/main.ts"), "decode", file], { encoding: "utf8", timeout: 30_000 });
    tried++;
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/points\[0\]\.fields\[0\]\.value/);
    expect(hasStackTrace(r.stderr + r.stdout)).toBe(false);
  });
});
