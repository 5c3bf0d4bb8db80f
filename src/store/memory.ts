/**
 * `memoryStore()`: the Store port in memory. No I/O, so nothing survives the process; use it for
 * tests, for short-lived tools, or where losing the queue on restart is acceptable.
 */
import { ThingwireError } from "../errors.ts";
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
import { inboxRecord, outboxRecord } from "./records.ts";
import { entryBytes } from "./store.ts";
import { checkInboxEntry, checkLimit, checkOutboxEntries, checkSeqs, checkTime, closedError } from "./validate.ts";

/**
 * Options of `memoryStore()`.
 *
 * @example
 * ```ts
 * const store = memoryStore({ maxBytes: 16 * 1024 * 1024 }); // STORE_QUOTA above 16 MiB held
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * Most payload + topic bytes the store holds over outbox, dead letters and inbox together.
   * An append or put that would go above it rejects with `STORE_QUOTA` and stores nothing,
   * like a browser quota. Default: no limit.
   */
  maxBytes?: number;
}

const copyBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Records go out as copies: a caller changing a payload must not change what is stored. */
const outRecord = (r: OutboxRecord): OutboxRecord => outboxRecord(r, copyBytes(r.payload));
const inRecord = (r: InboxRecord): InboxRecord => inboxRecord(r, copyBytes(r.payload));

function deadRecord(r: DeadLetterRecord): DeadLetterRecord {
  return { ...outRecord(r), reason: r.reason, failedAt: r.failedAt };
}

/**
 * A Store that keeps everything in memory: fast, synchronous inside, lost when the process ends.
 * Every method still returns a Promise and keeps the port's rules (batches all or nothing,
 * strictly increasing `seq`, payloads copied in and out, `STORE_CLOSED` after `close()`).
 *
 * @example
 * ```ts
 * import { createDevice, memoryStore } from "thingwire";
 * const device = createDevice({ url: "ws://127.0.0.1:8080", clientId: "t1", store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const maxBytes = options.maxBytes ?? Infinity;
  if (!(typeof maxBytes === "number" && maxBytes >= 0)) {
    throw new ThingwireError("OPTIONS_INVALID", "maxBytes must be a non-negative number of bytes.", {
      path: "maxBytes",
    });
  }
  let closed = false;
  let heldBytes = 0; // outbox + dead letters + inbox, for maxBytes

  // Outbox: records in seq order with holes where deleted, a parallel seq array for binary
  // search, and an index seq -> position. `head` skips the deleted prefix (the drained part).
  let items: (OutboxRecord | undefined)[] = [];
  let seqs: number[] = [];
  let pos = new Map<number, number>();
  let head = 0;
  let holes = 0;
  let outSeq = 0;
  let count = 0;
  let bytes = 0;
  let expiring = 0; // live records with expiresAt, so expire() can skip the scan

  const dead = new Map<number, DeadLetterRecord>();
  const inbox = new Map<number, InboxRecord>();
  const byKey = new Map<string, number>();
  let inSeq = 0;
  const kv = new Map<string, string>();

  const open = (): void => {
    if (closed) throw closedError("memory");
  };
  const reserve = (n: number): void => {
    if (heldBytes + n > maxBytes) {
      throw new ThingwireError(
        "STORE_QUOTA",
        `The memory store holds ${heldBytes} of its ${maxBytes} bytes and ${n} more do not fit; ` +
          "deliver, purge or delete stored messages, or raise maxBytes.",
      );
    }
  };

  function removeAt(i: number): OutboxRecord {
    const r = items[i] as OutboxRecord;
    items[i] = undefined;
    pos.delete(r.seq);
    holes++;
    count--;
    const b = entryBytes(r);
    bytes -= b;
    heldBytes -= b;
    if (r.expiresAt !== undefined) expiring--;
    while (head < items.length && items[head] === undefined) head++;
    if (holes > 1024 && holes > count) compact();
    return r;
  }

  function compact(): void {
    const ni: OutboxRecord[] = [];
    for (let i = head; i < items.length; i++) {
      const r = items[i];
      if (r !== undefined) ni.push(r);
    }
    items = ni;
    seqs = ni.map((r) => r.seq);
    pos = new Map(ni.map((r, i) => [r.seq, i]));
    head = 0;
    holes = 0;
  }

  /** First index whose seq is > s. */
  function upper(s: number): number {
    let lo = head;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((seqs[mid] as number) <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  const store: Store = {
    kind: "memory",
    outbox: {
      async append(entries: readonly OutboxEntry[]): Promise<OutboxRecord[]> {
        open();
        checkOutboxEntries(entries);
        let add = 0;
        for (const e of entries) add += entryBytes(e);
        reserve(add);
        const out: OutboxRecord[] = [];
        for (const e of entries) {
          const r: OutboxRecord = {
            seq: ++outSeq,
            topic: e.topic,
            payload: copyBytes(e.payload),
            qos: e.qos,
            retain: e.retain,
            createdAt: e.createdAt,
            messageId: e.messageId,
          };
          if (e.expiresAt !== undefined) {
            r.expiresAt = e.expiresAt;
            expiring++;
          }
          pos.set(r.seq, items.length);
          items.push(r);
          seqs.push(r.seq);
          count++;
          out.push(outRecord(r));
        }
        bytes += add;
        heldBytes += add;
        return out;
      },
      async peek(limit: number, afterSeq?: number): Promise<OutboxRecord[]> {
        open();
        checkLimit(limit);
        if (afterSeq !== undefined) checkTime(afterSeq, "afterSeq");
        const out: OutboxRecord[] = [];
        for (let i = afterSeq === undefined ? head : upper(afterSeq); i < items.length && out.length < limit; i++) {
          const r = items[i];
          if (r !== undefined) out.push(outRecord(r));
        }
        return out;
      },
      async delete(del: readonly number[]): Promise<void> {
        open();
        checkSeqs(del);
        for (const s of del) {
          const i = pos.get(s);
          if (i !== undefined) removeAt(i);
        }
      },
      async expire(now: number): Promise<OutboxRecord[]> {
        open();
        checkTime(now, "now");
        if (expiring === 0) return [];
        const gone: OutboxRecord[] = [];
        for (let i = head; i < items.length; i++) {
          const r = items[i];
          if (r !== undefined && r.expiresAt !== undefined && r.expiresAt <= now) gone.push(r);
        }
        for (const r of gone) removeAt(pos.get(r.seq) as number);
        return gone.map(outRecord);
      },
      async stats(): Promise<OutboxStats> {
        open();
        return { count, bytes };
      },
    },
    deadLetters: {
      async move(seq: number, reason: string, failedAt: number): Promise<void> {
        open();
        checkSeqs([seq], "seq");
        checkTime(failedAt, "failedAt");
        const i = pos.get(seq);
        if (i === undefined) return;
        const r = removeAt(i);
        heldBytes += entryBytes(r); // it stays held, now as a dead letter
        dead.set(seq, { ...r, reason: String(reason), failedAt });
      },
      async list(limit?: number): Promise<DeadLetterRecord[]> {
        open();
        checkLimit(limit);
        const all = [...dead.values()].sort((a, b) => a.seq - b.seq);
        return all.slice(0, limit ?? all.length).map(deadRecord);
      },
      async delete(del: readonly number[]): Promise<void> {
        open();
        checkSeqs(del);
        for (const s of del) {
          const r = dead.get(s);
          if (r !== undefined) {
            dead.delete(s);
            heldBytes -= entryBytes(r);
          }
        }
      },
    },
    inbox: {
      async put(entry: InboxEntry): Promise<{ record: InboxRecord; duplicate: boolean }> {
        open();
        checkInboxEntry(entry);
        const earlier = byKey.get(entry.dedupeKey);
        if (earlier !== undefined) return { record: inRecord(inbox.get(earlier) as InboxRecord), duplicate: true };
        const b = entryBytes(entry);
        reserve(b);
        const r: InboxRecord = {
          seq: ++inSeq,
          topic: entry.topic,
          payload: copyBytes(entry.payload),
          qos: entry.qos,
          receivedAt: entry.receivedAt,
          dedupeKey: entry.dedupeKey,
        };
        if (entry.expiresAt !== undefined) r.expiresAt = entry.expiresAt;
        inbox.set(r.seq, r);
        byKey.set(r.dedupeKey, r.seq);
        heldBytes += b;
        return { record: inRecord(r), duplicate: false };
      },
      async list(o: InboxListOptions = {}): Promise<InboxRecord[]> {
        open();
        checkLimit(o.limit, "limit");
        if (o.afterSeq !== undefined) checkTime(o.afterSeq, "afterSeq");
        const limit = o.limit ?? Infinity;
        const out: InboxRecord[] = [];
        if (limit === 0) return out;
        for (const r of inbox.values()) {
          if (o.afterSeq !== undefined && r.seq <= o.afterSeq) continue;
          if (!o.includeAcked && r.ackedAt !== undefined) continue;
          out.push(inRecord(r));
          if (out.length >= limit) break;
        }
        return out;
      },
      async get(seq: number): Promise<InboxRecord | undefined> {
        open();
        const r = inbox.get(seq);
        return r === undefined ? undefined : inRecord(r);
      },
      async ack(ack: readonly number[], at: number): Promise<number> {
        open();
        checkSeqs(ack);
        checkTime(at, "at");
        let found = 0;
        for (const s of new Set(ack)) {
          const r = inbox.get(s);
          if (r === undefined) continue;
          found++;
          if (r.ackedAt === undefined) r.ackedAt = at;
        }
        return found;
      },
      async purge(o: InboxPurgeOptions): Promise<number> {
        open();
        if (o.expiredAt !== undefined) checkTime(o.expiredAt, "expiredAt");
        let n = 0;
        for (const r of [...inbox.values()]) {
          const hit =
            o.all === true ||
            (o.acked === true && r.ackedAt !== undefined) ||
            (o.expiredAt !== undefined && r.expiresAt !== undefined && r.expiresAt <= o.expiredAt);
          if (!hit) continue;
          inbox.delete(r.seq);
          byKey.delete(r.dedupeKey);
          heldBytes -= entryBytes(r);
          n++;
        }
        return n;
      },
      async count(): Promise<number> {
        open();
        return inbox.size;
      },
    },
    kv: {
      async get(key: string): Promise<string | undefined> {
        open();
        return kv.get(key);
      },
      async set(key: string, value: string): Promise<void> {
        open();
        if (typeof key !== "string" || typeof value !== "string") {
          throw new ThingwireError("OPTIONS_INVALID", "kv keys and values must be strings; serialize the value first.");
        }
        kv.set(key, value);
      },
      async delete(key: string): Promise<void> {
        open();
        kv.delete(key);
      },
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
  return store;
}
