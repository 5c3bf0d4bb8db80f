/**
 * SQLite store failure modes on Deno, whose node:sqlite reports errors differently from Node's
 * (not always an `errcode`): the STORE_* mapping must hold here too. Real conditions: a garbage
 * file, a lock held by another connection, a file made read-only (chattr +i as root, chmod 0444
 * otherwise), plus the maxSizeBytes bound (SQLite's max_page_count).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ThingwireError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { OutboxEntry } from "../../src/store/store.ts";

const dir = Deno.makeTempDirSync({ prefix: "tw-sqlite-deno-faults-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
});
let n = 0;
const entry = (i: number, size = 16): OutboxEntry => ({
  topic: `t/${i}`,
  payload: new Uint8Array(size).fill(i & 0xff),
  qos: 1,
  retain: false,
  createdAt: i,
  messageId: `m${i}`,
});
const batch = (from: number, count: number, size = 16): OutboxEntry[] =>
  Array.from({ length: count }, (_, i) => entry(from + i, size));

async function rejection(p: Promise<unknown>): Promise<ThingwireError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ThingwireError, `not a ThingwireError: ${String(e)}`);
    return e;
  }
  throw new Error("expected a rejection");
}
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({ name: "deno sqlite faults: garbage file rejects STORE_CORRUPT at open", ...opts, fn: async () => {
  const path = `${dir}/garbage-${++n}.db`;
  const s = await openSqliteStore(path);
  await s.outbox.append(batch(0, 50, 256));
  await s.close();
  const size = Deno.statSync(path).size;
  Deno.writeFileSync(path, new Uint8Array(size).map((_, i) => (i * 7919 + 13) & 0xff));
  const e = await rejection(openSqliteStore(path));
  assert.equal(e.code, "STORE_CORRUPT");
  assert.match(e.message, /move it aside/);
} });

Deno.test({ name: "deno sqlite faults: maxSizeBytes reached rejects STORE_IO, data kept, works after deletes", ...opts, fn: async () => {
  const s = await openSqliteStore(`${dir}/max-${++n}.db`, { maxSizeBytes: 256 * 1024 });
  try {
    const first = await s.outbox.append(batch(0, 5));
    let error: ThingwireError | undefined;
    for (let k = 0; k < 200 && error === undefined; k++) {
      try {
        await s.outbox.append(batch(100 + k * 10, 10, 4096));
      } catch (e) {
        error = e as ThingwireError;
      }
    }
    assert.ok(error, "maxSizeBytes never reached");
    assert.equal(error.code, "STORE_IO");
    assert.match(error.message, /full/);
    const all = await s.outbox.peek(Infinity);
    assert.deepEqual(all.slice(0, 5), first);
    await s.outbox.delete(all.slice(5).map((r) => r.seq));
    await s.outbox.append(batch(9_000, 10, 4096));
  } finally {
    await s.close();
  }
} });

Deno.test({ name: "deno sqlite faults: a lock held past busyTimeoutMs rejects STORE_IO; works once released", ...opts, fn: async () => {
  const path = `${dir}/busy-${++n}.db`;
  const s = await openSqliteStore(path, { busyTimeoutMs: 100 });
  const other = new DatabaseSync(path);
  try {
    await s.outbox.append(batch(0, 2));
    other.exec("BEGIN IMMEDIATE");
    const e = await rejection(s.outbox.append(batch(10, 2)));
    assert.equal(e.code, "STORE_IO");
    assert.match(e.message, /busyTimeoutMs \(100 ms\)/);
    other.exec("ROLLBACK");
    await s.outbox.append(batch(10, 2));
    assert.equal((await s.outbox.stats()).count, 4);
  } finally {
    other.close();
    await s.close();
  }
} });

Deno.test({ name: "deno sqlite faults: read-only file: reads work, writes STORE_READONLY, resume once writable", ...opts, fn: async () => {
  const path = `${dir}/ro-${++n}.db`;
  const s1 = await openSqliteStore(path);
  const stored = await s1.outbox.append(batch(0, 3));
  await s1.close();
  const root = Deno.uid() === 0;
  const sh = async (cmd: string, ...args: string[]) => {
    const r = await new Deno.Command(cmd, { args }).output();
    assert.ok(r.success, `${cmd} ${args.join(" ")} failed`);
  };
  if (root) await sh("chattr", "+i", path);
  else Deno.chmodSync(path, 0o444);
  const s = await openSqliteStore(path);
  try {
    assert.deepEqual(await s.outbox.peek(10), stored);
    const e = await rejection(s.outbox.append(batch(10, 1)));
    assert.equal(e.code, "STORE_READONLY");
    assert.deepEqual(await s.outbox.peek(10), stored);
  } finally {
    if (root) await sh("chattr", "-i", path);
    else Deno.chmodSync(path, 0o644);
  }
  await s.outbox.append(batch(10, 1));
  assert.equal((await s.outbox.stats()).count, 4);
  await s.close();
} });
