/**
 * Maps storage-engine failures (SQLite result codes, IndexedDB DOMException names) to
 * `ThingwireError`s with a `STORE_*` code and a message that says what to do next.
 * Internal: not exported from mod.ts. Pure: no engine is imported here.
 */
import { ThingwireError } from "../errors.ts";
import type { ThingwireErrorCode } from "../errors.ts";

/** SQLite primary result codes this module tells apart (https://sqlite.org/rescode.html). */
export const SQLITE = {
  ERROR: 1,
  PERM: 3,
  BUSY: 5,
  LOCKED: 6,
  NOMEM: 7,
  READONLY: 8,
  IOERR: 10,
  CORRUPT: 11,
  FULL: 13,
  CANTOPEN: 14,
  NOTADB: 26,
} as const;

/**
 * The primary SQLite result code of an error thrown by `node:sqlite`: Node puts the extended
 * code in `errcode`; Deno's `node:sqlite` does not always, so fall back to SQLite's own
 * message texts (sqlite3_errstr), which both runtimes pass through.
 */
export function sqliteCode(e: unknown): number | undefined {
  const errcode = (e as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode === "number") return errcode & 0xff;
  const msg = String((e as { message?: unknown } | null)?.message ?? "");
  if (/attempt to write a readonly database|readonly database/i.test(msg)) return SQLITE.READONLY;
  if (/database disk image is malformed/i.test(msg)) return SQLITE.CORRUPT;
  if (/file is not a database/i.test(msg)) return SQLITE.NOTADB;
  if (/database or disk is full/i.test(msg)) return SQLITE.FULL;
  if (/database is locked/i.test(msg)) return SQLITE.BUSY;
  if (/database table is locked/i.test(msg)) return SQLITE.LOCKED;
  if (/unable to open database file/i.test(msg)) return SQLITE.CANTOPEN;
  if (/disk I\/O error/i.test(msg)) return SQLITE.IOERR;
  if (/access permission denied/i.test(msg)) return SQLITE.PERM;
  if (/out of memory/i.test(msg)) return SQLITE.NOMEM;
  return undefined;
}

/** Context for SQLite error messages. */
export interface SqliteErrorContext {
  /** The database file. */
  path: string;
  /** What was being done: "append to the outbox", "open" … */
  action: string;
  busyTimeoutMs: number;
}

/** A `ThingwireError` for an error thrown by `node:sqlite` (passes ThingwireErrors through). */
export function sqliteError(e: unknown, ctx: SqliteErrorContext): ThingwireError {
  if (e instanceof ThingwireError) return e;
  const code = sqliteCode(e);
  const detail = String((e as { message?: unknown } | null)?.message ?? e);
  const where = `SQLite store ${ctx.path}: could not ${ctx.action} (${detail})`;
  const kept = "What was stored before is kept.";
  let twCode: ThingwireErrorCode = "STORE_IO";
  let advice: string;
  switch (code) {
    case SQLITE.READONLY:
    case SQLITE.PERM:
      twCode = "STORE_READONLY";
      advice =
        "The file or its filesystem is read-only: make the file and its directory writable (or remount the " +
        `filesystem read-write); stored messages can still be read and the next write retries. ${kept}`;
      break;
    case SQLITE.CORRUPT:
    case SQLITE.NOTADB:
      twCode = "STORE_CORRUPT";
      advice =
        "The file is not a valid SQLite database or is damaged: move it aside (keep it to recover messages " +
        'with the sqlite3 ".recover" command) and open the store on a new file.';
      break;
    case SQLITE.FULL:
      advice = `The disk (or maxSizeBytes) is full: free space, deliver or purge messages, then retry. ${kept}`;
      break;
    case SQLITE.BUSY:
    case SQLITE.LOCKED:
      advice =
        `Another connection held the database lock for longer than busyTimeoutMs (${ctx.busyTimeoutMs} ms): ` +
        `retry, raise busyTimeoutMs, or stop the other process. ${kept}`;
      break;
    case SQLITE.CANTOPEN:
      advice = "The file cannot be opened: check that its directory exists and is writable, and the path is right.";
      break;
    case SQLITE.NOMEM:
      advice = `SQLite ran out of memory: free memory or write smaller batches. ${kept}`;
      break;
    default:
      advice = `The storage engine failed: check the disk and the file, then retry. ${kept}`;
  }
  return new ThingwireError(twCode, `${where}. ${advice}`, { cause: e, file: ctx.path });
}

/** A `ThingwireError` for an IndexedDB failure (passes ThingwireErrors through). */
export function idbError(e: unknown, dbName: string, action: string): ThingwireError {
  if (e instanceof ThingwireError) return e;
  const name = String((e as { name?: unknown } | null)?.name ?? "");
  const detail = String((e as { message?: unknown } | null)?.message ?? e);
  const what = detail !== "" && detail !== name ? `${name || "Error"}: ${detail}` : name || "Error";
  const where = `IndexedDB store "${dbName}": could not ${action} (${what})`;
  const kept = "What was stored before is kept.";
  switch (name) {
    case "QuotaExceededError":
      return new ThingwireError(
        "STORE_QUOTA",
        `${where}. The browser storage quota for this origin is used up: deliver, purge or delete stored ` +
          `messages, free other site data, or ask for persistent storage (navigator.storage.persist()). ${kept}`,
        { cause: e },
      );
    case "InvalidStateError":
      return new ThingwireError(
        "STORE_CLOSED",
        `${where}. The database connection was closed (by close(), a version change or the browser): ` +
          "open the store again.",
        { cause: e },
      );
    case "ReadOnlyError":
      return new ThingwireError("STORE_READONLY", `${where}. The database cannot be written here. ${kept}`, {
        cause: e,
      });
    case "VersionError":
      return new ThingwireError(
        "STORE_CORRUPT",
        `${where}. The database was created by a newer thingwire: update thingwire, or open another name.`,
        { cause: e },
      );
    default:
      return new ThingwireError(
        "STORE_IO",
        `${where}. The browser's storage failed: reload the page or check that site data is allowed (private ` +
          `mode and some settings block IndexedDB). ${kept}`,
        { cause: e },
      );
  }
}
