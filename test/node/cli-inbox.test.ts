/**
 * `thingwire inbox` as a child process under Node and Deno: list, ack and purge the local message
 * database (the config's SQLite store), no broker needed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, test } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { runCli, type Runtime } from "../helpers/cli.ts";

let dir: string;
const enc = new TextEncoder();

async function seed(): Promise<number[]> {
  mkdirSync(join(dir, "data"), { recursive: true });
  const store = await openSqliteStore(join(dir, "data/thing-1.db"));
  const now = Date.now();
  const seqs: number[] = [];
  for (const [i, e] of [
    { topic: "ingress/thing-1", payload: enc.encode('{"cmd":"reboot"}'), qos: 1 as const, receivedAt: now - 3_000, expiresAt: now + 3_600_000, dedupeKey: "a" },
    { topic: "ingress/thing-1", payload: new Uint8Array([0, 1, 2, 0xff]), qos: 1 as const, receivedAt: now - 2_000, expiresAt: now + 3_600_000, dedupeKey: "b" },
    { topic: "ingress/thing-1", payload: enc.encode("old"), qos: 0 as const, receivedAt: now - 100_000, expiresAt: now - 1_000, dedupeKey: "c" },
  ].entries()) {
    const r = await store.inbox.put(e);
    seqs[i] = r.record.seq;
  }
  await store.close();
  return seqs;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tw-inbox-"));
  writeFileSync(join(dir, "thing.yml"), "id: thing-1\nbroker: ws://127.0.0.1:1\ntopics: { ingress: ingress/thing-1 }\n");
});

describe.each(["node", "deno"] as Runtime[])("thingwire inbox (%s)", (runtime) => {
  const cli = (args: string[]) =>
    runCli(runtime, ["inbox", "--config", join(dir, "thing.yml"), ...args], { denoFlags: [`--allow-read=${dir}`, `--allow-write=${join(dir, "data")}`, "--allow-env"] });

  test("before anything was received: empty list, no file created", async () => {
    const r = await cli(["list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no messages .* does not exist yet/);
    assert.equal(existsSync(join(dir, "data/thing-1.db")), false);
    const a = await cli(["ack", "1"]);
    assert.equal(a.code, 1);
  });

  test("list, ack, purge", async () => {
    const [s1, s2, s3] = await seed();
    const list = await cli(["--json"]);
    assert.equal(list.code, 0, list.stderr);
    const j = JSON.parse(list.stdout) as { messages: Array<Record<string, unknown>> };
    assert.deepEqual(j.messages.map((m) => m.seq), [s1, s2, s3]);
    assert.equal(j.messages[0]!.payload, '{"cmd":"reboot"}');
    assert.equal(j.messages[1]!.payloadBase64, "AAEC/w==");
    assert.equal(j.messages[1]!.bytes, 4);

    const human = await cli(["list"]);
    assert.match(human.stdout, /^seq\s+received\s+topic\s+bytes\s+acked\s+payload$/m);
    assert.match(human.stdout, /\{\\"cmd\\":\\"reboot\\"\}/);
    assert.match(human.stdout, /0x000102ff/);

    const ack = await cli(["ack", String(s1), String(s2)]);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /acknowledged 2 of 2 messages/);
    const unacked = JSON.parse((await cli(["list", "--json"])).stdout) as { messages: Array<{ seq: number }> };
    assert.deepEqual(unacked.messages.map((m) => m.seq), [s3]);
    const all = JSON.parse((await cli(["list", "--all", "--json"])).stdout) as { messages: Array<{ seq: number; ackedAt?: string }> };
    assert.equal(all.messages.filter((m) => m.ackedAt).length, 2);

    const missing = await cli(["ack", "999"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /1 seq\(s\) not found/);

    const expired = await cli(["purge", "--expired", "--json"]);
    assert.deepEqual(JSON.parse(expired.stdout), { ok: true, purged: 1 });
    const acked = await cli(["purge", "--acked"]);
    assert.match(acked.stdout, /purged 2 messages/);
    const none = JSON.parse((await cli(["list", "--all", "--json"])).stdout) as { messages: unknown[] };
    assert.equal(none.messages.length, 0);
  });

  test("usage errors exit 2 with a clear message", async () => {
    const p = await cli(["purge"]);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /purge needs --acked, --expired or --all/);
    const a = await cli(["ack", "x1"]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /"x1" is not a message seq/);
    const u = await cli(["frobnicate"]);
    assert.equal(u.code, 2);
    const m = await runCli(runtime, ["inbox"], { denoFlags: ["--allow-env"] });
    assert.equal(m.code, 2);
    assert.match(m.stderr, /missing --config FILE/);
  });
});
