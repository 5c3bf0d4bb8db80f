/**
 * `thingwire/indexeddb`: the Store port on the browser's IndexedDB (through `idb`).
 * Several tabs of one origin can open the same store: `drainLock` (Web Locks) lets only one of
 * them drain the outbox, and `watch()` (BroadcastChannel) tells it when another tab appended.
 * @module
 */
import { wrap } from "idb";
import type { IDBPDatabase, IDBPTransaction } from "idb";
import { ThingwireError } from "../errors.ts";
import { idbError } from "./codes.ts";
import type {
  DeadLetterRecord,
  DrainLock,
  InboxEntry,
  InboxListOptions,
  InboxPurgeOptions,
  InboxRecord,
  OutboxEntry,
  OutboxRecord,
  OutboxStats,
  Store,
} from "./store.ts";
import { inboxRecord, outboxRecord } from "./records.ts";
import { entryBytes } from "./store.ts";
import { checkInboxEntry, checkLimit, checkOutboxEntries, checkSeqs, checkTime, closedError } from "./validate.ts";

/**
 * Options of `openIndexedDbStore()`.
 *
 * @example
 * ```ts
 * const bucket = await navigator.storageBuckets.open("thing-42", { persisted: true });
 * const store = await openIndexedDbStore("thing-42", { factory: bucket.indexedDB, durability: "strict" });
 * ```
 */
export interface IndexedDbStoreOptions {
  /**
   * Durability of write transactions. `"strict"` (default): the browser flushes to disk before a
   * write resolves, so it survives a crash of the OS or a power cut. `"relaxed"`: it survives a
   * tab or browser crash, not an OS crash; faster. `"default"`: whatever the browser does.
   */
  durability?: "strict" | "relaxed" | "default";
  /**
   * The IndexedDB factory to open the database with. Default: the global `indexedDB`. Pass a
   * Storage Bucket's (`(await navigator.storageBuckets.open("thing", { persisted: true })).indexedDB`)
   * to keep the queue in its own bucket, with its own quota, persistence and eviction.
   */
  factory?: IDBFactory;
}

/** Schema version of the IndexedDB database. */
const DB_VERSION = 1;
type StoreName = "outbox" | "outboxSizes" | "deadLetters" | "inbox" | "kv";

/** What the outbox object store holds (seq is the autoIncrement key path). */
interface OutboxRow extends OutboxRecord {
  bytes: number;
}
interface DeadRow extends DeadLetterRecord {
  bytes: number;
}

const toOutbox = (r: OutboxRow | DeadRow): OutboxRecord => outboxRecord(r);
const toInbox = (r: InboxRecord): InboxRecord => inboxRecord(r);

function upgrade(db: IDBDatabase, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true }).createIndex("expiresAt", "expiresAt");
    db.createObjectStore("deadLetters", { keyPath: "seq" });
    const inbox = db.createObjectStore("inbox", { keyPath: "seq", autoIncrement: true });
    inbox.createIndex("dedupeKey", "dedupeKey", { unique: true });
    inbox.createIndex("expiresAt", "expiresAt");
    db.createObjectStore("kv", { keyPath: "key" });
    // seq -> entryBytes, for stats(). Kept apart from a running total on purpose: deleting must
    // not write anything, because Chromium refuses every write (deletes excepted) once a bucket is
    // over its quota, and deleting delivered messages is how the space comes back.
    db.createObjectStore("outboxSizes");
  }
}

type Tx = IDBPTransaction<unknown, StoreName[], "readonly" | "readwrite">;

/**
 * Opens (creating if needed) the IndexedDB database `name` as a Store. Object stores: `outbox`
 * (autoIncrement `seq`), `deadLetters`, `inbox` (autoIncrement `seq`, indexes on `dedupeKey` and
 * `expiresAt`), `kv`, `outboxSizes`. Each batch is one transaction; deleting writes nothing else,
 * so delivered messages can still be deleted when the quota is exceeded. Failures reject with `STORE_QUOTA`
 * (quota exceeded), `STORE_CLOSED` (closed, or closed for a newer version in another tab),
 * `STORE_CORRUPT` (created by a newer thingwire), or `STORE_IO`.
 *
 * @example
 * ```ts
 * import { createDevice } from "thingwire";
 * import { openIndexedDbStore } from "thingwire/indexeddb";
 * const store = await openIndexedDbStore("kiosk-1");
 * const device = createDevice({ url: "wss://broker.example/mqtt", clientId: "kiosk-1", store });
 * ```
 */
export async function openIndexedDbStore(name: string, options: IndexedDbStoreOptions = {}): Promise<Store> {
  if (typeof name !== "string" || name === "") {
    throw new ThingwireError("OPTIONS_INVALID", "openIndexedDbStore needs a database name.", { path: "name" });
  }
  const durability = options.durability ?? "strict";
  if (durability !== "strict" && durability !== "relaxed" && durability !== "default") {
    throw new ThingwireError("OPTIONS_INVALID", 'durability must be "strict", "relaxed" or "default".', {
      path: "durability",
    });
  }
  const factory = options.factory ?? (typeof indexedDB === "undefined" ? undefined : indexedDB);
  if (factory === undefined) {
    throw new ThingwireError(
      "STORE_UNAVAILABLE",
      "openIndexedDbStore needs IndexedDB (a browser or a worker); on Node or Deno use openSqliteStore from " +
        "thingwire/sqlite, elsewhere memoryStore().",
    );
  }

  let closed = false;
  let closedWhy: ThingwireError | undefined;
  let raw: IDBDatabase;
  try {
    raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(name, DB_VERSION);
      req.onupgradeneeded = (ev) => upgrade(req.result, ev.oldVersion);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new DOMException("open failed", "UnknownError"));
    });
  } catch (e) {
    throw idbError(e, name, "open the database");
  }
  // another tab wants a newer schema: step aside instead of blocking it forever
  raw.onversionchange = () =>
    shut(
      new ThingwireError(
        "STORE_CLOSED",
        `IndexedDB store "${name}" was closed because another tab opened a newer version; reload this page.`,
      ),
    );
  raw.onclose = () =>
    shut(
      new ThingwireError(
        "STORE_CLOSED",
        `The browser closed IndexedDB store "${name}" (site data cleared or an I/O failure); open the store again.`,
      ),
    );
  const db: IDBPDatabase = wrap(raw);

  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(`thingwire:${name}`) : undefined;
  const watchers = new Set<() => void>();
  const heldLocks = new Set<() => void>();
  if (channel !== undefined) {
    channel.onmessage = (ev: MessageEvent) => {
      if ((ev.data as { type?: unknown } | null)?.type !== "append") return;
      for (const w of [...watchers]) {
        try {
          w();
        } catch {
          // a listener's failure is its own; the others still hear about the append
        }
      }
    };
  }

  function shut(why?: ThingwireError): void {
    if (closed) return;
    closed = true;
    closedWhy = why;
    watchers.clear();
    channel?.close();
    for (const release of [...heldLocks]) release(); // a closed store drains nothing: let another tab take over
    db.close();
  }

  const live = (): void => {
    if (closed) throw closedWhy ?? closedError("indexeddb");
  };

  /** Runs `fn` in one transaction; maps failures, preferring the transaction's own error (QuotaExceededError …). */
  async function run<T>(
    stores: StoreName[],
    mode: "readonly" | "readwrite",
    action: string,
    fn: (tx: Tx) => Promise<T>,
  ): Promise<T> {
    live();
    let tx: Tx;
    try {
      tx = db.transaction(stores, mode, mode === "readwrite" ? { durability } : undefined) as unknown as Tx;
    } catch (e) {
      if (closed) throw closedWhy ?? closedError("indexeddb");
      throw idbError(e, name, action);
    }
    const done = tx.done.then(
      () => undefined,
      (e: unknown) => e ?? new DOMException("transaction aborted", "AbortError"),
    );
    try {
      const out = await fn(tx);
      const failed = await done;
      if (failed !== undefined) throw failed;
      return out;
    } catch (e) {
      if (e instanceof ThingwireError) {
        try {
          tx.abort();
        } catch {
          // already finished
        }
        await done;
        throw e;
      }
      const txError = await done;
      const quota = [txError, e, tx.error].find((x) => (x as { name?: string } | null)?.name === "QuotaExceededError");
      throw idbError(quota ?? txError ?? e, name, action);
    }
  }

  /** Deletes outbox records and their sizes: deletes only, so it works over quota too. */
  const dropOutbox = (tx: Tx, seqs: Iterable<number>): Promise<unknown> => {
    const os = tx.objectStore("outbox");
    const sizes = tx.objectStore("outboxSizes");
    const ops: Promise<unknown>[] = [];
    for (const s of seqs) ops.push(os.delete!(s), sizes.delete!(s));
    return Promise.all(ops);
  };

  const drainLock: DrainLock | undefined =
    typeof navigator !== "undefined" && navigator.locks !== undefined
      ? (signal) =>
          new Promise((resolve, reject) => {
            live();
            let release!: () => void;
            const held = new Promise<void>((r) => {
              release = () => {
                heldLocks.delete(release);
                r();
              };
            });
            navigator.locks
              .request(`thingwire:${name}:drain`, { signal }, () => {
                if (closed) {
                  release();
                  reject(closedWhy ?? closedError("indexeddb"));
                  return held;
                }
                heldLocks.add(release);
                resolve({ release: () => release() });
                return held;
              })
              .catch((e: unknown) => reject(e));
          })
      : undefined;

  const store: { -readonly [K in keyof Store]: Store[K] } = {
    kind: "indexeddb",
    outbox: {
      async append(entries: readonly OutboxEntry[]): Promise<OutboxRecord[]> {
        live();
        checkOutboxEntries(entries);
        if (entries.length === 0) return [];
        const rows = entries.map((e) => {
          const row = {
            topic: e.topic,
            payload: new Uint8Array(e.payload),
            qos: e.qos,
            retain: e.retain,
            createdAt: e.createdAt,
            messageId: e.messageId,
            bytes: entryBytes(e),
          } as Omit<OutboxRow, "seq">;
          if (e.expiresAt !== undefined) row.expiresAt = e.expiresAt;
          return row;
        });
        const out = await run(["outbox", "outboxSizes"], "readwrite", "append to the outbox", async (tx) => {
          const os = tx.objectStore("outbox");
          const sizes = tx.objectStore("outboxSizes");
          const seqs = await Promise.all(
            rows.map(async (r) => {
              const seq = (await os.add!(r)) as number;
              await sizes.put!(r.bytes, seq);
              return seq;
            }),
          );
          return rows.map((r, i) => toOutbox({ ...r, seq: seqs[i] as number, payload: new Uint8Array(r.payload) }));
        });
        if (!closed) channel?.postMessage({ type: "append", count: out.length });
        return out;
      },
      async peek(limit: number, afterSeq?: number): Promise<OutboxRecord[]> {
        live();
        checkLimit(limit);
        if (afterSeq !== undefined) checkTime(afterSeq, "afterSeq");
        if (limit === 0) return [];
        return run(["outbox"], "readonly", "read the outbox", async (tx) => {
          const range = afterSeq === undefined ? undefined : IDBKeyRange.lowerBound(afterSeq, true);
          const rows = (await tx.objectStore("outbox").getAll(range, limit === Infinity ? undefined : limit)) as OutboxRow[];
          return rows.map(toOutbox);
        });
      },
      async delete(seqs: readonly number[]): Promise<void> {
        live();
        checkSeqs(seqs);
        if (seqs.length === 0) return;
        await run(["outbox", "outboxSizes"], "readwrite", "delete from the outbox", (tx) => dropOutbox(tx, new Set(seqs)));
      },
      async expire(now: number): Promise<OutboxRecord[]> {
        live();
        checkTime(now, "now");
        return run(["outbox", "outboxSizes"], "readwrite", "expire outbox messages", async (tx) => {
          const rows = (await tx.objectStore("outbox").index("expiresAt").getAll(IDBKeyRange.upperBound(now))) as OutboxRow[];
          if (rows.length === 0) return [];
          rows.sort((a, b) => a.seq - b.seq);
          await dropOutbox(tx, rows.map((r) => r.seq));
          return rows.map(toOutbox);
        });
      },
      async stats(): Promise<OutboxStats> {
        return run(["outboxSizes"], "readonly", "read the outbox stats", async (tx) => {
          const sizes = (await tx.objectStore("outboxSizes").getAll()) as number[];
          let bytes = 0;
          for (const b of sizes) bytes += b;
          return { count: sizes.length, bytes };
        });
      },
    },
    deadLetters: {
      async move(seq: number, reason: string, failedAt: number): Promise<void> {
        live();
        checkSeqs([seq], "seq");
        checkTime(failedAt, "failedAt");
        await run(["outbox", "outboxSizes", "deadLetters"], "readwrite", "move a message to the dead letters", async (tx) => {
          const r = (await tx.objectStore("outbox").get(seq)) as OutboxRow | undefined;
          if (r === undefined) return;
          const dead: DeadRow = { ...r, reason: String(reason), failedAt };
          await tx.objectStore("deadLetters").put!(dead);
          await dropOutbox(tx, [seq]);
        });
      },
      async list(limit?: number): Promise<DeadLetterRecord[]> {
        live();
        checkLimit(limit);
        if (limit === 0) return [];
        return run(["deadLetters"], "readonly", "read the dead letters", async (tx) => {
          const rows = (await tx.objectStore("deadLetters").getAll(undefined, limit === Infinity ? undefined : limit)) as DeadRow[];
          return rows.map((r) => ({ ...toOutbox(r), reason: r.reason, failedAt: r.failedAt }));
        });
      },
      async delete(seqs: readonly number[]): Promise<void> {
        live();
        checkSeqs(seqs);
        if (seqs.length === 0) return;
        await run(["deadLetters"], "readwrite", "delete dead letters", async (tx) => {
          const ds = tx.objectStore("deadLetters");
          await Promise.all(seqs.map((s) => ds.delete!(s)));
        });
      },
    },
    inbox: {
      async put(entry: InboxEntry): Promise<{ record: InboxRecord; duplicate: boolean }> {
        live();
        checkInboxEntry(entry);
        return run(["inbox"], "readwrite", "store a received message", async (tx) => {
          const is = tx.objectStore("inbox");
          const earlier = (await is.index("dedupeKey").get(entry.dedupeKey)) as InboxRecord | undefined;
          if (earlier !== undefined) return { record: toInbox(earlier), duplicate: true };
          const row = {
            topic: entry.topic,
            payload: new Uint8Array(entry.payload),
            qos: entry.qos,
            receivedAt: entry.receivedAt,
            dedupeKey: entry.dedupeKey,
          } as Omit<InboxRecord, "seq">;
          if (entry.expiresAt !== undefined) row.expiresAt = entry.expiresAt;
          const seq = (await is.add!(row)) as number;
          return { record: toInbox({ ...row, seq, payload: new Uint8Array(row.payload) }), duplicate: false };
        });
      },
      async list(o: InboxListOptions = {}): Promise<InboxRecord[]> {
        live();
        checkLimit(o.limit);
        if (o.afterSeq !== undefined) checkTime(o.afterSeq, "afterSeq");
        const limit = o.limit ?? Infinity;
        if (limit === 0) return [];
        return run(["inbox"], "readonly", "read the inbox", async (tx) => {
          const range = o.afterSeq === undefined ? undefined : IDBKeyRange.lowerBound(o.afterSeq, true);
          const is = tx.objectStore("inbox");
          if (o.includeAcked) {
            const rows = (await is.getAll(range, limit === Infinity ? undefined : limit)) as InboxRecord[];
            return rows.map(toInbox);
          }
          const out: InboxRecord[] = [];
          let cursor = await is.openCursor(range);
          while (cursor !== null && out.length < limit) {
            const r = cursor.value as InboxRecord;
            if (r.ackedAt === undefined) out.push(toInbox(r));
            cursor = await cursor.continue();
          }
          return out;
        });
      },
      async get(seq: number): Promise<InboxRecord | undefined> {
        live();
        if (typeof seq !== "number" || !Number.isFinite(seq)) return undefined;
        return run(["inbox"], "readonly", "read the inbox", async (tx) => {
          const r = (await tx.objectStore("inbox").get(seq)) as InboxRecord | undefined;
          return r === undefined ? undefined : toInbox(r);
        });
      },
      async ack(seqs: readonly number[], at: number): Promise<number> {
        live();
        checkSeqs(seqs);
        checkTime(at, "at");
        if (seqs.length === 0) return 0;
        return run(["inbox"], "readwrite", "acknowledge inbox messages", async (tx) => {
          const is = tx.objectStore("inbox");
          const rows = (await Promise.all([...new Set(seqs)].map((s) => is.get(s)))) as (InboxRecord | undefined)[];
          const writes: Promise<unknown>[] = [];
          let found = 0;
          for (const r of rows) {
            if (r === undefined) continue;
            found++;
            if (r.ackedAt === undefined) writes.push(is.put!({ ...r, ackedAt: at }));
          }
          await Promise.all(writes);
          return found;
        });
      },
      async purge(o: InboxPurgeOptions): Promise<number> {
        live();
        if (o.expiredAt !== undefined) checkTime(o.expiredAt, "expiredAt");
        if (o.all !== true && o.acked !== true && o.expiredAt === undefined) return 0;
        return run(["inbox"], "readwrite", "purge the inbox", async (tx) => {
          const is = tx.objectStore("inbox");
          if (o.all === true) {
            const n = await is.count();
            await is.clear!();
            return n;
          }
          let n = 0;
          let cursor = await is.openCursor();
          while (cursor !== null) {
            const r = cursor.value as InboxRecord;
            if (
              (o.acked === true && r.ackedAt !== undefined) ||
              (o.expiredAt !== undefined && r.expiresAt !== undefined && r.expiresAt <= o.expiredAt)
            ) {
              await cursor.delete!();
              n++;
            }
            cursor = await cursor.continue();
          }
          return n;
        });
      },
      async count(): Promise<number> {
        return run(["inbox"], "readonly", "count the inbox", (tx) => tx.objectStore("inbox").count());
      },
    },
    kv: {
      async get(key: string): Promise<string | undefined> {
        return run(["kv"], "readonly", "read a key", async (tx) => {
          const r = (await tx.objectStore("kv").get(String(key))) as { value: string } | undefined;
          return r?.value;
        });
      },
      async set(key: string, value: string): Promise<void> {
        live();
        if (typeof key !== "string" || typeof value !== "string") {
          throw new ThingwireError("OPTIONS_INVALID", "kv keys and values must be strings; serialize the value first.");
        }
        await run(["kv"], "readwrite", "write a key", async (tx) => {
          await tx.objectStore("kv").put!({ key, value });
        });
      },
      async delete(key: string): Promise<void> {
        await run(["kv"], "readwrite", "delete a key", async (tx) => {
          await tx.objectStore("kv").delete!(String(key));
        });
      },
    },
    async close(): Promise<void> {
      shut();
    },
  };
  if (drainLock !== undefined) store.drainLock = drainLock;
  if (channel !== undefined) {
    store.watch = (listener: () => void): (() => void) => {
      live();
      watchers.add(listener);
      return () => watchers.delete(listener);
    };
  }
  return store;
}
