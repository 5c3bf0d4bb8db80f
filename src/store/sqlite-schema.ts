/**
 * The SQLite store's schema, versioned with `PRAGMA user_version`. A new version appends a
 * step to `MIGRATIONS`; `migrate()` runs the missing steps in one IMMEDIATE transaction, so two
 * processes opening a fresh file at once cannot both create it. Internal.
 *
 * Notes on the design:
 * - `seq` is `INTEGER PRIMARY KEY AUTOINCREMENT`: SQLite then never hands out a rowid again,
 *   even after the highest one was deleted (plain rowids would restart at max + 1).
 * - dead letters keep their outbox `seq`.
 * - `outbox_stats` (one row) is kept by triggers, so `stats()` is O(1) and stays right with
 *   several processes writing (the triggers run inside each writer's transaction).
 */

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 1;

const V1 = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  message_id TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_expires ON outbox (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox_stats (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  count INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO outbox_stats (id, count, bytes) VALUES (1, 0, 0);
CREATE TRIGGER IF NOT EXISTS outbox_stats_insert AFTER INSERT ON outbox BEGIN
  UPDATE outbox_stats SET count = count + 1, bytes = bytes + NEW.bytes WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS outbox_stats_delete AFTER DELETE ON outbox BEGIN
  UPDATE outbox_stats SET count = count - 1, bytes = bytes - OLD.bytes WHERE id = 1;
END;
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  message_id TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  reason TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  qos INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at INTEGER,
  dedupe_key TEXT NOT NULL UNIQUE,
  acked_at INTEGER
);
CREATE INDEX IF NOT EXISTS inbox_expires ON inbox (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Step i brings the schema from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [V1];

/** The part of `DatabaseSync` the migration uses. */
export interface MigrationDb {
  exec(sql: string): void;
  prepare(sql: string): { get(...params: unknown[]): unknown };
  readonly isTransaction: boolean;
}

/** Result of `migrate()`: the version found in the file before, or a newer one it cannot read. */
export type MigrateResult = { ok: true; from: number } | { ok: false; found: number };

/** Reads `user_version`, runs missing steps in one IMMEDIATE transaction; throws the engine's error. */
export function migrate(db: MigrationDb): MigrateResult {
  const version = (): number => Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  const before = version();
  if (before > SCHEMA_VERSION) return { ok: false, found: before };
  if (before === SCHEMA_VERSION) return { ok: true, from: before };
  db.exec("BEGIN IMMEDIATE");
  try {
    const v = version(); // another process may have migrated while we waited for the lock
    if (v > SCHEMA_VERSION) {
      db.exec("ROLLBACK");
      return { ok: false, found: v };
    }
    for (let step = v; step < SCHEMA_VERSION; step++) db.exec(MIGRATIONS[step] as string);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
    return { ok: true, from: v };
  } catch (e) {
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // the engine already rolled back; the original error is the one to report
      }
    }
    throw e;
  }
}
