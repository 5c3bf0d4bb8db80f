/**
 * `thingwire/sqlite`: the Store port on SQLite through the runtime's built-in `node:sqlite`
 * (Node ≥ 22.13, Deno ≥ 2.2). The module is loaded when a store is opened, not when this file
 * is imported, so importing it has no side effects and bundlers leave `node:sqlite` alone.
 *
 * Durability: WAL journal, `synchronous = FULL` by default — a batch is on disk (fsync'd) when
 * its promise resolves, so it survives SIGKILL of the process *and* a power cut or OS crash.
 * `synchronous: "normal"` skips the fsync per commit: still safe against a process crash
 * (SIGKILL, exceptions), but an OS crash or power cut can lose the last commits. Every batch
 * method is one transaction, so the device's group commit pays one sync per batch.
 * @module
 */
import { ThingwireError } from "../errors.ts";
import { sqliteCode, sqliteError, SQLITE } from "./codes.ts";
import { migrate, SCHEMA_VERSION } from "./sqlite-schema.ts";
import type { MigrateResult } from "./sqlite-schema.ts";
import type {
  DeadLetterRecord,
  InboxEntry,
  InboxListOptions,
  InboxPurgeOptions,
  InboxRecord,
  OutboxEntry,
  OutboxRecord,
  OutboxStats,
  Store,
} from "./store.ts";
import { entryBytes } from "./store.ts";
import { checkInboxEntry, checkLimit, checkOutboxEntries, checkSeqs, checkTime, closedError } from "./validate.ts";

/**
 * Options of `openSqliteStore()`.
 *
 * @example
 * ```ts
 * const store = await openSqliteStore("./data/thing-42.db", { synchronous: "normal", maxSizeBytes: 64 << 20 });
 * ```
 */
export interface SqliteStoreOptions {
  /**
   * `"full"` (default): fsync on every commit; a stored batch survives a process kill, an OS
   * crash and a power cut. `"normal"`: no fsync per commit in WAL mode; survives a process kill,
   * but an OS crash or power cut can lose the last commits. Faster on slow flash.
   */
  synchronous?: "full" | "normal";
  /** How long a write waits for another process's lock before rejecting with `STORE_IO`. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Upper bound of the database size in bytes (SQLite `max_page_count`); a write that would grow
   * the file past it rejects with `STORE_IO` like a full disk. Cannot shrink below the current size.
   * Default: no bound.
   */
  maxSizeBytes?: number;
}

type SqlValue = null | number | bigint | string | Uint8Array;
type Row = Record<string, SqlValue>;
interface SqlStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}
interface SqlDb {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
  readonly isTransaction: boolean;
}
interface SqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => SqlDb;
}

function loadSqlite(): SqliteModule {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let mod: unknown;
  try {
    mod = proc?.getBuiltinModule?.("node:sqlite");
  } catch (e) {
    mod = undefined;
    void e;
  }
  if (mod === undefined || mod === null || typeof (mod as SqliteModule).DatabaseSync !== "function") {
    throw new ThingwireError(
      "STORE_UNAVAILABLE",
      "openSqliteStore needs the built-in node:sqlite module: run on Node ≥ 22.13 (not started with " +
        "--no-experimental-sqlite) or Deno ≥ 2.2. In a browser use openIndexedDbStore from thingwire/indexeddb; " +
        "elsewhere use memoryStore().",
    );
  }
  return mod as SqliteModule;
}

const OUT_COLS = "seq, topic, payload, qos, retain, created_at, expires_at, message_id";
const IN_COLS = "seq, topic, payload, qos, received_at, expires_at, dedupe_key, acked_at";

/** Prepared statements of one connection. */
function prepare(db: SqlDb) {
  return {
    outInsert: db.prepare(
      "INSERT INTO outbox (topic, payload, qos, retain, created_at, expires_at, message_id, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    outPeek: db.prepare(`SELECT ${OUT_COLS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`),
    outDelete: db.prepare("DELETE FROM outbox WHERE seq = ?"),
    outExpired: db.prepare(`SELECT ${OUT_COLS} FROM outbox WHERE expires_at <= ? ORDER BY seq`),
    outExpire: db.prepare("DELETE FROM outbox WHERE expires_at <= ?"),
    outStats: db.prepare("SELECT count, bytes FROM outbox_stats WHERE id = 1"),
    deadMove: db.prepare(
      "INSERT OR REPLACE INTO dead_letters (seq, topic, payload, qos, retain, created_at, expires_at, message_id, bytes, reason, failed_at) " +
        "SELECT seq, topic, payload, qos, retain, created_at, expires_at, message_id, bytes, ?, ? FROM outbox WHERE seq = ?",
    ),
    deadList: db.prepare(`SELECT ${OUT_COLS}, reason, failed_at FROM dead_letters ORDER BY seq LIMIT ?`),
    deadDelete: db.prepare("DELETE FROM dead_letters WHERE seq = ?"),
    inByKey: db.prepare(`SELECT ${IN_COLS} FROM inbox WHERE dedupe_key = ?`),
    inInsert: db.prepare(
      "INSERT INTO inbox (topic, payload, qos, received_at, expires_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    inList: db.prepare(`SELECT ${IN_COLS} FROM inbox WHERE seq > ? AND (? = 1 OR acked_at IS NULL) ORDER BY seq LIMIT ?`),
    inGet: db.prepare(`SELECT ${IN_COLS} FROM inbox WHERE seq = ?`),
    inAck: db.prepare("UPDATE inbox SET acked_at = COALESCE(acked_at, ?) WHERE seq = ?"),
    inPurge: db.prepare(
      "DELETE FROM inbox WHERE ? = 1 OR (? = 1 AND acked_at IS NOT NULL) OR (? IS NOT NULL AND expires_at <= ?)",
    ),
    inCount: db.prepare("SELECT count(*) AS n FROM inbox"),
    kvGet: db.prepare("SELECT value FROM kv WHERE key = ?"),
    kvSet: db.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    kvDelete: db.prepare("DELETE FROM kv WHERE key = ?"),
  };
}
type Statements = ReturnType<typeof prepare>;
interface Conn {
  db: SqlDb;
  st: Statements;
  /** Opened read-only because the file or filesystem is: writes reopen read-write first. */
  readOnly: boolean;
}

function toOutbox(r: Row): OutboxRecord {
  const o: OutboxRecord = {
    seq: Number(r.seq),
    topic: r.topic as string,
    payload: r.payload as Uint8Array,
    qos: Number(r.qos) as OutboxRecord["qos"],
    retain: Number(r.retain) === 1,
    createdAt: Number(r.created_at),
    messageId: r.message_id as string,
  };
  if (r.expires_at !== null && r.expires_at !== undefined) o.expiresAt = Number(r.expires_at);
  return o;
}

function toInbox(r: Row): InboxRecord {
  const o: InboxRecord = {
    seq: Number(r.seq),
    topic: r.topic as string,
    payload: r.payload as Uint8Array,
    qos: Number(r.qos) as InboxRecord["qos"],
    receivedAt: Number(r.received_at),
    dedupeKey: r.dedupe_key as string,
  };
  if (r.expires_at !== null && r.expires_at !== undefined) o.expiresAt = Number(r.expires_at);
  if (r.acked_at !== null && r.acked_at !== undefined) o.ackedAt = Number(r.acked_at);
  return o;
}

/** `LIMIT` value: SQLite takes -1 for "no limit". */
const sqlLimit = (n: number | undefined): number => (n === undefined || n === Infinity ? -1 : n);

/**
 * Opens (creating if needed) a SQLite file as a Store. Several processes may open the same file:
 * writers wait up to `busyTimeoutMs` for each other and `seq` stays unique.
 *
 * Failures reject with a `ThingwireError`: `STORE_UNAVAILABLE` (no `node:sqlite` here),
 * `STORE_CORRUPT` (not a database, damaged, or written by a newer thingwire), `STORE_READONLY`,
 * `STORE_IO` (disk full, locked, I/O error), `STORE_CLOSED` after `close()`.
 *
 * @example
 * ```ts
 * import { createDevice } from "thingwire";
 * import { openSqliteStore } from "thingwire/sqlite";
 * const store = await openSqliteStore("./data/thing-42.db");
 * const device = createDevice({ url: "ws://127.0.0.1:8080", clientId: "thing-42", store });
 * ```
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  if (typeof path !== "string" || path === "") {
    throw new ThingwireError("OPTIONS_INVALID", "openSqliteStore needs a file path (or \":memory:\").", { path: "path" });
  }
  const synchronous = options.synchronous ?? "full";
  if (synchronous !== "full" && synchronous !== "normal") {
    throw new ThingwireError("OPTIONS_INVALID", 'synchronous must be "full" or "normal".', { path: "synchronous" });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ThingwireError("OPTIONS_INVALID", "busyTimeoutMs must be a non-negative integer (ms).", {
      path: "busyTimeoutMs",
    });
  }
  const maxSizeBytes = options.maxSizeBytes;
  if (maxSizeBytes !== undefined && !(Number.isSafeInteger(maxSizeBytes) && maxSizeBytes > 0)) {
    throw new ThingwireError("OPTIONS_INVALID", "maxSizeBytes must be a positive integer (bytes).", {
      path: "maxSizeBytes",
    });
  }
  const { DatabaseSync } = loadSqlite();
  const fail = (e: unknown, action: string): ThingwireError => sqliteError(e, { path, action, busyTimeoutMs });

  /**
   * Opens a connection: read-write, read-only, or read-only with `immutable=1` (no pragmas that
   * write, no migration for the last two).
   */
  function connectWith(mode: "rw" | "ro" | "immutable"): Conn {
    const readOnly = mode !== "rw";
    let db: SqlDb;
    try {
      db =
        mode === "rw"
          ? new DatabaseSync(path)
          : mode === "ro"
            ? new DatabaseSync(path, { readOnly: true })
            : new DatabaseSync(`file:${path.replace(/[%?#]/g, (c) => encodeURIComponent(c))}?immutable=1`, {
                readOnly: true,
              });
    } catch (e) {
      throw fail(e, "open the database file");
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      if (!readOnly) {
        db.prepare("PRAGMA journal_mode = WAL").get();
        db.exec(`PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
        if (maxSizeBytes !== undefined) {
          const page = Number((db.prepare("PRAGMA page_size").get() as Row).page_size);
          db.prepare(`PRAGMA max_page_count = ${Math.max(1, Math.floor(maxSizeBytes / page))}`).get();
        }
      }
      const m = readOnly ? checkVersion(db) : migrate(db);
      if (!m.ok) {
        throw new ThingwireError(
          "STORE_CORRUPT",
          `SQLite store ${path} has schema version ${m.found}, newer than this thingwire reads (${SCHEMA_VERSION}): ` +
            "update thingwire, or open another file.",
          { file: path },
        );
      }
      return { db, st: prepare(db), readOnly };
    } catch (e) {
      try {
        db.close();
      } catch {
        // already failing; the first error is the one to report
      }
      throw fail(e, "open the database");
    }
  }

  /** A read-only connection can read a current file but not create or migrate one. */
  function checkVersion(db: SqlDb): MigrateResult {
    const v = Number((db.prepare("PRAGMA user_version").get() as Row).user_version);
    if (v > SCHEMA_VERSION) return { ok: false, found: v };
    if (v < SCHEMA_VERSION) throw new ThingwireError("STORE_READONLY", "cannot create or upgrade the schema");
    return { ok: true, from: v };
  }

  /**
   * Read-write when possible. When the file or its filesystem is read-only (SQLite says READONLY,
   * or CANTOPEN because a WAL file's -shm cannot be created on a read-only mount), falls back to
   * a read-only connection, then to `immutable=1` (a read-only mount: nobody can change the file),
   * so what was stored stays readable; writes then reject STORE_READONLY and retry read-write.
   */
  function connect(): Conn {
    try {
      return connectWith("rw");
    } catch (e) {
      const code = e instanceof ThingwireError ? sqliteCode(e.cause) : undefined;
      if (code !== SQLITE.READONLY && code !== SQLITE.CANTOPEN) throw e;
      for (const mode of ["ro", "immutable"] as const) {
        try {
          return connectWith(mode);
        } catch {
          // try the next mode; if none works, the read-write error is the one to report
        }
      }
      throw e;
    }
  }

  let conn: Conn | undefined = connect();
  let closed = false;
  /** Set after a read-only failure: the next write reopens, since SQLite keeps a connection read-only once it opened it so. */
  let reopen = false;

  const current = (): Conn => {
    if (closed || conn === undefined) throw closedError("sqlite");
    return conn;
  };

  function read<T>(action: string, fn: (st: Statements) => T): T {
    const c = current();
    try {
      return fn(c.st);
    } catch (e) {
      throw fail(e, action);
    }
  }

  function write<T>(action: string, fn: (st: Statements) => T): T {
    let c = current();
    if (reopen || c.readOnly) {
      try {
        const fresh = connect();
        try {
          c.db.close();
        } catch {
          // the old handle is dropped either way
        }
        conn = c = fresh;
        reopen = false;
      } catch {
        // keep the old connection; the write below reports the condition
      }
    }
    try {
      c.db.exec("BEGIN IMMEDIATE");
      const out = fn(c.st);
      c.db.exec("COMMIT");
      return out;
    } catch (e) {
      if (c.db.isTransaction) {
        try {
          c.db.exec("ROLLBACK");
        } catch {
          // SQLite already rolled back (it does on FULL, IOERR, BUSY); the first error is the one to report
        }
      }
      if (sqliteCode(e) === SQLITE.READONLY) reopen = true;
      throw fail(e, action);
    }
  }

  const store: Store = {
    kind: "sqlite",
    outbox: {
      async append(entries: readonly OutboxEntry[]): Promise<OutboxRecord[]> {
        current();
        checkOutboxEntries(entries);
        if (entries.length === 0) return [];
        return write("append to the outbox", (st) =>
          entries.map((e) => {
            const r = st.outInsert.run(
              e.topic,
              e.payload,
              e.qos,
              e.retain ? 1 : 0,
              e.createdAt,
              e.expiresAt ?? null,
              e.messageId,
              entryBytes(e),
            );
            const rec: OutboxRecord = {
              seq: Number(r.lastInsertRowid),
              topic: e.topic,
              payload: new Uint8Array(e.payload),
              qos: e.qos,
              retain: e.retain,
              createdAt: e.createdAt,
              messageId: e.messageId,
            };
            if (e.expiresAt !== undefined) rec.expiresAt = e.expiresAt;
            return rec;
          }),
        );
      },
      async peek(limit: number, afterSeq?: number): Promise<OutboxRecord[]> {
        current();
        checkLimit(limit);
        if (afterSeq !== undefined) checkTime(afterSeq, "afterSeq");
        if (limit === 0) return [];
        return read("read the outbox", (st) => st.outPeek.all(afterSeq ?? -1, sqlLimit(limit)).map(toOutbox));
      },
      async delete(seqs: readonly number[]): Promise<void> {
        current();
        checkSeqs(seqs);
        if (seqs.length === 0) return;
        write("delete from the outbox", (st) => {
          for (const s of seqs) st.outDelete.run(s);
        });
      },
      async expire(now: number): Promise<OutboxRecord[]> {
        current();
        checkTime(now, "now");
        return write("expire outbox messages", (st) => {
          const gone = st.outExpired.all(now).map(toOutbox);
          if (gone.length > 0) st.outExpire.run(now);
          return gone;
        });
      },
      async stats(): Promise<OutboxStats> {
        return read("read the outbox stats", (st) => {
          const r = st.outStats.get() as Row;
          return { count: Number(r.count), bytes: Number(r.bytes) };
        });
      },
    },
    deadLetters: {
      async move(seq: number, reason: string, failedAt: number): Promise<void> {
        current();
        checkSeqs([seq], "seq");
        checkTime(failedAt, "failedAt");
        write("move a message to the dead letters", (st) => {
          const r = st.deadMove.run(String(reason), failedAt, seq);
          if (Number(r.changes) > 0) st.outDelete.run(seq);
        });
      },
      async list(limit?: number): Promise<DeadLetterRecord[]> {
        current();
        checkLimit(limit);
        return read("read the dead letters", (st) =>
          st.deadList.all(sqlLimit(limit)).map((r) => ({
            ...toOutbox(r),
            reason: r.reason as string,
            failedAt: Number(r.failed_at),
          })),
        );
      },
      async delete(seqs: readonly number[]): Promise<void> {
        current();
        checkSeqs(seqs);
        if (seqs.length === 0) return;
        write("delete dead letters", (st) => {
          for (const s of seqs) st.deadDelete.run(s);
        });
      },
    },
    inbox: {
      async put(entry: InboxEntry): Promise<{ record: InboxRecord; duplicate: boolean }> {
        current();
        checkInboxEntry(entry);
        return write("store a received message", (st) => {
          const earlier = st.inByKey.get(entry.dedupeKey);
          if (earlier !== undefined) return { record: toInbox(earlier), duplicate: true };
          const r = st.inInsert.run(
            entry.topic,
            entry.payload,
            entry.qos,
            entry.receivedAt,
            entry.expiresAt ?? null,
            entry.dedupeKey,
          );
          const record: InboxRecord = {
            seq: Number(r.lastInsertRowid),
            topic: entry.topic,
            payload: new Uint8Array(entry.payload),
            qos: entry.qos,
            receivedAt: entry.receivedAt,
            dedupeKey: entry.dedupeKey,
          };
          if (entry.expiresAt !== undefined) record.expiresAt = entry.expiresAt;
          return { record, duplicate: false };
        });
      },
      async list(o: InboxListOptions = {}): Promise<InboxRecord[]> {
        current();
        checkLimit(o.limit);
        if (o.afterSeq !== undefined) checkTime(o.afterSeq, "afterSeq");
        if (o.limit === 0) return [];
        return read("read the inbox", (st) =>
          st.inList.all(o.afterSeq ?? -1, o.includeAcked ? 1 : 0, sqlLimit(o.limit)).map(toInbox),
        );
      },
      async get(seq: number): Promise<InboxRecord | undefined> {
        return read("read the inbox", (st) => {
          const r = typeof seq === "number" ? st.inGet.get(seq) : undefined;
          return r === undefined ? undefined : toInbox(r);
        });
      },
      async ack(seqs: readonly number[], at: number): Promise<number> {
        current();
        checkSeqs(seqs);
        checkTime(at, "at");
        if (seqs.length === 0) return 0;
        return write("acknowledge inbox messages", (st) => {
          let found = 0;
          for (const s of new Set(seqs)) found += Number(st.inAck.run(at, s).changes);
          return found;
        });
      },
      async purge(o: InboxPurgeOptions): Promise<number> {
        current();
        if (o.expiredAt !== undefined) checkTime(o.expiredAt, "expiredAt");
        const exp = o.expiredAt ?? null;
        return write("purge the inbox", (st) =>
          Number(st.inPurge.run(o.all === true ? 1 : 0, o.acked === true ? 1 : 0, exp, exp).changes),
        );
      },
      async count(): Promise<number> {
        return read("count the inbox", (st) => Number((st.inCount.get() as Row).n));
      },
    },
    kv: {
      async get(key: string): Promise<string | undefined> {
        return read("read a key", (st) => {
          const r = st.kvGet.get(String(key));
          return r === undefined ? undefined : (r.value as string);
        });
      },
      async set(key: string, value: string): Promise<void> {
        current();
        if (typeof key !== "string" || typeof value !== "string") {
          throw new ThingwireError("OPTIONS_INVALID", "kv keys and values must be strings; serialize the value first.");
        }
        write("write a key", (st) => st.kvSet.run(key, value));
      },
      async delete(key: string): Promise<void> {
        const k = String(key);
        // Most deletes (the CLI's handler-progress keys) find nothing: no write transaction for those.
        if (read("read a key", (st) => st.kvGet.get(k)) === undefined) return;
        write("delete a key", (st) => st.kvDelete.run(k));
      },
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const c = conn;
      conn = undefined;
      if (c === undefined) return;
      try {
        c.db.close();
      } catch (e) {
        throw fail(e, "close the database");
      }
    },
  };
  return store;
}
