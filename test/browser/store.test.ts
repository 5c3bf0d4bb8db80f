/**
 * The Store conformance suite in Chromium: memoryStore() and openIndexedDbStore(); plus what only
 * the browser adapter has: drainLock (Web Locks) across handles, watch() (BroadcastChannel), and a
 * real QuotaExceededError (a Storage Bucket with a small quota, passed as the store's factory).
 */
import { deleteDB } from "idb";
import { describe, expect, test } from "vitest";
import { browserHarness } from "./harness.ts";
import { storeSuite } from "../suites/store.suite.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { openIndexedDbStore } from "../../src/store/indexeddb.ts";
import type { OutboxEntry } from "../../src/store/store.ts";

storeSuite(browserHarness, { label: "memory", persistent: false, open: async () => memoryStore() });
storeSuite(browserHarness, {
  label: "indexeddb",
  persistent: true,
  open: (name) => openIndexedDbStore(name),
  cleanup: (name) => deleteDB(name),
});
storeSuite(browserHarness, {
  label: "indexeddb (relaxed durability)",
  persistent: true,
  open: (name) => openIndexedDbStore(name, { durability: "relaxed" }),
  cleanup: (name) => deleteDB(name),
});

let n = 0;
const uniq = (what: string): string => `tw-browser-${what}-${Date.now()}-${++n}`;
const entry = (i: number, payload = new Uint8Array([i & 0xff])): OutboxEntry => ({
  topic: "t",
  payload,
  qos: 1,
  retain: false,
  createdAt: i,
  messageId: `m${i}`,
});

describe("indexeddb store: several tabs", () => {
  test("drainLock: a second handle waits until the first releases", async () => {
    const name = uniq("lock");
    const a = await openIndexedDbStore(name);
    const b = await openIndexedDbStore(name);
    try {
      expect(a.drainLock).toBeTypeOf("function");
      const held = await a.drainLock!(new AbortController().signal);
      let bGot = false;
      const bLock = b.drainLock!(new AbortController().signal).then((l) => {
        bGot = true;
        return l;
      });
      // give the lock manager every chance to (wrongly) grant it
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
      expect(bGot).toBe(false);
      const state = await navigator.locks.query();
      expect(state.pending?.some((l) => l.name === `thingwire:${name}:drain`)).toBe(true);
      held.release();
      const second = await bLock;
      expect(bGot).toBe(true);
      second.release();
    } finally {
      await a.close();
      await b.close();
      await deleteDB(name);
    }
  });

  test("drainLock rejects with the abort reason when the signal aborts first", async () => {
    const name = uniq("abort");
    const a = await openIndexedDbStore(name);
    const b = await openIndexedDbStore(name);
    try {
      const held = await a.drainLock!(new AbortController().signal);
      const ac = new AbortController();
      const waiting = b.drainLock!(ac.signal);
      const reason = new Error("device closing");
      ac.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      held.release();
      // the lock is free again for b
      const again = await b.drainLock!(new AbortController().signal);
      again.release();
    } finally {
      await a.close();
      await b.close();
      await deleteDB(name);
    }
  });

  test("closing a store gives up its drain lock, and a closed store cannot take one", async () => {
    const name = uniq("lock-close");
    const a = await openIndexedDbStore(name);
    const b = await openIndexedDbStore(name);
    try {
      await a.drainLock!(new AbortController().signal); // never released by hand
      const bLock = b.drainLock!(new AbortController().signal);
      await a.close();
      (await bLock).release();
      await expect(a.drainLock!(new AbortController().signal)).rejects.toMatchObject({ code: "STORE_CLOSED" });
    } finally {
      await a.close();
      await b.close();
      await deleteDB(name);
    }
  });

  test("watch: a handle hears appends made by another handle, not its own, until unsubscribed", async () => {
    const name = uniq("watch");
    const a = await openIndexedDbStore(name);
    const b = await openIndexedDbStore(name);
    try {
      let heardByA = 0;
      let heardByB = 0;
      const offA = a.watch!(() => heardByA++);
      const heard = new Promise<void>((resolve) => {
        b.watch!(() => {
          heardByB++;
          resolve();
        });
      });
      await a.outbox.append([entry(1)]);
      await heard;
      expect(heardByB).toBe(1);
      // what b heard about is readable through b
      expect((await b.outbox.peek(10)).map((r) => r.messageId)).toEqual(["m1"]);
      for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));
      expect(heardByA).toBe(0);
      offA();
      const heardAgain = new Promise<void>((resolve) => a.watch!(() => resolve()));
      await b.outbox.append([entry(2)]);
      await heardAgain;
    } finally {
      await a.close();
      await b.close();
      await deleteDB(name);
    }
  });
});

interface StorageBucket {
  indexedDB: IDBFactory;
  estimate(): Promise<{ usage?: number; quota?: number }>;
}
interface StorageBucketManager {
  open(name: string, options?: { quota?: number }): Promise<StorageBucket>;
  delete(name: string): Promise<void>;
}

describe("indexeddb store: quota exceeded (real, in a Storage Bucket with a 2 MB quota)", () => {
  test("append over quota rejects STORE_QUOTA, stored data stays, writes work again once space is freed", async () => {
    const buckets = (navigator as Navigator & { storageBuckets: StorageBucketManager }).storageBuckets;
    expect(buckets, "Chromium has the Storage Buckets API").toBeDefined();
    const bucketName = uniq("quota").toLowerCase().replace(/[^a-z0-9_-]/g, "-");
    const bucket = await buckets.open(bucketName, { quota: 2 * 1024 * 1024 });
    const s = await openIndexedDbStore("quota", { factory: bucket.indexedDB });
    try {
      const kept = await s.outbox.append([entry(1), entry(2)]);
      await s.kv.set("k", "v");
      // random bytes: Chromium compresses IndexedDB values, so a constant fill would never fill anything
      const chunk = new Uint8Array(256 * 1024);
      for (let off = 0; off < chunk.length; off += 65_536) crypto.getRandomValues(chunk.subarray(off, off + 65_536));
      let error: unknown;
      let stored = 0;
      for (let i = 0; i < 40 && error === undefined; i++) {
        try {
          await s.outbox.append([entry(100 + i, chunk), entry(200 + i, chunk)]);
          stored += 2;
        } catch (e) {
          error = e;
        }
      }
      expect(error, "the 2 MB quota was never hit").toBeDefined();
      expect(error).toMatchObject({ name: "ThingwireError", code: "STORE_QUOTA" });
      expect((error as Error).message).toMatch(/quota/i);
      expect((error as Error).message).toMatch(/purge|delete|persist/);
      // what was stored before is still there and readable; the failed batch left nothing behind
      const all = await s.outbox.peek(Infinity);
      expect(all.slice(0, 2)).toEqual(kept);
      expect(all).toHaveLength(2 + stored);
      expect(await s.outbox.stats()).toMatchObject({ count: 2 + stored });
      expect(await s.kv.get("k")).toBe("v");
      // space comes back (delivered messages deleted): the same store writes again
      await s.outbox.delete(all.slice(2).map((r) => r.seq));
      const [after] = await s.outbox.append([entry(999, chunk)]);
      expect(after?.seq).toBeGreaterThan(all[all.length - 1]?.seq ?? 0);
      expect((await s.outbox.peek(Infinity)).map((r) => r.messageId)).toEqual(["m1", "m2", "m999"]);
    } finally {
      await s.close();
      await buckets.delete(bucketName);
    }
  }, 60_000);
});

describe("indexeddb store: closing", () => {
  test("another tab upgrading the database closes this handle with STORE_CLOSED, data kept", async () => {
    const name = uniq("upgrade");
    const s = await openIndexedDbStore(name);
    await s.outbox.append([entry(1)]);
    // a newer version opening (as a newer thingwire in another tab would)
    const req = indexedDB.open(name, 2);
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    upgraded.close();
    await expect(s.outbox.peek(1)).rejects.toMatchObject({ code: "STORE_CLOSED", message: expect.stringMatching(/newer version/) });
    // a store opened by this (older) code on the newer database says what to do
    await expect(openIndexedDbStore(name)).rejects.toMatchObject({ code: "STORE_CORRUPT", message: expect.stringMatching(/newer thingwire/) });
    await s.close();
    await deleteDB(name);
  });

  test("bad arguments are refused", async () => {
    await expect(openIndexedDbStore("")).rejects.toMatchObject({ code: "OPTIONS_INVALID" });
    await expect(openIndexedDbStore("x", { durability: "eventually" as never })).rejects.toMatchObject({ code: "OPTIONS_INVALID" });
  });
});
