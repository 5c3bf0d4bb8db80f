/**
 * Property-based round trips (fast-check) for every codec: random valid messages encode and
 * decode back to themselves, in every format, and decodePayload tells the formats apart. Also
 * exports the arbitraries the fuzz suite mutates.
 */
import fc from "fast-check";
import { decodeBase64, decodeBase64Portable, encodeBase64, encodeBase64Portable } from "../../src/codec/base64.ts";
import { decodeCan, dlcToLength, encodeCan, lengthToDlc } from "../../src/codec/can.ts";
import type { CanMessage, CanReading } from "../../src/codec/can.ts";
import { decodeCompressed, encodeCompressed } from "../../src/codec/compressed.ts";
import { crc32 } from "../../src/codec/crc32.ts";
import type { GzipLevel } from "../../src/codec/compressed.ts";
import { decodePayload } from "../../src/codec/detect.ts";
import { gunzip, gzip } from "../../src/codec/gzip.ts";
import { decodeTelemetry, encodeTelemetry } from "../../src/codec/telemetry.ts";
import type { Telemetry, TelemetryTag } from "../../src/codec/telemetry.ts";
import type { Assert, Harness } from "./harness.ts";

const DLC_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/** A random valid CAN reading. */
export const arbReading: fc.Arbitrary<CanReading> = fc.integer({ min: 0, max: 15 }).chain((dlc) =>
  fc.record({
    canId: fc.oneof(fc.integer({ min: 0, max: 0x7ff }), fc.integer({ min: 0, max: 0xffffffff })),
    bus: fc.integer({ min: 0, max: 7 }),
    dlc: fc.constant(dlc),
    data: fc.uint8Array({ minLength: DLC_LENGTHS[dlc]!, maxLength: DLC_LENGTHS[dlc]! }),
  }, { noNullPrototype: true })
);

/** A random valid CAN message (tokens of any code points, timestamps up to 2^53 − 1). */
export const arbCanMessage: fc.Arbitrary<CanMessage> = fc.record({
  token: fc.string({ unit: "binary", maxLength: 40 }),
  points: fc.array(
    fc.record({
      timestamp: fc.oneof(fc.maxSafeNat(), fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 })),
      readings: fc.array(arbReading, { maxLength: 6 }),
    }, { noNullPrototype: true }),
    { maxLength: 5 },
  ),
}, { noNullPrototype: true });

/** Strings of any UTF-16 code units, lone surrogates included (JSON carries them). */
const anyText = (maxLength = 12) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength }),
  );

const arbTags: fc.Arbitrary<TelemetryTag[]> = fc.array(
  fc.tuple(anyText(), anyText()).map(([k, v]) => ({ [k]: v })),
  { maxLength: 3 },
);

const arbValue = fc.oneof(
  anyText(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
);

/** A random valid telemetry object (tags present or absent at both levels). */
export const arbTelemetry: fc.Arbitrary<Telemetry> = fc.record(
  {
    device_id: anyText(),
    token: anyText(),
    tags: arbTags,
    points: fc.array(
      fc.record(
        {
          timestamp: fc.oneof(fc.maxSafeNat(), fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 })),
          tags: arbTags,
          fields: fc.array(fc.record({ name: anyText(), value: arbValue }, { noNullPrototype: true }), { maxLength: 5 }),
        },
        { requiredKeys: ["timestamp", "fields"], noNullPrototype: true },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: ["device_id", "token", "points"], noNullPrototype: true },
);

const arbLevel = fc.integer({ min: 0, max: 9 }) as fc.Arbitrary<GzipLevel>;

export function codecRoundtripSuite(h: Harness): void {
  const assert: Assert = h.assert;
  const runs = (n: number) => ({ numRuns: n, seed: 20261101 });

  h.describe("codec round trips (fast-check)", () => {
    h.test("CRC-32 agrees with the bitwise definition at every length, offset and starting value", () => {
      const bitwise = (data: Uint8Array, crc = 0) => {
        let c = ~crc;
        for (const byte of data) {
          c ^= byte;
          for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        return ~c >>> 0;
      };
      assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
      assert.equal(crc32(new Uint8Array(0)), 0);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.nat(0xffffffff), (data, offset, start) => {
          const view = data.subarray(Math.min(offset, data.length));
          assert.equal(crc32(view, start), bitwise(view, start));
          // continuing over two pieces equals one pass over the whole
          const cut = view.length >> 1;
          assert.equal(crc32(view.subarray(cut), crc32(view.subarray(0, cut))), crc32(view));
        }),
        runs(500),
      );
    });

    h.test("CAN: decode(encode(m)) is m, and encode(decode(bytes)) is bytes", () => {
      fc.assert(
        fc.property(arbCanMessage, (m) => {
          const bytes = encodeCan(m);
          assert.deepEqual(decodeCan(bytes), m);
          assert.deepEqual(encodeCan(decodeCan(bytes)), bytes);
          assert.equal(decodePayload(bytes).format, "can");
        }),
        runs(600),
      );
    }, { timeout: 60_000 });

    h.test("compressed CAN: 0xFC + gzip round trips at every level", () => {
      fc.assert(
        fc.property(arbCanMessage, arbLevel, (m, level) => {
          const bytes = encodeCan(m, { compress: true, level });
          assert.equal(bytes[0], 0xfc);
          assert.deepEqual(decodeCan(bytes), m);
          const p = decodePayload(bytes);
          assert.equal(p.format, "can+gzip");
          assert.deepEqual(p.message, m);
        }),
        runs(250),
      );
    }, { timeout: 60_000 });

    h.test("telemetry JSON: decode(encode(t)) is t, from bytes and from a string", () => {
      fc.assert(
        fc.property(arbTelemetry, (t) => {
          const bytes = encodeTelemetry(t);
          assert.deepEqual(decodeTelemetry(bytes), t);
          assert.deepEqual(decodeTelemetry(new TextDecoder().decode(bytes)), t);
          const p = decodePayload(bytes);
          assert.equal(p.format, "json");
          assert.deepEqual(p.message, t);
        }),
        runs(600),
      );
    }, { timeout: 60_000 });

    h.test("compressed envelope: {\"b64\"} is the only key and round trips", () => {
      fc.assert(
        fc.property(arbTelemetry, arbLevel, (t, level) => {
          const bytes = encodeCompressed(t, { level });
          const envelope = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
          assert.deepEqual(Object.keys(envelope), ["b64"]);
          assert.deepEqual(decodeCompressed(bytes), t);
          const p = decodePayload(bytes);
          assert.equal(p.format, "json+gzip");
          assert.deepEqual(p.message, t);
        }),
        runs(250),
      );
    }, { timeout: 60_000 });

    h.test("encoders are deterministic (gzip mtime 0)", () => {
      fc.assert(
        fc.property(arbTelemetry, arbCanMessage, (t, m) => {
          assert.deepEqual(encodeCompressed(t), encodeCompressed(t));
          assert.deepEqual(encodeCan(m, { compress: true }), encodeCan(m, { compress: true }));
        }),
        runs(50),
      );
    });

    h.test("dlcToLength / lengthToDlc are inverse on 0..15", () => {
      for (let dlc = 0; dlc < 16; dlc++) assert.equal(lengthToDlc(dlcToLength(dlc)!), dlc);
      assert.equal(dlcToLength(16), undefined);
      assert.equal(lengthToDlc(9), undefined);
      assert.deepEqual([9, 10, 11, 12, 13, 14, 15].map((d) => dlcToLength(d)), [12, 16, 20, 24, 32, 48, 64]);
    });

    h.test("gzip: gunzip(gzip(x)) is x; concatenated members decode to the concatenation", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 300 }), arbLevel, (a, b, level) => {
          assert.deepEqual(gunzip(gzip(a, level), Infinity, "x"), a);
          const ga = gzip(a, level);
          const gb = gzip(b);
          const both = new Uint8Array(ga.length + gb.length);
          both.set(ga);
          both.set(gb, ga.length);
          const joined = new Uint8Array(a.length + b.length);
          joined.set(a);
          joined.set(b, a.length);
          assert.deepEqual(gunzip(both, Infinity, "x"), joined);
        }),
        runs(200),
      );
    }, { timeout: 60_000 });

    h.test("base64: the portable and the runtime's codec agree, both ways", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
          const text = encodeBase64Portable(b);
          assert.equal(encodeBase64(b), text);
          assert.deepEqual(decodeBase64Portable(text), b);
          assert.deepEqual(decodeBase64(text), b);
        }),
        runs(1000),
      );
      // Arbitrary text over the alphabet, padding and whitespace: same verdict, same bytes.
      const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \n\t-_";
      const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom(...chars), maxLength: 16 }), (s) => {
          let portable: Uint8Array | string;
          try {
            portable = decodeBase64Portable(s);
          } catch (e) {
            portable = (e as { code?: string }).code ?? "?";
          }
          let viaApi: Uint8Array | string;
          try {
            viaApi = decodeBase64(s);
          } catch (e) {
            viaApi = (e as { code?: string }).code ?? "?";
          }
          assert.deepEqual(viaApi, portable, JSON.stringify(s));
          if (native) {
            let n: Uint8Array | string;
            try {
              n = native(s);
            } catch {
              n = "CODEC_BASE64";
            }
            assert.deepEqual(n instanceof Uint8Array ? new Uint8Array(n) : n, portable instanceof Uint8Array ? new Uint8Array(portable) : portable, JSON.stringify(s));
          }
        }),
        runs(5000),
      );
    }, { timeout: 60_000 });
  });
}
