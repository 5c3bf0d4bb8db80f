/**
 * Runs every handler over the inbox, never losing a message: each handler works through the
 * unacknowledged inbox messages in order, from the store (so memory stays bounded and a restart
 * resumes where it stopped). A handler that throws retries the same message with exponential
 * backoff (equal jitter, `retry.baseMs` … `retry.maxMs`) and does not move on meanwhile, so order
 * is kept per handler. Which handlers are done with a message is recorded in the store's key-value
 * state; once all are, the message is acknowledged in the inbox. A restart hands a message only to
 * the handlers that had not finished it (at-least-once per handler).
 *
 * Permanent failures (`PUBLISH_REFUSED`, `MESSAGE_TOO_LARGE`, `TOPIC_INVALID`) are not retried in a
 * loop: the message is logged and left unacknowledged in the inbox, and the handler moves on.
 *
 * @example
 * ```ts
 * const d = new Dispatcher(handlers, { store, retry: { baseMs: 500, maxMs: 30_000 }, log });
 * d.start();
 * device.subscribe(topic, () => d.wake());
 * await d.idle(5_000); await d.close();
 * ```
 */
import { isThingwireError } from "../../errors.ts";
import type { InboxRecord, Store } from "../../store/store.ts";
import type { RetryConfig } from "../config-schema.ts";
import type { LogFn } from "../log.ts";
import type { Handler } from "./handler.ts";

const PERMANENT = new Set(["PUBLISH_REFUSED", "MESSAGE_TOO_LARGE", "TOPIC_INVALID"]);
const BATCH = 64;
const POLL_MS = 1_000;
const KV_PREFIX = "handlers-done:";

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  store: Store;
  retry: RetryConfig;
  log: LogFn;
  /** Called after a message was acknowledged (all handlers done). */
  onAcked?(seq: number): void;
}

interface Worker {
  handler: Handler;
  cursor: number;
  busy: boolean;
  failures: number;
  running: Promise<void> | undefined;
}

/** Passes inbox messages through handlers; see the module doc. */
export class Dispatcher {
  readonly #handlers: Handler[];
  readonly #o: DispatcherOptions;
  readonly #workers: Worker[];
  readonly #done = new Map<number, Set<string>>();
  #closed = false;
  #wakers = new Set<() => void>();
  #closers = new Set<() => void>();
  #kvChain: Promise<unknown> = Promise.resolve();
  /** Messages acknowledged by this dispatcher. */
  acked = 0;

  constructor(handlers: Handler[], options: DispatcherOptions) {
    this.#handlers = handlers;
    this.#o = options;
    this.#workers = handlers.map((handler) => ({ handler, cursor: 0, busy: false, failures: 0, running: undefined }));
  }

  /** Starts the workers (no-op without handlers). */
  start(): void {
    for (const w of this.#workers) w.running ??= this.#loop(w);
  }

  /** New messages are in the inbox: look now instead of at the next poll. */
  wake(): void {
    const ws = [...this.#wakers];
    this.#wakers.clear();
    for (const w of ws) w();
  }

  /** Resolves true once every handler has caught up with the inbox, false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = await this.pending();
      if (pending === 0) return true;
      if (Date.now() >= deadline || this.#closed) return false;
      this.wake();
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Unacknowledged inbox messages some handler has not finished (0 without handlers). */
  async pending(): Promise<number> {
    if (this.#workers.length === 0) return 0;
    const recs = await this.#o.store.inbox.list({ limit: BATCH });
    let n = 0;
    for (const r of recs) {
      const done = await this.#doneSet(r.seq);
      if (this.#workers.some((w) => !done.has(w.handler.name) && !(w.cursor >= r.seq && !w.busy))) n++;
    }
    return n;
  }

  /** Stops the workers (a retry wait ends at once) and closes the handlers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.wake();
    for (const c of [...this.#closers]) c();
    await Promise.all(this.#workers.map((w) => w.running?.catch(() => {})));
    await this.#kvChain.catch(() => {});
    await Promise.all(this.#handlers.map((h) => h.close?.().catch((e) => this.#o.log({ level: "warn", msg: "handler close failed", handler: h.name, error: e }))));
  }

  /** Waits `ms`; close() ends the wait, and so does wake() when `wakeable` (polls, not retry backoff). */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        this.#closers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      (wakeable ? this.#wakers : this.#closers).add(done);
    });
  }

  async #doneSet(seq: number): Promise<Set<string>> {
    let s = this.#done.get(seq);
    if (s) return s;
    const raw = await this.#o.store.kv.get(KV_PREFIX + seq);
    s = new Set<string>();
    if (raw !== undefined) {
      try {
        const list = JSON.parse(raw) as unknown;
        if (Array.isArray(list)) for (const x of list) if (typeof x === "string") s.add(x);
      } catch {
        // unreadable state: the handlers run again (at-least-once)
      }
    }
    const again = this.#done.get(seq);
    if (again) return again;
    this.#done.set(seq, s);
    return s;
  }

  #markDone(seq: number, name: string): Promise<void> {
    const run = async () => {
      const s = await this.#doneSet(seq);
      s.add(name);
      if (this.#handlers.every((h) => s.has(h.name))) {
        await this.#o.store.inbox.ack([seq], Date.now());
        await this.#o.store.kv.delete(KV_PREFIX + seq);
        this.#done.delete(seq);
        this.acked++;
        this.#o.log({ level: "debug", msg: "message handled", seq, handlers: this.#handlers.map((h) => h.name) });
        this.#o.onAcked?.(seq);
      } else {
        await this.#o.store.kv.set(KV_PREFIX + seq, JSON.stringify([...s]));
      }
    };
    const p = this.#kvChain.then(run, run);
    this.#kvChain = p.catch(() => {});
    return p;
  }

  #delay(failures: number): number {
    const { baseMs, maxMs } = this.#o.retry;
    const d = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
    return d / 2 + Math.random() * (d / 2);
  }

  async #loop(w: Worker): Promise<void> {
    const name = w.handler.name;
    while (!this.#closed) {
      let batch: InboxRecord[];
      try {
        batch = await this.#o.store.inbox.list({ afterSeq: w.cursor, limit: BATCH });
      } catch (e) {
        if (this.#closed) return;
        this.#o.log({ level: "error", msg: "cannot read the inbox", handler: name, error: e });
        await this.#sleep(POLL_MS);
        continue;
      }
      if (batch.length === 0) {
        await this.#sleep(POLL_MS);
        continue;
      }
      for (const rec of batch) {
        if (this.#closed) return;
        const done = await this.#doneSet(rec.seq);
        if (done.has(name)) {
          w.cursor = rec.seq;
          continue;
        }
        w.busy = true;
        const ok = await this.#deliver(w, rec);
        w.busy = false;
        if (ok === "closed") return;
        w.cursor = rec.seq;
      }
    }
  }

  /** Retries until the handler succeeds ("done"), gives up for good ("skipped"), or we close. */
  async #deliver(w: Worker, rec: InboxRecord): Promise<"done" | "skipped" | "closed"> {
    const name = w.handler.name;
    for (;;) {
      if (this.#closed) return "closed";
      try {
        await w.handler.handle({ topic: rec.topic, payload: rec.payload, qos: rec.qos, seq: rec.seq, receivedAt: rec.receivedAt });
        if (w.failures > 0) this.#o.log({ level: "info", msg: "handler recovered", handler: name, seq: rec.seq, failures: w.failures });
        w.failures = 0;
        await this.#markDone(rec.seq, name);
        return "done";
      } catch (e) {
        if (isThingwireError(e) && PERMANENT.has(e.code)) {
          this.#o.log({ level: "error", msg: "handler refused the message for good; it stays unacknowledged in the inbox", handler: name, seq: rec.seq, error: e });
          w.failures = 0;
          return "skipped";
        }
        w.failures++;
        const wait = Math.round(this.#delay(w.failures));
        this.#o.log({ level: "warn", msg: "handler failed; retrying", handler: name, seq: rec.seq, attempt: w.failures, retryInMs: wait, error: e });
        await this.#sleep(wait, false);
      }
    }
  }
}
