/**
 * The async compressed envelope (encodeCompressedAsync / decodeCompressedAsync / decodePayloadAsync,
 * on the runtime's CompressionStream / DecompressionStream) against the sync one: each reads what
 * the other writes, every golden envelope decodes the same, and bad input fails with the same
 * ThingwireError (code, offset, path, message). The cap holds while streaming: a 100 MiB bomb is
 * stopped after about the cap. Runners pass the golden vectors when they can read them
 * (`codecCompressedAsyncSuite(h, await loadVectors(read))`); Chromium cannot reach ../shared
 * (Vite's server.fs.allow), so its runner passes none and gets json/8, embedded here, alone.
 */
import { encodeBase64 } from "../../src/codec/base64.ts";
import { decodeCompressed, encodeCompressed } from "../../src/codec/compressed.ts";
import { decodeCompressedAsync, encodeCompressedAsync } from "../../src/codec/compressed-async.ts";
import { encodeCan } from "../../src/codec/can.ts";
import { decodePayload, decodePayloadAsync } from "../../src/codec/detect.ts";
import { gzip } from "../../src/codec/gzip.ts";
import { encodeTelemetry } from "../../src/codec/telemetry.ts";
import type { Telemetry } from "../../src/codec/telemetry.ts";
import { ThingwireError } from "../../src/errors.ts";
import type { Vectors } from "./codec-vectors.suite.ts";
import type { Assert, Harness } from "./harness.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const envelopeOf = (gz: Uint8Array) => `{"b64":"${encodeBase64(gz)}"}`;
const gzOf = (envelope: Uint8Array | string) => {
  const b64 = (JSON.parse(typeof envelope === "string" ? envelope : dec(envelope)) as { b64: string }).b64;
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function telemetry(points: number): Telemetry {
  return {
    device_id: "thing-42",
    token: "secret-token-value",
    tags: [{ site: "north" }],
    points: Array.from({ length: points }, (_, p) => ({
      timestamp: 1_750_000_000_000 + p * 1000,
      tags: [{ ecu: `ecu${p % 4}` }],
      fields: [
        { name: "temperature", value: (p * 7919) % 1000 / 10 },
        { name: "state", value: p % 9 ? "ok" : "wärn ✓" },
        { name: "rpm", value: (p * 104729) % 7000 },
      ],
    })),
  };
}

/** json/8 of the golden vectors (an independent encoder: Python's gzip, non-zero mtime), for runners without the files. */
const GOLDEN_8 = {
  txt: '{"b64": "H4sIAMWfA2sC/42S7WrDIBSGbyX4uyl61ONxtzLKCI3bpDUJqQmMknuvJt1IOjr2T18f3g/wymo3+qN78zV7KfKlNCQtGLYrWGxPrslyOpR8D4QgpeLWaqUszET1cUnA65VFk8HRorZs2hVJEGJWDGjOpkOCu9Y38Rv3wV1iFbp0FZqjBaEESaStKSyuBkneXUHPipIIi+u7d+f6zjdVcPm57wLP9cbqPMxCe0rwYrANtoIrUAgID8FyjiH4CaZljtBSPQ/+HIKvffyCX+nZ45GiNVVqQ3rPQW7QtAT/swRBC0tacYFyteRZz+hC5/oqDr3jf1ZdgWYNEmnkkL5CKnOYbnvRCYBGAgAA"}',
  json: {
    device_id: "dev-783927",
    token: "tok-0.286233409954492",
    tags: [{ t7: "v9659" }, { t11: "v7250" }],
    points: [
      { timestamp: 1506921418368, tags: [{ t27: "v7683" }, { t25: "v4362" }], fields: [{ name: "rpm0", value: "ok" }] },
      {
        timestamp: 1509104246262,
        tags: [{ t23: "v8283" }, { t81: "v1534" }],
        fields: [{ name: "humidity2", value: "ok" }, { name: "humidity8", value: -5785.023 }, { name: "rpm6", value: "ok" }],
      },
      { timestamp: 1625198540163, tags: [], fields: [{ name: "temperature0", value: "ok" }, { name: "temperature7", value: 885602099 }] },
    ],
  },
};

/** What a failure looks like, for comparing the sync and async decoders. */
function shape(e: unknown): unknown {
  if (!(e instanceof ThingwireError)) return { notThingwireError: String(e) };
  return { code: e.code, offset: e.offset, path: e.path, message: e.message };
}

/** gzip of `bytes` × `times` through CompressionStream, without holding the whole input. */
async function gzipRepeated(bytes: Uint8Array, times: number): Promise<Uint8Array> {
  const cs = new CompressionStream("gzip");
  const writer = cs.writable.getWriter();
  const done = (async () => {
    for (let i = 0; i < times; i++) await writer.write(bytes as Uint8Array<ArrayBuffer>);
    await writer.close();
  })();
  const out = new Uint8Array(await new Response(cs.readable).arrayBuffer());
  await done;
  return out;
}

export function codecCompressedAsyncSuite(h: Harness, vectors?: Vectors): void {
  const assert: Assert = h.assert;

  /** Both decoders fail on `input`, with the same error (and `code`). */
  async function sameFailure(input: string | Uint8Array, code: string | string[], options: { maxBytes?: number } = {}, label = String(code)): Promise<ThingwireError> {
    let syncError: unknown;
    try {
      decodeCompressed(input, options);
    } catch (e) {
      syncError = e;
    }
    let asyncError: unknown;
    try {
      await decodeCompressedAsync(input, options);
    } catch (e) {
      asyncError = e;
    }
    assert.ok(syncError !== undefined, `${label}: the sync decoder accepted it`);
    assert.ok(asyncError !== undefined, `${label}: the async decoder accepted it`);
    assert.deepEqual(shape(asyncError), shape(syncError), `${label}: async and sync errors differ`);
    assert.ok((typeof code === "string" ? [code] : code).includes((asyncError as ThingwireError).code), `${label}: ${(asyncError as ThingwireError).code}`);
    return asyncError as ThingwireError;
  }

  h.describe("compressed envelope, async (CompressionStream / DecompressionStream)", () => {
    h.test("round trips both ways between the sync and async codecs", async () => {
      for (const points of [0, 1, 20, 2000]) {
        const t = telemetry(points);
        const a = await encodeCompressedAsync(t);
        assert.ok(dec(a).startsWith('{"b64":"H4sI'), `${points} points: envelope shape`);
        assert.deepEqual(decodeCompressed(a), t, `${points} points: async → sync`);
        assert.deepEqual(await decodeCompressedAsync(a), t, `${points} points: async → async`);
        assert.deepEqual(await decodeCompressedAsync(dec(a)), t, `${points} points: async → async, string input`);
        const s = encodeCompressed(t);
        assert.deepEqual(await decodeCompressedAsync(s), t, `${points} points: sync → async`);
        assert.deepEqual(await decodePayloadAsync(a), { format: "json+gzip", message: t }, `${points} points: decodePayloadAsync`);
      }
      // 2,000 points inflate to more than one stream chunk: the output is stitched together in order.
      assert.ok(encodeTelemetry(telemetry(2000)).length > 200_000);
    });

    h.test("levels: 6 (default) on the native stream, deterministic; other levels as encodeCompressed", async () => {
      const t = telemetry(50);
      const a = await encodeCompressedAsync(t);
      assert.deepEqual(await encodeCompressedAsync(t), a, "same bytes twice");
      assert.deepEqual(await encodeCompressedAsync(t, { level: 6 }), a);
      const gz = gzOf(a);
      assert.deepEqual([...gz.subarray(4, 8)], [0, 0, 0, 0], "mtime 0");
      for (const level of [0, 1, 9] as const) {
        assert.deepEqual(await encodeCompressedAsync(t, { level }), encodeCompressed(t, { level }), `level ${level}`);
      }
    });

    h.test("bad telemetry and bad options reject as the sync encoder throws", async () => {
      const bad = telemetry(2);
      bad.points[1]!.fields[0]!.value = Number.NaN;
      await assert.rejects(encodeCompressedAsync(bad), { code: "CODEC_SCHEMA", path: "points[1].fields[0].value" });
      await assert.rejects(encodeCompressedAsync(telemetry(1), { level: 10 as 9 }), { code: "OPTIONS_INVALID", path: "level" });
      await assert.rejects(decodeCompressedAsync(encodeCompressed(telemetry(1)), { maxBytes: -1 }), { code: "OPTIONS_INVALID", path: "maxBytes" });
      await assert.rejects(decodePayloadAsync("{}", { maxBytes: Number.NaN }), { code: "OPTIONS_INVALID", path: "maxBytes" });
    });

    h.test("an independent encoder's envelope (golden json/8, Python gzip) decodes", async () => {
      assert.deepEqual(await decodeCompressedAsync(GOLDEN_8.txt), GOLDEN_8.json);
      assert.deepEqual(await decodeCompressedAsync(enc(GOLDEN_8.txt)), decodeCompressed(GOLDEN_8.txt));
      assert.deepEqual(await decodePayloadAsync(enc(GOLDEN_8.txt)), { format: "json+gzip", message: GOLDEN_8.json });
    });

    if (vectors) {
      h.test("every golden envelope (json/N.txt, even N) decodes as json/N.json and as the sync decoder has it", async () => {
        const envelopes = vectors.json.filter((v) => v.n % 2 === 0);
        assert.ok(envelopes.length >= 10, `found ${envelopes.length} golden envelopes: is ../shared/vectors there?`);
        for (const v of envelopes) {
          const asyncValue = await decodeCompressedAsync(v.txt);
          assert.deepEqual(asyncValue, v.json, `json/${v.n}`);
          assert.deepEqual(asyncValue, decodeCompressed(v.txt), `json/${v.n}: async = sync`);
          assert.deepEqual(await decodeCompressedAsync(dec(v.txt)), v.json, `json/${v.n} as a string`);
        }
        for (const v of vectors.json) {
          const p = await decodePayloadAsync(v.txt);
          assert.deepEqual(p, decodePayload(v.txt), `json/${v.n}: decodePayloadAsync = decodePayload`);
          assert.deepEqual(p.message, v.json, `json/${v.n} via decodePayloadAsync`);
        }
      });
    }

    h.test("bad base64: CODEC_BASE64 at the character, path b64, as the sync decoder says", async () => {
      const e = await sameFailure('{"b64":"H4s*"}', "CODEC_BASE64");
      assert.equal(e.offset, 3);
      assert.equal(e.path, "b64");
      await sameFailure('{"b64":"H"}', "CODEC_BASE64", {}, "lone character");
      await sameFailure('{"b64":"QQ==QQ=="}', "CODEC_BASE64", {}, "data after padding");
    });

    h.test("envelope shape and JSON errors are the sync decoder's", async () => {
      await sameFailure('{"b64":"H4sI","x":1}', "CODEC_SCHEMA", {}, "extra key");
      await sameFailure('{"b64":5}', "CODEC_SCHEMA", {}, "b64 not a string");
      await sameFailure("[1]", "CODEC_SCHEMA", {}, "not an object");
      await sameFailure('{"b64":', "CODEC_JSON", {}, "envelope JSON cut");
      await sameFailure(envelopeOf(gzip(enc('{"device_id":'))), "CODEC_JSON", {}, "JSON inside cut");
      await sameFailure(envelopeOf(gzip(enc('{"device_id":"d","token":"t","points":[{}]}'))), "CODEC_SCHEMA", {}, "schema inside");
      await sameFailure(envelopeOf(gzip(Uint8Array.of(0x7b, 0x22, 0xff))), "CODEC_JSON", {}, "bad UTF-8 inside");
    });

    h.test("corrupt CRC-32 and corrupt length: the native decoder rejects them, CODEC_GZIP at the trailer", async () => {
      const gz = gzOf(await encodeCompressedAsync(telemetry(30)));
      const badCrc = gz.slice();
      badCrc[badCrc.length - 8]! ^= 0x01;
      const e = await sameFailure(envelopeOf(badCrc), "CODEC_GZIP", {}, "CRC");
      assert.equal(e.offset, gz.length - 8);
      assert.equal(e.path, "b64");
      assert.match(e.message, /checksum/);
      const badSize = gz.slice();
      badSize[badSize.length - 1]! ^= 0x80;
      await sameFailure(envelopeOf(badSize), "CODEC_GZIP", {}, "ISIZE");
      // and in the deflate data itself
      const badData = gz.slice();
      for (let i = 12; i < 40; i++) badData[i]! ^= 0xa5;
      await sameFailure(envelopeOf(badData), "CODEC_GZIP", {}, "corrupt deflate data");
    });

    h.test("truncated gzip: CODEC_TRUNCATED; not gzip, bad method, reserved flags: CODEC_GZIP", async () => {
      const gz = gzOf(await encodeCompressedAsync(telemetry(30)));
      for (const cut of [40, 11, 5]) {
        await sameFailure(envelopeOf(gz.subarray(0, cut)), "CODEC_TRUNCATED", {}, `cut at ${cut}`);
      }
      // cut in the trailer: depending on the bytes, an early end or a checksum/length mismatch that says "truncated"
      for (const cut of [gz.length - 12, gz.length - 4, gz.length - 1]) {
        const e = await sameFailure(envelopeOf(gz.subarray(0, cut)), ["CODEC_TRUNCATED", "CODEC_GZIP"], {}, `cut at ${cut}`);
        assert.match(e.message, /truncated|ends early/);
      }
      await sameFailure('{"b64":""}', "CODEC_GZIP", {}, "empty");
      await sameFailure('{"b64":"QUJD"}', "CODEC_GZIP", {}, "not gzip");
      const method = gz.slice();
      method[2] = 7;
      await sameFailure(envelopeOf(method), "CODEC_GZIP", {}, "method");
      const flags = gz.slice();
      flags[3] = 0x20;
      await sameFailure(envelopeOf(flags), "CODEC_GZIP", {}, "reserved flags");
    });

    h.test("bytes after the gzip stream are rejected; several gzip members are accepted, as by the sync decoder", async () => {
      const gz = gzOf(await encodeCompressedAsync(telemetry(3)));
      await sameFailure(envelopeOf(concat(gz, enc("junk"))), "CODEC_GZIP", {}, "trailing junk");
      await sameFailure(envelopeOf(concat(gz, Uint8Array.of(0x1f, 0x8b, 8, 0))), "CODEC_GZIP", {}, "trailing start of a member");
      const text = encodeTelemetry(telemetry(3));
      const cut = 57;
      const twoMembers = envelopeOf(concat(gzip(text.subarray(0, cut)), gzip(text.subarray(cut))));
      assert.deepEqual(await decodeCompressedAsync(twoMembers), decodeCompressed(twoMembers));
      assert.deepEqual(await decodeCompressedAsync(twoMembers), telemetry(3));
    });

    h.test("the cap: output above maxBytes is CODEC_TOO_LARGE; at the cap it decodes", async () => {
      const t = telemetry(40);
      const size = encodeTelemetry(t).length;
      const a = await encodeCompressedAsync(t);
      assert.deepEqual(await decodeCompressedAsync(a, { maxBytes: size }), t);
      await assert.rejects(decodeCompressedAsync(a, { maxBytes: size - 1 }), { code: "CODEC_TOO_LARGE", path: "b64" });
      await assert.rejects(decodeCompressedAsync(a, { maxBytes: 0 }), { code: "CODEC_TOO_LARGE" });
      await assert.rejects(decodePayloadAsync(a, { maxBytes: size - 1 }), { code: "CODEC_TOO_LARGE" });
      assert.deepEqual(await decodeCompressedAsync(a, { maxBytes: Infinity }), t);
    });

    h.test("a gzip bomb (100 MiB of zeros in ~100 KB) stops at a 1 MiB cap, never inflated in full", async () => {
      const bomb = envelopeOf(await gzipRepeated(new Uint8Array(1 << 20), 100));
      assert.ok(bomb.length < 200_000, `bomb envelope is ${bomb.length} bytes`);
      // Count what the decoder reads out of the native stream, and the size of each write into it
      // (a native transform inflates a whole write at once, however much that is).
      const Native = globalThis.DecompressionStream;
      let inflated = 0;
      let largestWrite = 0;
      class CountingDecompressionStream {
        readonly writable: WritableStream<BufferSource>;
        readonly readable: ReadableStream<Uint8Array>;
        constructor(format: CompressionFormat) {
          const inner = new Native(format);
          const writes = new TransformStream<BufferSource, BufferSource>({
            transform(chunk, controller) {
              largestWrite = Math.max(largestWrite, chunk.byteLength);
              controller.enqueue(chunk);
            },
          });
          writes.readable.pipeTo(inner.writable).catch(() => {});
          this.writable = writes.writable;
          this.readable = inner.readable.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              inflated += chunk.length;
              controller.enqueue(chunk);
            },
          }));
        }
      }
      globalThis.DecompressionStream = CountingDecompressionStream as unknown as typeof DecompressionStream;
      let error: unknown;
      try {
        await decodeCompressedAsync(bomb, { maxBytes: 1 << 20 });
      } catch (e) {
        error = e;
      } finally {
        globalThis.DecompressionStream = Native;
      }
      assert.ok(error instanceof ThingwireError, `expected a ThingwireError, got ${String(error)}`);
      assert.equal(error.code, "CODEC_TOO_LARGE");
      assert.equal(error.path, "b64");
      assert.match(error.message, /1048576-byte cap/);
      assert.ok(inflated > 1 << 20, `read ${inflated} bytes: the cap was not reached?`);
      assert.ok(inflated < 8 << 20, `read ${inflated} bytes out of the native stream for a 1 MiB cap`);
      // deflate inflates at most ~1032:1, so a write of 4 KiB cannot make more than ~4 MiB
      assert.ok(largestWrite > 0 && largestWrite <= 4096, `largest write into the native stream: ${largestWrite} bytes`);
      // the sync decoder says the same
      assert.throws(() => decodeCompressed(bomb, { maxBytes: 1 << 20 }), { code: "CODEC_TOO_LARGE" });
      await assert.rejects(decodePayloadAsync(bomb, { maxBytes: 1 << 20 }), { code: "CODEC_TOO_LARGE" });
    }, { timeout: 30_000 });

    h.test("mutated gzip (300 seeded cases): the async decoder gives the sync decoder's value or error", async () => {
      const t = telemetry(12);
      const gz = gzOf(await encodeCompressedAsync(t));
      let seed = 0x9e3779b9;
      const next = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 4294967296;
      };
      for (let i = 0; i < 300; i++) {
        let m = gz.slice();
        const kind = i % 3;
        if (kind === 0) m[Math.floor(next() * m.length)]! ^= 1 << Math.floor(next() * 8);
        else if (kind === 1) m = m.subarray(0, Math.floor(next() * m.length));
        else for (let k = 0; k < 4; k++) m[10 + Math.floor(next() * (m.length - 18))] = Math.floor(next() * 256);
        const input = envelopeOf(m);
        let syncResult: unknown;
        try {
          syncResult = decodeCompressed(input, { maxBytes: 1 << 20 });
        } catch (e) {
          syncResult = shape(e);
        }
        let asyncResult: unknown;
        try {
          asyncResult = await decodeCompressedAsync(input, { maxBytes: 1 << 20 });
        } catch (e) {
          asyncResult = shape(e);
        }
        assert.deepEqual(asyncResult, syncResult, `case ${i} (kind ${kind})`);
      }
    }, { timeout: 30_000 });

    h.test("decodePayloadAsync detects like decodePayload: json, json+gzip, can, can+gzip, unknown", async () => {
      const t = telemetry(2);
      const inputs: (Uint8Array | string)[] = [
        encodeTelemetry(t),
        dec(encodeTelemetry(t)),
        "\ufeff \n" + dec(encodeTelemetry(t)),
        Uint8Array.of(0xef, 0xbb, 0xbf, 0x20, ...encodeCompressed(t)),
        encodeCompressed(t),
        encodeCan({ token: "tok", points: [{ timestamp: 5, readings: [{ canId: 0x123, bus: 1, dlc: 2, data: Uint8Array.of(1, 2) }] }] }),
        encodeCan({ token: "tok", points: [{ timestamp: 5, readings: [] }] }, { compress: true }),
      ];
      for (const [i, input] of inputs.entries()) {
        assert.deepEqual(await decodePayloadAsync(input), decodePayload(input), `input ${i}`);
      }
      for (const bad of ["", "hello", new Uint8Array(0), Uint8Array.of(0, 0, 0, 9, 1), '{"b64":"H4s*"}', '{"device_id":1}']) {
        let syncError: unknown;
        try {
          decodePayload(bad);
        } catch (e) {
          syncError = e;
        }
        let asyncError: unknown;
        try {
          await decodePayloadAsync(bad);
        } catch (e) {
          asyncError = e;
        }
        assert.ok(syncError instanceof ThingwireError, `sync accepted ${String(bad)}`);
        assert.deepEqual(shape(asyncError), shape(syncError), `bad input ${JSON.stringify(typeof bad === "string" ? bad : [...bad])}`);
      }
    });
  });
}
