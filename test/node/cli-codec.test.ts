/**
 * `thingwire decode` and `thingwire encode` as child processes: `node src/cli/main.ts` (Node 24
 * strips the types) and `deno run` with the narrowest permissions that work: none at all for
 * standard input, `--allow-read=<the files>` for file arguments.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, test } from "vitest";
import { decodeCan, encodeCan } from "../../src/codec/can.ts";
import { decodeSignals, parseDbc } from "../../src/codec/dbc.ts";
import { toHex } from "../../src/codec/hex.ts";

const root = new URL("../../", import.meta.url).pathname;
const main = join(root, "src/cli/main.ts");
const node = join(root, "node_modules/.bin/node");
const deno = join(root, "node_modules/.bin/deno");
const vectors = process.env.THINGWIRE_VECTORS ?? new URL("../../../shared/vectors/", import.meta.url).pathname;
const dbcPath = join(root, "test/fixtures/dbc/vehicle.dbc");
const tmp = mkdtempSync(join(tmpdir(), "thingwire-cli-codec-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(runtime: "node" | "deno", args: string[], input?: Uint8Array | string, denoFlags: string[] = []): Run {
  const [cmd, pre] = runtime === "node" ? [node, [main]] : [deno, ["run", "--no-prompt", ...denoFlags, main]];
  const r = spawnSync(cmd, [...pre, ...args], { cwd: root, input: input ?? "", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
const json = (r: Run) => JSON.parse(r.stdout.toString()) as { format: string; message: unknown };
const vector = (path: string) => new Uint8Array(readFileSync(join(vectors, path)));
const vectorJson = (path: string) => JSON.parse(readFileSync(join(vectors, path), "utf8")) as unknown;

describe("thingwire decode / encode under Node", () => {
  test("decode prints format and message in the vectors' JSON shape, from a file and from stdin", () => {
    for (const [file, format] of [["can/1.bin", "can"], ["can/3.bin", "can+gzip"], ["json/1.txt", "json"], ["json/2.txt", "json+gzip"]] as const) {
      const expected = vectorJson(file.replace(/\.(bin|txt)$/, ".json"));
      const fromFile = run("node", ["decode", join(vectors, file)]);
      assert.equal(fromFile.status, 0, fromFile.stderr);
      assert.deepEqual(json(fromFile), { format, message: expected });
      const fromStdin = run("node", ["decode", "--json"], vector(file));
      assert.equal(fromStdin.status, 0, fromStdin.stderr);
      assert.equal(fromStdin.stdout.toString().trim().split("\n").length, 1, "--json prints one line");
      assert.deepEqual(json(fromStdin), { format, message: expected });
    }
  }, 60_000);

  test("decode --dbc adds name, signals and labels to the readings the DBC knows", () => {
    const dbc = parseDbc(readFileSync(dbcPath, "utf8"));
    const message = {
      token: "t",
      points: [{
        timestamp: 5,
        readings: [
          { canId: 291, bus: 1, dlc: 8, data: Uint8Array.of(0x10, 0x27, 0, 0xfe, 0x12, 0x34, 0x56, 0x78) },
          { canId: 0x98fef1fe, bus: 2, dlc: 8, data: Uint8Array.of(0xff, 1, 2, 3, 4, 5, 6, 0x0f) },
          { canId: 1536, bus: 0, dlc: 15, data: new Uint8Array(64).fill(0x33) },
          { canId: 7, bus: 0, dlc: 1, data: Uint8Array.of(0) },
        ],
      }],
    };
    const file = join(tmp, "frames.bin");
    writeFileSync(file, encodeCan(message, { compress: true }));
    const r = run("node", ["decode", file, "--dbc", dbcPath]);
    assert.equal(r.status, 0, r.stderr);
    const out = json(r) as { format: string; message: { points: { readings: Record<string, unknown>[] }[] } };
    assert.equal(out.format, "can+gzip");
    const readings = out.message.points[0]!.readings;
    for (const [i, reading] of message.points[0]!.readings.entries()) {
      const got = readings[i]!;
      assert.equal(got.data, toHex(reading.data));
      if (reading.canId === 7) {
        assert.deepEqual(Object.keys(got), ["canId", "bus", "dlc", "data"]);
        continue;
      }
      const d = decodeSignals(dbc, reading.canId, reading.data);
      assert.equal(got.name, d.name);
      assert.deepEqual(got.signals, JSON.parse(JSON.stringify(d.signals)));
    }
    assert.deepEqual(readings[0]!.labels, { Gear: "Reverse" });
    assert.deepEqual(readings[1]!.labels, { ExtByte0: "Minus one" });
  }, 60_000);

  test("encode is decode's inverse: plain CAN byte for byte, the other formats value for value", () => {
    const plain = vector("can/1.bin");
    const decoded = run("node", ["decode", join(vectors, "can/1.bin")]);
    const again = run("node", ["encode"], decoded.stdout);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(new Uint8Array(again.stdout), plain);
    for (const [file, format] of [["can/3.bin", "can+gzip"], ["json/2.txt", "json+gzip"], ["json/1.txt", "json"]]) {
      const expected = vectorJson(file!.replace(/\.(bin|txt)$/, ".json"));
      const encoded = run("node", ["encode", "--format", format!], JSON.stringify(expected));
      assert.equal(encoded.status, 0, encoded.stderr);
      const back = run("node", ["decode"], encoded.stdout);
      assert.deepEqual(json(back), { format, message: expected });
    }
    // dlc may be left out: it follows from the data length
    const r = run("node", ["encode", "--format", "can"], JSON.stringify({ token: "", points: [{ timestamp: 1, readings: [{ canId: 1, bus: 0, data: "00".repeat(12) }] }] }));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(decodeCan(new Uint8Array(r.stdout)).points[0]!.readings[0]!.dlc, 9);
  }, 60_000);

  test("bad input exits 2 with the error's offset, path or line", () => {
    const badDlc = Uint8Array.of(0, 0, 0, 2, 0x61, 0x62, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 17, 0, 1, 0, 0, 0, 0x3f);
    let r = run("node", ["decode"], badDlc);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^thingwire decode: data length code 31 is not a CAN FD code \(0-15\) \(at byte 22\)\n$/);
    r = run("node", ["decode", "--json"], badDlc);
    assert.equal(r.status, 2);
    assert.deepEqual(JSON.parse(r.stdout.toString()).error, { code: "CODEC_BAD_DLC", message: "data length code 31 is not a CAN FD code (0-15) (at byte 22)", offset: 22 });
    r = run("node", ["encode", "--format", "json"], '{"device_id":"d","token":"t","points":[{"timestamp":1,"fields":[{"name":"x","value":null}]}]}');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /points\[0\]\.fields\[0\]\.value: expected string or number/);
    r = run("node", ["encode", "--format", "json"], '{"device_id": ');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not valid JSON at byte 14/);
    const badDbc = join(tmp, "bad.dbc");
    writeFileSync(badDbc, 'BO_ 1 M: 8 X\n SG_ S : 0|8@2+ (1,0) [0|1] "" X\n');
    r = run("node", ["decode", join(vectors, "can/1.bin"), "--dbc", badDbc]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.dbc: line 2, column 14: /);
    r = run("node", ["decode", join(tmp, "missing.bin")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read .*missing\.bin: no such file/);
    r = run("node", ["encode", "--format", "xml"], "{}");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--format must be one of json, json\+gzip, can, can\+gzip/);
    r = run("node", ["decode"], "hello");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not JSON/);
  }, 60_000);
});

describe("thingwire decode / encode under Deno", () => {
  test("decode from stdin needs no permission; a file needs --allow-read for that file only", () => {
    const r = run("deno", ["decode", "--json"], vector("can/3.bin"));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(json(r), { format: "can+gzip", message: vectorJson("can/3.json") });
    const file = join(vectors, "json/2.txt");
    const denied = run("deno", ["decode", file]);
    assert.equal(denied.status, 2, "without --allow-read the file cannot be read");
    const allowed = run("deno", ["decode", file, "--dbc", dbcPath], undefined, [`--allow-read=${file},${dbcPath}`]);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.deepEqual(json(allowed), { format: "json+gzip", message: vectorJson("json/2.json") });
  }, 60_000);

  test("encode through stdin and stdout, and exit 2 on bad input", () => {
    const r = run("deno", ["encode", "--format", "can"], JSON.stringify(vectorJson("can/1.json")));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(new Uint8Array(r.stdout), vector("can/1.bin"));
    const bad = run("deno", ["decode"], Uint8Array.of(0, 0, 0, 0, 1, 2, 3));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /CAN point header needs 12 bytes, 3 remain \(at byte 4\)/);
  }, 60_000);
});
