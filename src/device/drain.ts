/**
 * The durable outbox, send side: while online (and holding the store's drain lock, when it has
 * one) it reads the store in seq order and publishes with a bounded in-flight window. A QoS 1
 * message leaves the store on PUBACK, a QoS 0 one once written to the socket (deletes batched).
 * After every reconnect it starts again from the oldest stored message: at-least-once, in order,
 * duplicates at most the window. A permanent PUBACK refusal moves the message to the dead letters;
 * a transient one pauses and retries.
 *
 * Cheap on a durable store: acknowledged records are deleted in batches, ONE `store.outbox.delete`
 * (one commit) for the PUBACKs of up to DELETE_DELAY_MS while sending goes on, or of one turn of
 * the event loop once nothing is left to send, and at once when the records in flight plus those
 * awaiting their delete reach `outbox.inFlight` — so a crash still makes the next start resend at
 * most `outbox.inFlight` messages (the bound the kill tests check). A record leaves the store only
 * after its own PUBACK; a reconnect never resends an acknowledged one (it stays "settling"). And
 * the records the outbox has just appended are handed over (`offer`) instead of being read back,
 * when they are exactly the next ones to send (their seqs follow the drain's cursor with no gap)
 * and fit the hand-off bound; otherwise — after a restart, a reconnect, a backlog, another handle
 * appending — the drain reads the store (`peek`) as before.
 */
import type { IClientPublishOptions } from "mqtt";
import { ReasonCodes } from "./reason-codes.ts";
import type { OutboxRecord, Store } from "../store/store.ts";
import type { Session } from "./connection.ts";
import type { Emitter } from "./emitter.ts";
import type { ResolvedOptions } from "./options.ts";
import type { DeviceEvents, LogEntry } from "./types.ts";
import { MESSAGE_ID_PROPERTY, PERMANENT_PUBACK_REASONS, publishPacketSize } from "./wire.ts";

const PEEK = 256;
/** Bounds of what the drain holds ahead of sending: records handed over by `offer`, and their bytes. */
const HANDOFF_MAX_RECORDS = 1_024;
const HANDOFF_MAX_BYTES = 4 << 20;
/** Acknowledged records deleted in one transaction at most (more start a delete at once). */
const MAX_DELETE_BATCH = 1_024;
/** While sending goes on, how long acknowledged records wait to be deleted together. */
const DELETE_DELAY_MS = 20;
const MAX_RETRY_PAUSE_MS = 30_000;

export interface DrainContext {
  store: Store;
  o: ResolvedOptions;
  emit: Emitter<DeviceEvents>["emit"];
  log(level: LogEntry["level"], msg: string, fields?: Record<string, unknown>): void;
  /** Records this drain deleted or moved (the outbox counts them out). */
  removed(recs: readonly OutboxRecord[]): void;
  /** Removes expired records from the store (and reports them). */
  expire(): Promise<void>;
  noteSeq(seq: number): void;
}

export interface Drain {
  attach(session: Session): void;
  detach(): void;
  /** Something was appended: look again. */
  wake(): void;
  /**
   * Records this handle just appended (one append, in seq order): queued for sending without a
   * store read when they directly follow what the drain has read so far; returns how many were
   * taken (a prefix; the rest are read from the store later).
   */
  offer(recs: readonly OutboxRecord[]): number;
  /** Records deleted by someone else (dropped, expired): do not send or count them. */
  forget(seqs: readonly number[]): void;
  /** Acknowledged, delete pending. */
  isSettling(seq: number): boolean;
  /** True when a record with seq ≤ `seq` is in flight, buffered or settling (so still stored). */
  holdsUpTo(seq: number): boolean;
  readonly settlingCount: number;
  readonly inFlight: number;
  close(): void;
}

export function createDrain(ctx: DrainContext): Drain {
  const { store, o, emit, log } = ctx;
  const v5 = o.protocolVersion === 5;
  const rate = o.outbox.drainRatePerSec;
  const capacity = Math.max(1, Math.ceil(rate / 10));
  let tokens = capacity;
  let refilledAt = Date.now();
  let gen = 0;
  let session: Session | undefined;
  let window = o.outbox.inFlight;
  let cursor = 0;
  let buffer: OutboxRecord[] = [];
  /** Payload bytes of the records `offer` put into `buffer` and not yet sent (the hand-off bound). */
  let handedBytes = 0;
  let handed = new Set<OutboxRecord>();
  let deleteSoon: ReturnType<typeof setTimeout> | undefined;
  let deleteDue = 0;
  const inflight = new Map<number, OutboxRecord>();
  const settling = new Set<number>();
  let toDelete: OutboxRecord[] = [];
  let deleting = false;
  let deleteRetryMs = 1_000;
  let deleteTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let retryFrom: number | undefined;
  let pausedUntil = 0;
  let retryPause = 1_000;
  let lockAbort: AbortController | undefined;
  let lock: { release(): void } | undefined;
  let dirty = false;
  let waiter: (() => void) | undefined;

  const wake = () => {
    dirty = true;
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const waitWake = (ms?: number) =>
    new Promise<void>((resolve) => {
      if (dirty) return resolve();
      let t: ReturnType<typeof setTimeout> | undefined;
      waiter = () => {
        clearTimeout(t);
        resolve();
      };
      if (ms !== undefined) t = setTimeout(() => waiter?.(), ms);
    });
  const takeToken = (): number => {
    if (!Number.isFinite(rate)) return 0;
    const now = Date.now();
    tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * rate);
    refilledAt = now;
    if (tokens >= 1) return (tokens -= 1), 0;
    return Math.ceil(((1 - tokens) / rate) * 1000);
  };

  async function flushDeletes(): Promise<void> {
    if (deleting) return;
    deleting = true;
    try {
      while (toDelete.length > 0) {
        const batch = toDelete;
        toDelete = [];
        try {
          await store.outbox.delete(batch.map((r) => r.seq));
        } catch (e) {
          // Still acknowledged: keep them settling (not sent again, still awaited by flush) and retry.
          toDelete = batch.concat(toDelete);
          log("error", `deleting ${batch.length} acknowledged messages failed; retrying in ${deleteRetryMs} ms`, { error: e });
          if (!closed) deleteTimer = setTimeout(() => void flushDeletes(), deleteRetryMs);
          deleteRetryMs = Math.min(deleteRetryMs * 2, MAX_RETRY_PAUSE_MS);
          return;
        }
        deleteRetryMs = 1_000;
        for (const r of batch) settling.delete(r.seq);
        ctx.removed(batch);
      }
    } finally {
      deleting = false;
    }
  }

  /**
   * Acknowledged records are deleted in batches: once nothing is left to send, on the next turn
   * of the event loop; while sending goes on, DELETE_DELAY_MS after the first acknowledgement of
   * the batch (so one commit covers several turns of a window narrowed by the broker's Receive
   * Maximum); at once when in flight + awaiting delete reach `outbox.inFlight`. That keeps what a
   * crash makes the next start send again (every stored record it had sent) ≤ `outbox.inFlight`.
   */
  function queueDelete(rec: OutboxRecord): void {
    settling.add(rec.seq);
    toDelete.push(rec);
    const delay = atDeleteBound() ? -1 : inflight.size === 0 && buffer.length === 0 ? 0 : DELETE_DELAY_MS;
    const due = Date.now() + delay;
    if (deleteSoon !== undefined && deleteDue <= due) return;
    clearTimeout(deleteSoon);
    deleteSoon = undefined;
    if (delay < 0) return void flushDeletes();
    deleteDue = due;
    deleteSoon = setTimeout(() => {
      deleteSoon = undefined;
      void flushDeletes();
    }, delay);
  }

  const atDeleteBound = () => toDelete.length > 0 && (inflight.size + toDelete.length >= o.outbox.inFlight || toDelete.length >= MAX_DELETE_BATCH);
  /** Deletes the acknowledged ones now (before sending more) when they and the in-flight ones reach the bound. */
  function deleteIfAtBound(): void {
    if (!atDeleteBound()) return;
    clearTimeout(deleteSoon);
    deleteSoon = undefined;
    void flushDeletes();
  }

  /** Takes the next buffered record, keeping the hand-off bound's count. */
  function nextBuffered(): OutboxRecord {
    const rec = buffer.shift()!;
    if (handed.delete(rec)) handedBytes -= rec.payload.byteLength;
    return rec;
  }
  function clearBuffer(): void {
    buffer = [];
    handed = new Set();
    handedBytes = 0;
  }

  async function deadLetter(rec: OutboxRecord, reason: string): Promise<void> {
    settling.add(rec.seq);
    try {
      const failedAt = Date.now();
      await store.deadLetters.move(rec.seq, reason, failedAt);
      settling.delete(rec.seq); // before `removed`: flush waiters look at what the drain still holds
      ctx.removed([rec]);
      log("warn", `message moved to the dead letters: ${reason}`, { topic: rec.topic, seq: rec.seq });
      emit("deadletter", { ...rec, reason, failedAt });
    } catch (e) {
      log("error", "moving a refused message to the dead letters failed", { error: e, seq: rec.seq });
    } finally {
      settling.delete(rec.seq);
    }
  }

  function send(s: Session, rec: OutboxRecord, g: number): void {
    inflight.set(rec.seq, rec);
    deleteIfAtBound();
    const opts: IClientPublishOptions = { qos: rec.qos === 0 ? 0 : 1, retain: rec.retain };
    if (v5) opts.properties = { userProperties: { [MESSAGE_ID_PROPERTY]: rec.messageId } };
    // mqtt.js writes Uint8Array payloads as they are (its types say Buffer).
    try {
      s.client.publish(rec.topic, rec.payload as unknown as string, opts, onAck);
    } catch (e) {
      inflight.delete(rec.seq);
      void deadLetter(rec, `the MQTT client refused it: ${e instanceof Error ? e.message : String(e)}`);
    }
    function onAck(err?: Error): void {
      if (g !== gen || inflight.get(rec.seq) !== rec) return; // old session, or forgotten
      inflight.delete(rec.seq);
      const code = (err as { code?: unknown } | undefined)?.code;
      if (err === undefined || err === null) {
        if (retryFrom === undefined) retryPause = 1_000; // not while a refused message waits for its retry
        queueDelete(rec);
      } else if (typeof code === "number" && code >= 0x80) {
        const reason = `PUBACK reason code ${code}: ${ReasonCodes[code] ?? "refused"}`;
        if (PERMANENT_PUBACK_REASONS.has(code)) void deadLetter(rec, reason);
        else {
          log("warn", `the broker refused a message for now (${reason}); retrying in ${retryPause} ms`, { seq: rec.seq });
          retryFrom = Math.min(retryFrom ?? rec.seq, rec.seq);
          pausedUntil = Date.now() + retryPause;
          retryPause = Math.min(retryPause * 2, MAX_RETRY_PAUSE_MS);
        }
      } // else: the connection went; everything unacknowledged is sent again after the reconnect
      wake();
    }
  }

  async function run(g: number): Promise<void> {
    await ctx.expire();
    while (g === gen && session !== undefined) {
      const s = session;
      const now = Date.now();
      if (pausedUntil > now) {
        await waitWake(pausedUntil - now);
        dirty = false;
        continue;
      }
      if (retryFrom !== undefined) {
        // A transient refusal: once the window is empty, start again from the refused message.
        if (inflight.size > 0) {
          dirty = false;
          await waitWake();
          continue;
        }
        cursor = retryFrom - 1;
        clearBuffer();
        retryFrom = undefined;
      }
      if (inflight.size >= window) {
        dirty = false;
        await waitWake();
        continue;
      }
      if (buffer.length === 0) {
        dirty = false;
        let recs: OutboxRecord[];
        try {
          recs = await store.outbox.peek(PEEK, cursor);
        } catch (e) {
          log("error", "reading the outbox failed; retrying in 1 s", { error: e });
          await waitWake(1_000);
          continue;
        }
        if (g !== gen) return;
        if (recs.length === 0) {
          if (buffer.length === 0) await waitWake();
          continue;
        }
        // `offer` may have moved the cursor while this read was under way: what it handed over
        // (the seqs right after the old cursor) is already buffered, so only newer records join.
        const fresh = recs.filter((r) => r.seq > cursor && !settling.has(r.seq) && !inflight.has(r.seq));
        cursor = Math.max(cursor, recs[recs.length - 1]!.seq);
        ctx.noteSeq(cursor);
        for (const r of fresh) buffer.push(r);
        continue;
      }
      const rec = nextBuffered();
      if (rec.expiresAt !== undefined && rec.expiresAt <= now) {
        await ctx.expire();
        continue;
      }
      const max = s.maximumPacketSize;
      if (max !== undefined && publishPacketSize(rec.topic, rec.payload.byteLength, rec.qos, v5, rec.messageId) > max) {
        await deadLetter(rec, `larger than the broker's maximum packet size of ${max} bytes`);
        continue;
      }
      for (let w = takeToken(); w > 0; w = takeToken()) {
        await waitWake(w);
        dirty = false;
        if (g !== gen) return;
      }
      send(s, rec, g);
    }
  }

  const stop = () => {
    gen++;
    session = undefined;
    lockAbort?.abort();
    lockAbort = undefined;
    lock?.release();
    lock = undefined;
    clearBuffer();
    inflight.clear();
    retryFrom = undefined;
    pausedUntil = 0;
    wake();
  };

  return {
    attach(s) {
      stop();
      const g = gen;
      session = s;
      cursor = 0;
      window = Math.max(1, Math.min(o.outbox.inFlight, s.receiveMaximum ?? Infinity));
      const go = () => void run(g).catch((e) => log("error", "the outbox drain stopped", { error: e }));
      if (store.drainLock === undefined) return go();
      lockAbort = new AbortController();
      store.drainLock(lockAbort.signal).then(
        (l) => {
          if (g !== gen) return l.release();
          lock = l;
          go();
        },
        (e) => {
          if (g === gen) log("error", "acquiring the outbox drain lock failed", { error: e });
        },
      );
    },
    detach: stop,
    wake,
    offer(recs) {
      // Only into a running drain (holding the lock, if the store has one), with no refused
      // message waiting for its retry, and only records that directly follow the cursor:
      // a gap means someone else appended (or the drain has not read up to here), so read instead.
      if (session === undefined || retryFrom !== undefined || closed) return 0;
      if (store.drainLock !== undefined && lock === undefined) return 0;
      let taken = 0;
      for (const rec of recs) {
        if (rec.seq !== cursor + 1) break;
        if (handed.size >= HANDOFF_MAX_RECORDS || handedBytes + rec.payload.byteLength > HANDOFF_MAX_BYTES) break;
        buffer.push(rec);
        handed.add(rec);
        handedBytes += rec.payload.byteLength;
        cursor = rec.seq;
        taken++;
      }
      if (taken > 0) {
        ctx.noteSeq(cursor);
        wake();
      }
      return taken;
    },
    forget(seqs) {
      const set = new Set(seqs);
      for (const s of set) inflight.delete(s);
      if (buffer.length) {
        buffer = buffer.filter((r) => !set.has(r.seq));
        for (const r of handed) if (set.has(r.seq)) handed.delete(r), (handedBytes -= r.payload.byteLength);
      }
      wake();
    },
    isSettling: (seq) => settling.has(seq),
    holdsUpTo(seq) {
      if (buffer.length > 0 && buffer[0]!.seq <= seq) return true;
      for (const s of inflight.keys()) if (s <= seq) return true;
      for (const s of settling) if (s <= seq) return true;
      return false;
    },
    get settlingCount() {
      return settling.size;
    },
    get inFlight() {
      return inflight.size;
    },
    close() {
      closed = true;
      clearTimeout(deleteTimer);
      // Acknowledged ones waiting for the timer: delete them now, before the store can be closed.
      clearTimeout(deleteSoon);
      deleteSoon = undefined;
      void flushDeletes();
      stop();
    },
  };
}
