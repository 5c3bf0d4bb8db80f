/**
 * The Store conformance suite (src/store/store.ts is the contract). One suite, run against
 * every adapter in every runtime that has it:
 *   Node:    memoryStore, openSqliteStore     (test/node/store-memory.test.ts, store-sqlite.test.ts)
 *   Deno:    memoryStore, openSqliteStore     (test/deno/store.test.ts)
 *   Chromium: memoryStore, openIndexedDbStore (test/browser/store.test.ts)
 * Web APIs only: this file runs in the browser too.
 */
import type { Assert, Harness } from "./harness.ts";
import type { InboxEntry, OutboxEntry, OutboxRecord, Store } from "../../src/store/store.ts";
import { entryBytes } from "../../src/store/store.ts";

export interface StoreSuiteOptions {
  /** Shown in test names: "memory", "sqlite", "indexeddb". */
  label: string;
  /**
   * Opens the store called `name` (a file path stem or a database name the runner maps).
   * For persistent adapters a second call with the same name after `close()` must reopen the
   * same data; two open handles on one name must see each other's writes.
   */
  open(name: string): Promise<Store>;
  /** Reopening a name sees what was stored before (sqlite, indexeddb). */
  persistent: boolean;
  /** Removes what `open(name)` created; called after each test with every name it used. */
  cleanup?(name: string): Promise<void>;
}

const enc = new TextEncoder();
const bytesOf = (s: string): Uint8Array => enc.encode(s);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function out(i: number, over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    topic: `telemetry/thing-${i % 3}`,
    payload: bytesOf(`message ${i}`),
    qos: 1,
    retain: false,
    createdAt: 1_700_000_000_000 + i,
    messageId: `m-${i}`,
    ...over,
  };
}

function inb(i: number, over: Partial<InboxEntry> = {}): InboxEntry {
  return {
    topic: `ingress/thing-${i % 2}`,
    payload: bytesOf(`received ${i}`),
    qos: 1,
    receivedAt: 1_700_000_000_000 + i,
    dedupeKey: `k-${i}`,
    ...over,
  };
}

/** A pseudo-random byte pattern (no crypto.getRandomValues 64 KiB limit to worry about). */
function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export function storeSuite(h: Harness, o: StoreSuiteOptions): void {
  const assert: Assert = h.assert;
  let counter = 0;
  const stamp = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;

  /** Runs `fn` with a fresh name, closing every store it opened and cleaning up after. */
  function t(name: string, fn: (ctx: Ctx) => Promise<void>, timeout?: number): void {
    h.test(
      name,
      async () => {
        const dbName = `tw-suite-${o.label}-${stamp}-${++counter}`;
        const opened: Store[] = [];
        const ctx: Ctx = {
          name: dbName,
          open: async (n = dbName) => {
            const s = await o.open(n);
            opened.push(s);
            return s;
          },
        };
        try {
          await fn(ctx);
        } finally {
          for (const s of opened) await s.close().catch(() => {});
          if (o.cleanup) await o.cleanup(dbName);
        }
      },
      timeout === undefined ? undefined : { timeout },
    );
  }

  const isStoreError = (code: string) => (e: unknown): boolean =>
    e instanceof Error && e.name === "ThingwireError" && (e as { code?: string }).code === code;

  function assertPlainBytes(p: unknown, what: string): void {
    assert.ok(p instanceof Uint8Array, `${what}: payload is a Uint8Array`);
    assert.equal(Object.getPrototypeOf(p), Uint8Array.prototype, `${what}: payload is a plain Uint8Array`);
  }

  h.describe(`Store conformance: ${o.label}`, () => {
    // ─── outbox ──────────────────────────────────────────────────────────────────────────
    t("append returns the records in order with strictly increasing seq", async ({ open }) => {
      const s = await open();
      const entries = [out(1), out(2, { expiresAt: 1_800_000_000_000, qos: 0, retain: true }), out(3, { qos: 2 })];
      const recs = await s.outbox.append(entries);
      assert.equal(recs.length, 3);
      for (let i = 0; i < 3; i++) {
        const { seq, ...rest } = recs[i] as OutboxRecord;
        assert.deepEqual(rest, entries[i]);
        assertPlainBytes(recs[i]?.payload, "append");
        if (i > 0) assert.ok(seq > (recs[i - 1] as OutboxRecord).seq, "seq strictly increasing");
        assert.ok(Number.isSafeInteger(seq), "seq is an integer");
      }
      assert.deepEqual(await s.outbox.peek(10), recs);
      assert.deepEqual(await s.outbox.append([]), []);
    });

    t("seq keeps increasing across batches, also after everything was deleted", async ({ open }) => {
      const s = await open();
      const a = await s.outbox.append([out(1), out(2)]);
      const b = await s.outbox.append([out(3)]);
      assert.ok((b[0] as OutboxRecord).seq > (a[1] as OutboxRecord).seq);
      await s.outbox.delete([...a, ...b].map((r) => r.seq));
      const c = await s.outbox.append([out(4)]);
      assert.ok((c[0] as OutboxRecord).seq > (b[0] as OutboxRecord).seq, "a deleted seq is never reused");
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.seq), [(c[0] as OutboxRecord).seq]);
    });

    t("peek: oldest first, limit and afterSeq", async ({ open }) => {
      const s = await open();
      const recs = await s.outbox.append(Array.from({ length: 10 }, (_, i) => out(i)));
      const seqs = recs.map((r) => r.seq);
      assert.deepEqual((await s.outbox.peek(3)).map((r) => r.seq), seqs.slice(0, 3));
      assert.deepEqual((await s.outbox.peek(100)).map((r) => r.seq), seqs);
      assert.deepEqual(await s.outbox.peek(0), []);
      assert.deepEqual((await s.outbox.peek(4, seqs[2])).map((r) => r.seq), seqs.slice(3, 7));
      assert.deepEqual((await s.outbox.peek(100, seqs[8])).map((r) => r.seq), seqs.slice(9));
      assert.deepEqual(await s.outbox.peek(100, seqs[9]), []);
      assert.deepEqual((await s.outbox.peek(2, 0)).map((r) => r.seq), seqs.slice(0, 2));
      // afterSeq between stored seqs (a deleted one) still works
      await s.outbox.delete([seqs[4] as number]);
      assert.deepEqual((await s.outbox.peek(2, seqs[4])).map((r) => r.seq), seqs.slice(5, 7));
      assert.deepEqual((await s.outbox.peek(3, seqs[2])).map((r) => r.seq), [seqs[3], seqs[5], seqs[6]]);
      assert.deepEqual(await s.outbox.peek(Infinity), await s.outbox.peek(100));
    });

    t("delete removes by seq, ignores unknown seqs, applies the whole batch", async ({ open }) => {
      const s = await open();
      const recs = await s.outbox.append(Array.from({ length: 6 }, (_, i) => out(i)));
      const seqs = recs.map((r) => r.seq);
      await s.outbox.delete([seqs[1] as number, seqs[3] as number, 999_999_999, seqs[1] as number]);
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.seq), [seqs[0], seqs[2], seqs[4], seqs[5]]);
      await s.outbox.delete([]);
      await s.outbox.delete(seqs);
      assert.deepEqual(await s.outbox.peek(10), []);
      assert.deepEqual(await s.outbox.stats(), { count: 0, bytes: 0 });
    });

    t("expire removes and returns what expired at or before now", async ({ open }) => {
      const s = await open();
      const recs = await s.outbox.append([
        out(0, { expiresAt: 100 }),
        out(1),
        out(2, { expiresAt: 200 }),
        out(3, { expiresAt: 300 }),
        out(4, { expiresAt: 201 }),
      ]);
      assert.deepEqual(await s.outbox.expire(99), []);
      const gone = await s.outbox.expire(200);
      assert.deepEqual(gone, [recs[0], recs[2]]);
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.seq), [recs[1], recs[3], recs[4]].map((r) => r?.seq));
      const st = await s.outbox.stats();
      assert.equal(st.count, 3);
      assert.equal(st.bytes, entryBytes(recs[1] as OutboxRecord) + entryBytes(recs[3] as OutboxRecord) + entryBytes(recs[4] as OutboxRecord));
      assert.deepEqual(await s.outbox.expire(Number.MAX_SAFE_INTEGER), [recs[3], recs[4]]);
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.seq), [recs[1]?.seq]);
    });

    t("stats counts records and payload + UTF-8 topic bytes", async ({ open }) => {
      const s = await open();
      assert.deepEqual(await s.outbox.stats(), { count: 0, bytes: 0 });
      const entries = [
        out(1, { topic: "a/b", payload: new Uint8Array(10) }),
        out(2, { topic: "temperatur/küche/€/😀", payload: new Uint8Array(0) }),
        out(3, { topic: "x", payload: pattern(1000) }),
      ];
      const recs = await s.outbox.append(entries);
      const want = entries.reduce((n, e) => n + entryBytes(e), 0);
      assert.equal(want, 10 + 3 + 0 + 26 + 1000 + 1, "entryBytes counts UTF-8 topic bytes");
      assert.deepEqual(await s.outbox.stats(), { count: 3, bytes: want });
      await s.outbox.delete([(recs[0] as OutboxRecord).seq]);
      assert.deepEqual(await s.outbox.stats(), { count: 2, bytes: want - 13 });
    });

    t("a batch with a bad entry is rejected whole and stores nothing", async ({ open }) => {
      const s = await open();
      await s.outbox.append([out(0)]);
      const badBatch = [out(1), out(2), { ...out(3), payload: "not bytes" } as unknown as OutboxEntry];
      await assert.rejects(s.outbox.append(badBatch), isStoreError("OPTIONS_INVALID"));
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.messageId), ["m-0"]);
      assert.equal((await s.outbox.stats()).count, 1);
    });

    t("a batch of 10,000 appends in one call", async ({ open }) => {
      const s = await open();
      const entries = Array.from({ length: 10_000 }, (_, i) => out(i, { payload: bytesOf(`p${i}`) }));
      const recs = await s.outbox.append(entries);
      assert.equal(recs.length, 10_000);
      for (let i = 1; i < recs.length; i++) {
        if (!((recs[i] as OutboxRecord).seq > (recs[i - 1] as OutboxRecord).seq)) assert.fail(`seq not increasing at ${i}`);
      }
      const st = await s.outbox.stats();
      assert.equal(st.count, 10_000);
      assert.equal(st.bytes, entries.reduce((n, e) => n + entryBytes(e), 0));
      const all = await s.outbox.peek(20_000);
      assert.equal(all.length, 10_000);
      assert.equal(all[9_999]?.messageId, "m-9999");
      assert.deepEqual(all.map((r) => r.seq), recs.map((r) => r.seq));
      await s.outbox.delete(recs.slice(0, 5_000).map((r) => r.seq));
      assert.equal((await s.outbox.stats()).count, 5_000);
      assert.equal((await s.outbox.peek(1))[0]?.messageId, "m-5000");
    }, 120_000);

    // ─── payload bytes ───────────────────────────────────────────────────────────────────
    t("payload bytes round-trip exactly: empty, every byte value, a view, 1 MiB", async ({ open }) => {
      const s = await open();
      const every = new Uint8Array(256).map((_, i) => i);
      const big = pattern(1 << 20, 7);
      const backing = pattern(64, 3);
      const view = backing.subarray(10, 20); // only these 10 bytes, not the whole buffer
      const payloads = [new Uint8Array(0), every, view, big];
      const recs = await s.outbox.append(payloads.map((p, i) => out(i, { payload: p })));
      // changing the caller's buffers afterwards does not change what was stored
      every[0] = 99;
      backing[10] = (backing[10] as number) ^ 0xff;
      const want = [new Uint8Array(0), new Uint8Array(256).map((_, i) => i), pattern(64, 3).subarray(10, 20), pattern(1 << 20, 7)];
      for (const source of [recs, await s.outbox.peek(10)]) {
        for (let i = 0; i < want.length; i++) {
          const p = (source[i] as OutboxRecord).payload;
          assertPlainBytes(p, `payload ${i}`);
          assert.ok(sameBytes(p, want[i] as Uint8Array), `payload ${i} differs (length ${p.byteLength})`);
        }
      }
      // changing a returned payload does not change the stored one
      const first = await s.outbox.peek(4);
      (first[1] as OutboxRecord).payload[0] = 42;
      assert.equal((await s.outbox.peek(4))[1]?.payload[0], 0);
      // the same through the inbox and the dead letters
      const { record } = await s.inbox.put(inb(1, { payload: big }));
      assert.ok(sameBytes(record.payload, want[3] as Uint8Array));
      const got = await s.inbox.get(record.seq);
      assertPlainBytes(got?.payload, "inbox get");
      assert.ok(sameBytes(got?.payload as Uint8Array, want[3] as Uint8Array));
      const empty = await s.inbox.put(inb(2, { payload: new Uint8Array(0) }));
      assert.equal((await s.inbox.get(empty.record.seq))?.payload.byteLength, 0);
      await s.deadLetters.move((recs[3] as OutboxRecord).seq, "too large", 5);
      const [dl] = await s.deadLetters.list();
      assertPlainBytes(dl?.payload, "dead letter");
      assert.ok(sameBytes(dl?.payload as Uint8Array, want[3] as Uint8Array));
    }, 60_000);

    // ─── dead letters ────────────────────────────────────────────────────────────────────
    t("dead letters: move takes the record out of the outbox with reason and time", async ({ open }) => {
      const s = await open();
      const recs = await s.outbox.append([out(0), out(1, { expiresAt: 9_999 }), out(2), out(3)]);
      const [r0, r1, r2, r3] = recs as [OutboxRecord, OutboxRecord, OutboxRecord, OutboxRecord];
      await s.deadLetters.move(r2.seq, "PUBACK reason 135: not authorized", 1234);
      await s.deadLetters.move(r1.seq, "PUBACK reason 149: packet too large", 1235);
      assert.deepEqual((await s.outbox.peek(10)).map((r) => r.seq), [r0.seq, r3.seq]);
      assert.deepEqual(await s.outbox.stats(), { count: 2, bytes: entryBytes(r0) + entryBytes(r3) });
      assert.deepEqual(await s.deadLetters.list(), [
        { ...r1, reason: "PUBACK reason 149: packet too large", failedAt: 1235 },
        { ...r2, reason: "PUBACK reason 135: not authorized", failedAt: 1234 },
      ]);
      assert.deepEqual((await s.deadLetters.list(1)).map((r) => r.seq), [r1.seq]);
      // moving a seq that is gone (already moved, deleted, never existed) does nothing
      await s.deadLetters.move(r2.seq, "again", 1);
      await s.deadLetters.move(123_456_789, "unknown", 1);
      assert.equal((await s.deadLetters.list()).length, 2);
      assert.equal((await s.deadLetters.list()).find((d) => d.seq === r2.seq)?.reason, "PUBACK reason 135: not authorized");
      // a dead letter does not come back through expire
      assert.deepEqual(await s.outbox.expire(Number.MAX_SAFE_INTEGER), []);
      await s.deadLetters.delete([r1.seq, 42]);
      assert.deepEqual((await s.deadLetters.list()).map((r) => r.seq), [r2.seq]);
      await s.deadLetters.delete([]);
      await s.deadLetters.delete([r2.seq]);
      assert.deepEqual(await s.deadLetters.list(), []);
      // new appends still get fresh seqs above the dead-lettered ones
      const [r4] = await s.outbox.append([out(4)]);
      assert.ok((r4 as OutboxRecord).seq > r3.seq);
    });

    // ─── inbox ───────────────────────────────────────────────────────────────────────────
    t("inbox put stores, a duplicate dedupeKey returns the earlier record", async ({ open }) => {
      const s = await open();
      const e1 = inb(1, { expiresAt: 5_000 });
      const a = await s.inbox.put(e1);
      assert.equal(a.duplicate, false);
      const { seq, ...rest } = a.record;
      assert.deepEqual(rest, e1);
      assertPlainBytes(a.record.payload, "inbox put");
      const dup = await s.inbox.put(inb(1, { payload: bytesOf("other"), topic: "other" }));
      assert.equal(dup.duplicate, true);
      assert.deepEqual(dup.record, a.record);
      const b = await s.inbox.put(inb(2));
      assert.equal(b.duplicate, false);
      assert.ok(b.record.seq > seq);
      assert.equal(await s.inbox.count(), 2);
      // ack does not free the key: a redelivery of an acknowledged message is still a duplicate
      await s.inbox.ack([seq], 10);
      const dup2 = await s.inbox.put(inb(1));
      assert.equal(dup2.duplicate, true);
      assert.equal(dup2.record.ackedAt, 10);
      // after a purge the key is free again, with a new seq
      assert.equal(await s.inbox.purge({ acked: true }), 1);
      const again = await s.inbox.put(inb(1));
      assert.equal(again.duplicate, false);
      assert.ok(again.record.seq > b.record.seq, "purged seqs are not reused");
    });

    t("inbox list: oldest first, includeAcked, afterSeq, limit", async ({ open }) => {
      const s = await open();
      const recs: number[] = [];
      for (let i = 0; i < 6; i++) recs.push((await s.inbox.put(inb(i))).record.seq);
      assert.equal(await s.inbox.ack([recs[1] as number, recs[4] as number], 77), 2);
      assert.deepEqual((await s.inbox.list()).map((r) => r.seq), [recs[0], recs[2], recs[3], recs[5]]);
      assert.deepEqual((await s.inbox.list({ includeAcked: true })).map((r) => r.seq), recs);
      assert.deepEqual((await s.inbox.list({ includeAcked: true, afterSeq: recs[2] })).map((r) => r.seq), recs.slice(3));
      assert.deepEqual((await s.inbox.list({ afterSeq: recs[2], limit: 1 })).map((r) => r.seq), [recs[3]]);
      assert.deepEqual((await s.inbox.list({ includeAcked: true, limit: 2 })).map((r) => r.seq), recs.slice(0, 2));
      assert.deepEqual(await s.inbox.list({ limit: 0 }), []);
      const acked = (await s.inbox.list({ includeAcked: true })).find((r) => r.seq === recs[1]);
      assert.equal(acked?.ackedAt, 77);
      assert.equal((await s.inbox.list())[0]?.ackedAt, undefined);
      assert.ok(!("ackedAt" in ((await s.inbox.list())[0] as object)), "unacked records have no ackedAt key");
    });

    t("inbox get and ack", async ({ open }) => {
      const s = await open();
      const a = (await s.inbox.put(inb(1))).record;
      const b = (await s.inbox.put(inb(2))).record;
      assert.deepEqual(await s.inbox.get(a.seq), a);
      assert.equal(await s.inbox.get(987_654_321), undefined);
      assert.equal(await s.inbox.ack([a.seq, 987_654_321, a.seq], 50), 1);
      assert.deepEqual(await s.inbox.get(a.seq), { ...a, ackedAt: 50 });
      // acking again keeps the first time, still counts as found
      assert.equal(await s.inbox.ack([a.seq, b.seq], 60), 2);
      assert.equal((await s.inbox.get(a.seq))?.ackedAt, 50);
      assert.equal((await s.inbox.get(b.seq))?.ackedAt, 60);
      assert.equal(await s.inbox.ack([], 1), 0);
    });

    t("inbox purge: nothing, expiredAt, acked, all", async ({ open }) => {
      const s = await open();
      const r: number[] = [];
      r.push((await s.inbox.put(inb(0, { expiresAt: 100 }))).record.seq);
      r.push((await s.inbox.put(inb(1, { expiresAt: 200 }))).record.seq);
      r.push((await s.inbox.put(inb(2))).record.seq);
      r.push((await s.inbox.put(inb(3, { expiresAt: 300 }))).record.seq);
      r.push((await s.inbox.put(inb(4))).record.seq);
      assert.equal(await s.inbox.purge({}), 0);
      assert.equal(await s.inbox.count(), 5);
      assert.equal(await s.inbox.purge({ expiredAt: 99 }), 0);
      assert.equal(await s.inbox.purge({ expiredAt: 200 }), 2);
      assert.deepEqual((await s.inbox.list({ includeAcked: true })).map((x) => x.seq), r.slice(2));
      await s.inbox.ack([r[2] as number], 1);
      assert.equal(await s.inbox.purge({ acked: false }), 0);
      assert.equal(await s.inbox.purge({ acked: true }), 1);
      assert.deepEqual((await s.inbox.list({ includeAcked: true })).map((x) => x.seq), [r[3], r[4]]);
      // options combine as "any of"
      await s.inbox.ack([r[4] as number], 2);
      assert.equal(await s.inbox.purge({ expiredAt: 300, acked: true }), 2);
      assert.equal(await s.inbox.count(), 0);
      for (let i = 10; i < 13; i++) await s.inbox.put(inb(i));
      assert.equal(await s.inbox.purge({ all: true }), 3);
      assert.equal(await s.inbox.count(), 0);
      assert.deepEqual(await s.inbox.list({ includeAcked: true }), []);
    });

    // ─── kv ──────────────────────────────────────────────────────────────────────────────
    t("kv get, set, overwrite, delete", async ({ open }) => {
      const s = await open();
      assert.equal(await s.kv.get("missing"), undefined);
      await s.kv.set("session", "abc");
      await s.kv.set("empty", "");
      await s.kv.set("unicode ключ 😀", "wert €");
      assert.equal(await s.kv.get("session"), "abc");
      assert.equal(await s.kv.get("empty"), "");
      assert.equal(await s.kv.get("unicode ключ 😀"), "wert €");
      await s.kv.set("session", "def");
      assert.equal(await s.kv.get("session"), "def");
      await s.kv.delete("session");
      await s.kv.delete("never-there");
      assert.equal(await s.kv.get("session"), undefined);
      assert.equal(await s.kv.get("empty"), "");
    });

    // ─── close ───────────────────────────────────────────────────────────────────────────
    t("close is idempotent and every later call rejects with STORE_CLOSED", async ({ open }) => {
      const s = await open();
      const [r] = await s.outbox.append([out(1)]);
      await s.close();
      await s.close();
      const seq = (r as OutboxRecord).seq;
      const calls: [string, () => Promise<unknown>][] = [
        ["outbox.append", () => s.outbox.append([out(2)])],
        ["outbox.peek", () => s.outbox.peek(1)],
        ["outbox.delete", () => s.outbox.delete([seq])],
        ["outbox.expire", () => s.outbox.expire(0)],
        ["outbox.stats", () => s.outbox.stats()],
        ["deadLetters.move", () => s.deadLetters.move(seq, "x", 0)],
        ["deadLetters.list", () => s.deadLetters.list()],
        ["deadLetters.delete", () => s.deadLetters.delete([seq])],
        ["inbox.put", () => s.inbox.put(inb(1))],
        ["inbox.list", () => s.inbox.list()],
        ["inbox.get", () => s.inbox.get(1)],
        ["inbox.ack", () => s.inbox.ack([1], 0)],
        ["inbox.purge", () => s.inbox.purge({ all: true })],
        ["inbox.count", () => s.inbox.count()],
        ["kv.get", () => s.kv.get("k")],
        ["kv.set", () => s.kv.set("k", "v")],
        ["kv.delete", () => s.kv.delete("k")],
      ];
      for (const [what, call] of calls) {
        let p: Promise<unknown> | undefined;
        try {
          p = call();
        } catch (e) {
          assert.fail(`${what} threw synchronously instead of rejecting: ${String(e)}`);
        }
        await assert.rejects(p, isStoreError("STORE_CLOSED"), `${what} after close`);
      }
      await s.close();
    });

    // ─── persistence ─────────────────────────────────────────────────────────────────────
    if (o.persistent) {
      t("everything survives close and reopen; seq keeps increasing", async ({ open, name }) => {
        const s1 = await open(name);
        const recs = await s1.outbox.append([out(1), out(2, { expiresAt: 123 }), out(3)]);
        await s1.deadLetters.move((recs[2] as OutboxRecord).seq, "refused", 9);
        const i1 = (await s1.inbox.put(inb(1, { expiresAt: 456 }))).record;
        const i2 = (await s1.inbox.put(inb(2))).record;
        await s1.inbox.ack([i2.seq], 77);
        await s1.kv.set("k", "v");
        const big = pattern(300_000, 11);
        await s1.outbox.append([out(4, { payload: big })]);
        const before = await s1.outbox.peek(10);
        const statsBefore = await s1.outbox.stats();
        await s1.close();

        const s2 = await open(name);
        assert.deepEqual(await s2.outbox.peek(10), before);
        assert.deepEqual(await s2.outbox.stats(), statsBefore);
        assert.deepEqual((await s2.deadLetters.list()).map((d) => [d.seq, d.reason, d.failedAt]), [[recs[2]?.seq, "refused", 9]]);
        assert.deepEqual(await s2.inbox.list({ includeAcked: true }), [i1, { ...i2, ackedAt: 77 }]);
        assert.equal((await s2.inbox.put(inb(1))).duplicate, true, "dedupe survives reopen");
        assert.equal(await s2.kv.get("k"), "v");
        const last = before[before.length - 1] as OutboxRecord;
        assert.ok(sameBytes(last.payload, big));
        // delete everything, reopen: seqs are still not reused
        await s2.outbox.delete(before.map((r) => r.seq));
        await s2.inbox.purge({ all: true });
        await s2.close();
        const s3 = await open(name);
        const [next] = await s3.outbox.append([out(5)]);
        assert.ok((next as OutboxRecord).seq > last.seq, "outbox seq not reused after reopen");
        const inNext = (await s3.inbox.put(inb(9))).record;
        assert.ok(inNext.seq > i2.seq, "inbox seq not reused after reopen");
        assert.deepEqual(await s3.outbox.stats(), { count: 1, bytes: entryBytes(out(5)) });
      }, 60_000);

      t("two open handles on one name see each other's writes and never share a seq", async ({ open, name }) => {
        const a = await open(name);
        const b = await open(name);
        const seqs: number[] = [];
        for (let round = 0; round < 5; round++) {
          const [ra, rb] = await Promise.all([
            a.outbox.append([out(round * 2, { messageId: `a${round}` }), out(round * 2, { messageId: `a${round}b` })]),
            b.outbox.append([out(round * 2 + 1, { messageId: `b${round}` })]),
          ]);
          seqs.push(...ra.map((r) => r.seq), ...rb.map((r) => r.seq));
        }
        assert.equal(new Set(seqs).size, 15, "every seq unique");
        const fromA = await a.outbox.peek(100);
        const fromB = await b.outbox.peek(100);
        assert.deepEqual(fromA, fromB);
        assert.deepEqual(fromA.map((r) => r.seq), [...seqs].sort((x, y) => x - y));
        assert.equal((await b.outbox.stats()).count, 15);
        await a.kv.set("shared", "yes");
        assert.equal(await b.kv.get("shared"), "yes");
        const put = await a.inbox.put(inb(1));
        const dup = await b.inbox.put(inb(1));
        assert.equal(dup.duplicate, true);
        assert.equal(dup.record.seq, put.record.seq);
      });
    } else {
      t("a second store is independent (not persistent)", async ({ open, name }) => {
        const a = await open(name);
        await a.outbox.append([out(1)]);
        await a.kv.set("k", "v");
        const b = await open(name);
        assert.deepEqual(await b.outbox.peek(10), []);
        assert.equal(await b.kv.get("k"), undefined);
      });
    }
  });
}

interface Ctx {
  name: string;
  open(name?: string): Promise<Store>;
}
