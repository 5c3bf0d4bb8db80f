/**
 * Input checks every Store adapter runs before it touches its engine, so that a bad entry
 * rejects the whole batch the same way in every adapter (and never half-writes it), and the
 * STORE_CLOSED error they share. Internal: not exported from mod.ts.
 */
import { ThingwireError } from "../errors.ts";
import type { InboxEntry, OutboxEntry } from "./store.ts";

function bad(path: string, what: string): ThingwireError {
  return new ThingwireError("OPTIONS_INVALID", `${path} ${what}; fix the value handed to the store.`, { path });
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Throws `OPTIONS_INVALID` naming the first bad field of a batch of outbox entries. */
export function checkOutboxEntries(entries: readonly OutboxEntry[]): void {
  if (!Array.isArray(entries)) throw bad("entries", "must be an array");
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as OutboxEntry | undefined;
    const p = `entries[${i}]`;
    if (e === null || typeof e !== "object") throw bad(p, "must be an object");
    if (typeof e.topic !== "string") throw bad(`${p}.topic`, "must be a string");
    if (!(e.payload instanceof Uint8Array)) throw bad(`${p}.payload`, "must be a Uint8Array");
    if (e.qos !== 0 && e.qos !== 1 && e.qos !== 2) throw bad(`${p}.qos`, "must be 0, 1 or 2");
    if (typeof e.retain !== "boolean") throw bad(`${p}.retain`, "must be a boolean");
    if (!isTime(e.createdAt)) throw bad(`${p}.createdAt`, "must be a finite number (ms since epoch)");
    if (e.expiresAt !== undefined && !isTime(e.expiresAt)) {
      throw bad(`${p}.expiresAt`, "must be a finite number (ms since epoch) or absent");
    }
    if (typeof e.messageId !== "string") throw bad(`${p}.messageId`, "must be a string");
  }
}

/** Throws `OPTIONS_INVALID` naming the first bad field of an inbox entry. */
export function checkInboxEntry(e: InboxEntry): void {
  if (e === null || typeof e !== "object") throw bad("entry", "must be an object");
  if (typeof e.topic !== "string") throw bad("entry.topic", "must be a string");
  if (!(e.payload instanceof Uint8Array)) throw bad("entry.payload", "must be a Uint8Array");
  if (e.qos !== 0 && e.qos !== 1 && e.qos !== 2) throw bad("entry.qos", "must be 0, 1 or 2");
  if (!isTime(e.receivedAt)) throw bad("entry.receivedAt", "must be a finite number (ms since epoch)");
  if (e.expiresAt !== undefined && !isTime(e.expiresAt)) {
    throw bad("entry.expiresAt", "must be a finite number (ms since epoch) or absent");
  }
  if (typeof e.dedupeKey !== "string") throw bad("entry.dedupeKey", "must be a string");
}

/** Throws `OPTIONS_INVALID` unless every element is a safe integer (a `seq`). */
export function checkSeqs(seqs: readonly number[], name = "seqs"): void {
  if (!Array.isArray(seqs)) throw bad(name, "must be an array of seq numbers");
  for (let i = 0; i < seqs.length; i++) {
    if (!Number.isSafeInteger(seqs[i])) throw bad(`${name}[${i}]`, "must be an integer seq");
  }
}

/** Throws `OPTIONS_INVALID` unless `n` is a finite number (a time in ms). */
export function checkTime(n: unknown, name: string): asserts n is number {
  if (!isTime(n)) throw bad(name, "must be a finite number (ms since epoch)");
}

/** Throws `OPTIONS_INVALID` unless `n` is absent, a non-negative integer or `Infinity` (no limit). */
export function checkLimit(n: unknown, name = "limit"): void {
  if (n !== undefined && n !== Infinity && !(Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw bad(name, "must be a non-negative integer or Infinity");
  }
}

/** The error every adapter rejects with once closed. */
export function closedError(kind: string): ThingwireError {
  return new ThingwireError(
    "STORE_CLOSED",
    `The ${kind} store is closed; open a new store (or create a new device) to keep storing messages.`,
  );
}
