/**
 * The durable outbox, write side: `publish()` checks the message, then stores it with group
 * commit (every publish arriving while a write is pending, up to 512, goes into ONE
 * `store.outbox.append`) and resolves once its batch is stored; the stored records go straight to
 * the drain when they are the next to send (drain.ts `offer`). Limits by count and bytes with a
 * policy ("reject" → `STORE_FULL`, "drop-oldest" → `dropped` event), expiry, and `flush()`.
 * Sending is drain.ts.
 */
import { isThingwireError, ThingwireError } from "../errors.ts";
import { entryBytes, type OutboxEntry, type OutboxRecord, type Store } from "../store/store.ts";
import type { Session } from "./connection.ts";
import { createDrain, type Drain } from "./drain.ts";
import { createFlushWaiters } from "./flush.ts";
import type { Emitter } from "./emitter.ts";
import type { ResolvedOptions } from "./options.ts";
import { describe } from "./redact.ts";
import { assertPublishTopic } from "./topics.ts";
import type { DeviceEvents, LogEntry, PublishOptions, PublishReceipt } from "./types.ts";
import { newMessageId, publishPacketSize } from "./wire.ts";

const MAX_BATCH = 512;
const EXPIRE_EVERY_MS = 30_000;
const encoder = new TextEncoder();

export interface OutboxContext {
  store: Store;
  o: ResolvedOptions;
  emit: Emitter<DeviceEvents>["emit"];
  log(level: LogEntry["level"], msg: string, fields?: Record<string, unknown>): void;
}

export interface Outbox {
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): Promise<PublishReceipt>;
  flush(timeoutMs?: number): Promise<void>;
  attach(session: Session): void;
  detach(): void;
  stats(): Promise<{ count: number; bytes: number; inFlight: number }>;
  close(): void;
}

interface Pending {
  entry: OutboxEntry;
  bytes: number;
  n: number;
  resolve(r: PublishReceipt): void;
  reject(e: unknown): void;
}

/** A store failure as the `STORE_*` error publish() rejects with. */
export function storeError(e: unknown, what: string): ThingwireError {
  if (isThingwireError(e) && e.code.startsWith("STORE_")) return e;
  return new ThingwireError("STORE_IO", `${what} failed: ${describe(e)}`, { cause: e });
}

export function createOutbox(ctx: OutboxContext): Outbox {
  const { store, o, emit, log } = ctx;
  const limits = o.outbox;
  const v5 = o.protocolVersion === 5;
  let queue: Pending[] = [];
  let writing = false;
  let closed = false;
  let counter = { count: 0, bytes: 0 };
  let counterReady = false;
  let published = 0; // publish() calls queued
  let written = 0; // of those, settled (stored or refused)
  let maxSeq = 0; // highest seq this handle appended or saw
  let brokerMaxPacket: number | undefined;
  const writeWaiters: { n: number; resolve(): void }[] = [];
  const flushes = createFlushWaiters(store, log, (target) => drain.holdsUpTo(target));

  const sync = async () => {
    const s = await store.outbox.stats();
    counter = { count: s.count, bytes: s.bytes };
    counterReady = true;
  };
  const over = (c: number, b: number) => counter.count + c > limits.maxMessages || counter.bytes + b > limits.maxBytes;
  /** STORE_FULL for a message of `bytes` when the outbox holds `c` / `b` more than the counter says. */
  const full = (c: number, b: number, bytes: number) => {
    const advice = 'wait for it to drain (device.flush()), raise the limit, or use whenFull "drop-oldest"';
    if (bytes > limits.maxBytes) {
      return new ThingwireError("STORE_FULL", `the message needs ${bytes} bytes, more than the whole outbox may hold (outbox.maxBytes ${limits.maxBytes}); raise the limit`);
    }
    return counter.count + c + 1 > limits.maxMessages
      ? new ThingwireError("STORE_FULL", `the outbox holds ${counter.count + c} messages, its limit outbox.maxMessages is ${limits.maxMessages}; ${advice}`)
      : new ThingwireError("STORE_FULL", `the outbox holds ${counter.bytes + b} bytes and this message needs ${bytes} more, its limit outbox.maxBytes is ${limits.maxBytes}; ${advice}`);
  };

  // Removal bookkeeping, shared with the drain: a record leaves the counter once, by whoever deleted it.
  const removed = (recs: readonly OutboxRecord[]) => {
    for (const r of recs) {
      counter.count = Math.max(0, counter.count - 1);
      counter.bytes = Math.max(0, counter.bytes - entryBytes(r));
    }
    if (recs.length > 0) flushes.check();
  };
  const expire = async () => {
    const recs = await store.outbox.expire(Date.now());
    if (recs.length === 0) return;
    const gone = recs.filter((r) => !drain.isSettling(r.seq)); // acknowledged ones are not "dropped"
    drain.forget(recs.map((r) => r.seq));
    removed(gone);
    if (gone.length) emit("dropped", { reason: "expired", records: gone });
  };
  const drain: Drain = createDrain({ store, o, log, emit, removed, expire: () => expire().catch((e) => log("warn", "outbox expiry failed", { error: e })), noteSeq: (s) => (maxSeq = Math.max(maxSeq, s)) });

  /** drop-oldest: deletes the oldest stored messages until `c` more messages of `b` bytes fit. */
  async function makeRoom(c: number, b: number): Promise<void> {
    await sync();
    while (over(c, b)) {
      const excess = Math.max(1, counter.count + c - limits.maxMessages);
      const recs = await store.outbox.peek(excess + drain.settlingCount + 16, 0);
      const victims: OutboxRecord[] = [];
      let count = counter.count + c, bytes = counter.bytes + b;
      for (const r of recs) {
        if (count <= limits.maxMessages && bytes <= limits.maxBytes) break;
        if (drain.isSettling(r.seq)) continue;
        victims.push(r);
        count--;
        bytes -= entryBytes(r);
      }
      if (victims.length === 0) return;
      drain.forget(victims.map((r) => r.seq));
      await store.outbox.delete(victims.map((r) => r.seq));
      removed(victims);
      emit("dropped", { reason: "overflow", records: victims });
    }
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    if (!counterReady) await sync();
    const accepted: Pending[] = [];
    let c = 0, b = 0, synced = false;
    for (const p of batch) {
      if (limits.whenFull === "reject" && over(c + 1, b + p.bytes) && !synced) {
        await sync();
        synced = true;
      }
      if (p.bytes > limits.maxBytes || (limits.whenFull === "reject" && over(c + 1, b + p.bytes))) {
        p.reject(full(c, b, p.bytes));
        continue;
      }
      accepted.push(p);
      c++;
      b += p.bytes;
    }
    if (accepted.length === 0) return;
    if (limits.whenFull === "drop-oldest" && over(c, b)) await makeRoom(c, b);
    let recs: OutboxRecord[];
    try {
      recs = await store.outbox.append(accepted.map((p) => p.entry));
    } catch (e) {
      const err = storeError(e, "storing the message");
      for (const p of accepted) p.reject(err);
      return;
    }
    counter.count += c;
    counter.bytes += b;
    // Hand the fresh records to the drain (no read-back) before anything below can drop them:
    // a drop calls drain.forget, which takes them out again.
    drain.offer(recs);
    // A batch larger than the limit itself: its own oldest go too.
    if (limits.whenFull === "drop-oldest" && over(0, 0)) {
      await makeRoom(0, 0).catch((e) => log("error", "dropping the oldest messages failed", { error: e }));
    }
    accepted.forEach((p, i) => {
      const seq = recs[i]?.seq ?? 0;
      maxSeq = Math.max(maxSeq, seq);
      p.resolve({ seq, messageId: p.entry.messageId });
    });
    drain.wake();
  }

  async function writer(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
        queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
        try {
          await writeBatch(batch);
        } catch (e) {
          const err = storeError(e, "checking the outbox limits");
          for (const p of batch) p.reject(err); // no-op for those already settled
        }
        written = batch[batch.length - 1]!.n;
        for (const w of [...writeWaiters]) if (written >= w.n) writeWaiters.splice(writeWaiters.indexOf(w), 1), w.resolve();
      }
    } finally {
      writing = false;
    }
  }

  async function highestStoredSeq(): Promise<number> {
    let after = 0;
    for (;;) {
      const page = await store.outbox.peek(2_000, after);
      if (page.length === 0) return after;
      after = page[page.length - 1]!.seq;
    }
  }

  // Another handle (a tab, a process) appended: look again, and count again before the next limit decision.
  const unwatch = store.watch?.(() => {
    counterReady = false;
    drain.wake();
  });
  const expiryTimer = setInterval(() => void expire().catch((e) => log("warn", "outbox expiry failed", { error: e })), EXPIRE_EVERY_MS);

  return {
    publish(topic, payload, options = {}) {
      if (closed) return Promise.reject(new ThingwireError("DEVICE_CLOSED", "the device is closed; create a new one to publish"));
      try {
        assertPublishTopic(topic);
        const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
        if (!(bytes instanceof Uint8Array)) throw new ThingwireError("OPTIONS_INVALID", "payload must be a Uint8Array or a string.", { path: "payload" });
        const qos = options.qos ?? 1;
        if (qos !== 0 && qos !== 1) throw new ThingwireError("OPTIONS_INVALID", `qos must be 0 or 1, got ${String(qos)}.`, { path: "qos" });
        if (bytes.byteLength > limits.maxMessageBytes) {
          throw new ThingwireError("MESSAGE_TOO_LARGE", `the payload is ${bytes.byteLength} bytes, the limit outbox.maxMessageBytes is ${limits.maxMessageBytes}; split or compress it`);
        }
        const messageId = newMessageId();
        const size = publishPacketSize(topic, bytes.byteLength, qos, v5, messageId);
        if (brokerMaxPacket !== undefined && size > brokerMaxPacket) {
          throw new ThingwireError("MESSAGE_TOO_LARGE", `the PUBLISH packet would be ${size} bytes, the broker's maximum packet size is ${brokerMaxPacket}; split or compress it`);
        }
        const ttl = options.ttlMs ?? limits.ttlMs;
        const now = Date.now();
        const entry: OutboxEntry = { topic, payload: bytes, qos, retain: options.retain ?? false, createdAt: now, messageId };
        if (ttl !== undefined) entry.expiresAt = now + ttl;
        return new Promise<PublishReceipt>((resolve, reject) => {
          queue.push({ entry, bytes: entryBytes(entry), n: ++published, resolve, reject });
          // Start on a microtask, so every publish of this tick joins the first batch.
          if (!writing) {
            writing = true;
            queueMicrotask(() => void writer());
          }
        });
      } catch (e) {
        return Promise.reject(e);
      }
    },

    async flush(timeoutMs) {
      if (closed) throw new ThingwireError("DEVICE_CLOSED", "the device is closed");
      const started = Date.now();
      const n = published;
      if (written < n) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => writeWaiters.push({ n, resolve })),
          new Promise<never>((_, reject) => {
            if (timeoutMs !== undefined) timer = setTimeout(() => reject(new ThingwireError("TIMEOUT", `flush did not finish within ${timeoutMs} ms: the store is still writing the last messages`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
      }
      const target = maxSeq > 0 ? maxSeq : await highestStoredSeq();
      await flushes.wait(target, timeoutMs, started, () => `messages up to seq ${target} are not all acknowledged yet (${drain.inFlight} in flight)`);
    },

    attach(session) {
      brokerMaxPacket = session.maximumPacketSize;
      drain.attach(session);
    },
    detach: () => drain.detach(),
    async stats() {
      const s = await store.outbox.stats();
      return { count: s.count, bytes: s.bytes, inFlight: drain.inFlight };
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(expiryTimer);
      unwatch?.();
      drain.close();
      flushes.close(new ThingwireError("DEVICE_CLOSED", "the device was closed before the outbox was flushed"));
    },
  };
}
