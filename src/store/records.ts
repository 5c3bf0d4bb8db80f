/**
 * Records handed out by the stores that keep them as objects (memory, IndexedDB): exactly the
 * port's fields, whatever else the stored object carries (its byte count, say), with optional
 * fields present only when set (internal).
 */
import type { InboxRecord, OutboxRecord } from "./store.ts";

/** The OutboxRecord fields of `r`, with `payload` (default: `r`'s own). */
export function outboxRecord(r: OutboxRecord, payload: Uint8Array = r.payload): OutboxRecord {
  const o: OutboxRecord = {
    seq: r.seq,
    topic: r.topic,
    payload,
    qos: r.qos,
    retain: r.retain,
    createdAt: r.createdAt,
    messageId: r.messageId,
  };
  if (r.expiresAt !== undefined) o.expiresAt = r.expiresAt;
  return o;
}

/** The InboxRecord fields of `r`, with `payload` (default: `r`'s own). */
export function inboxRecord(r: InboxRecord, payload: Uint8Array = r.payload): InboxRecord {
  const o: InboxRecord = {
    seq: r.seq,
    topic: r.topic,
    payload,
    qos: r.qos,
    receivedAt: r.receivedAt,
    dedupeKey: r.dedupeKey,
  };
  if (r.expiresAt !== undefined) o.expiresAt = r.expiresAt;
  if (r.ackedAt !== undefined) o.ackedAt = r.ackedAt;
  return o;
}
