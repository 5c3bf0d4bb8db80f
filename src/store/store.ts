/**
 * The Store port: the small Promise-based interface behind the durable outbox, the inbox
 * and a little key-value state. Adapters: `memoryStore()` (core), `openSqliteStore()`
 * (`thingwire/sqlite`), `openIndexedDbStore()` (`thingwire/indexeddb`). Every adapter passes
 * one conformance suite (test/suites/store.suite.ts) in every runtime that has it.
 *
 * Rules every adapter keeps:
 * - each method that takes a batch applies it in one transaction (all or nothing);
 * - `seq` numbers are assigned by the store, strictly increasing, never reused in one store;
 * - a failing engine rejects with a `ThingwireError` whose code starts with `STORE_`
 *   (`STORE_IO`, `STORE_READONLY`, `STORE_CORRUPT`, `STORE_QUOTA`, `STORE_CLOSED` …),
 *   and what was stored before stays stored;
 * - payloads come back as `Uint8Array` equal byte for byte to what went in.
 *
 * @example
 * ```ts
 * const store = memoryStore();
 * const [rec] = await store.outbox.append([{ topic: "t", payload: new Uint8Array([1]), qos: 1,
 *   retain: false, createdAt: Date.now(), messageId: "m1" }]);
 * await store.outbox.delete([rec.seq]);
 * ```
 */

/** MQTT quality of service. */
export type QoS = 0 | 1 | 2;

/** A message to be sent, as the outbox hands it to the store. */
export interface OutboxEntry {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** When `publish()` accepted it, ms since epoch. */
  createdAt: number;
  /** Drop (with an event) instead of sending after this time, ms since epoch. */
  expiresAt?: number;
  /** Unique id of the message; sent as MQTT 5 user property `tw-id` so receivers can drop redeliveries. */
  messageId: string;
}

/** A stored outbox message. */
export interface OutboxRecord extends OutboxEntry {
  /** Store-assigned, strictly increasing: the send order. */
  seq: number;
}

/** A message the broker refused for good, kept with the reason instead of blocking the queue. */
export interface DeadLetterRecord extends OutboxRecord {
  reason: string;
  /** ms since epoch. */
  failedAt: number;
}

/** A received message, as the inbox hands it to the store. */
export interface InboxEntry {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  /** ms since epoch. */
  receivedAt: number;
  /** Purged after this time, ms since epoch; absent = kept until purged. */
  expiresAt?: number;
  /** Identity of the message for redelivery detection (the sender's `tw-id`, or a content key). */
  dedupeKey: string;
}

/** A stored inbox message. */
export interface InboxRecord extends InboxEntry {
  seq: number;
  /** When it was acknowledged, ms since epoch. */
  ackedAt?: number;
}

/** Counts of what the outbox holds. */
export interface OutboxStats {
  count: number;
  /** Sum of payload and topic byte lengths. */
  bytes: number;
}

export interface OutboxStore {
  /** Appends a batch in one transaction; returns the records with their `seq`, in order. */
  append(entries: readonly OutboxEntry[]): Promise<OutboxRecord[]>;
  /** Oldest first: up to `limit` records with `seq > afterSeq` (default: from the start). */
  peek(limit: number, afterSeq?: number): Promise<OutboxRecord[]>;
  /** Deletes by `seq` in one transaction; unknown seqs are ignored. */
  delete(seqs: readonly number[]): Promise<void>;
  /** Deletes every record with `expiresAt <= now` and returns them (the caller reports them). */
  expire(now: number): Promise<OutboxRecord[]>;
  stats(): Promise<OutboxStats>;
}

export interface DeadLetterStore {
  /** Moves an outbox record to the dead letters in one transaction. No-op when the seq is gone. */
  move(seq: number, reason: string, failedAt: number): Promise<void>;
  /** Oldest first. */
  list(limit?: number): Promise<DeadLetterRecord[]>;
  delete(seqs: readonly number[]): Promise<void>;
}

/** Options of `InboxStore.list`. */
export interface InboxListOptions {
  /** Include acknowledged messages (default false). */
  includeAcked?: boolean;
  /** Only `seq > afterSeq`. */
  afterSeq?: number;
  limit?: number;
}

/** Options of `InboxStore.purge`; with none, purges nothing. */
export interface InboxPurgeOptions {
  /** Purge messages with `expiresAt <= expiredAt`. */
  expiredAt?: number;
  /** Purge acknowledged messages. */
  acked?: boolean;
  /** Purge everything. */
  all?: boolean;
}

export interface InboxStore {
  /**
   * Stores a received message unless one with the same `dedupeKey` is still stored
   * (not purged); returns the record and whether it was a duplicate (then the earlier record).
   */
  put(entry: InboxEntry): Promise<{ record: InboxRecord; duplicate: boolean }>;
  /** Oldest first. */
  list(options?: InboxListOptions): Promise<InboxRecord[]>;
  get(seq: number): Promise<InboxRecord | undefined>;
  /** Marks as acknowledged; returns how many were found. */
  ack(seqs: readonly number[], at: number): Promise<number>;
  /** Deletes what the options select; returns how many. */
  purge(options: InboxPurgeOptions): Promise<number>;
  count(): Promise<number>;
}

export interface KvStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * Exclusive right to drain the outbox, for stores that several handles (browser tabs,
 * processes) open at once. Resolves when this handle holds it; `release()` gives it up.
 * The promise rejects with the abort reason when `signal` aborts first.
 */
export type DrainLock = (signal: AbortSignal) => Promise<{ release(): void }>;

/** The port. */
export interface Store {
  /** Adapter name for logs: "memory", "sqlite", "indexeddb". */
  readonly kind: string;
  readonly outbox: OutboxStore;
  readonly deadLetters: DeadLetterStore;
  readonly inbox: InboxStore;
  readonly kv: KvStore;
  /** Present when several handles can share the store; the device drains only while holding it. */
  readonly drainLock?: DrainLock;
  /**
   * Present when another handle can append to the same outbox: calls `listener` after such
   * an append, so the draining handle need not poll. Returns an unsubscribe function.
   */
  watch?(listener: () => void): () => void;
  /** Closes the store; later calls reject with `STORE_CLOSED`. Idempotent. */
  close(): Promise<void>;
}

/** Bytes an outbox entry counts for against the byte limit. */
export function entryBytes(e: { topic: string; payload: Uint8Array }): number {
  return e.payload.byteLength + utf8Length(e.topic);
}

/** UTF-8 byte length of a string, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
