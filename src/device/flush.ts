/**
 * `flush()` waiting: a waiter for "every outbox record up to seq N is gone" (acknowledged,
 * dead-lettered, expired or dropped). Checked after each removal this handle makes, and polled
 * while anyone waits, since another handle (a tab, a process) may be the one draining. A check
 * after a removal skips the store read while this handle's drain still holds a record ≤ N (in
 * flight, buffered, or acknowledged with its delete pending): it is stored, so N is not reached.
 */
import { ThingwireError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import type { LogEntry } from "./types.ts";

const POLL_MS = 500;

interface Waiter {
  target: number;
  resolve(): void;
  reject(e: unknown): void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface FlushWaiters {
  /** Resolves once no record with seq ≤ target is left; TIMEOUT after `timeoutMs` (from `started`). */
  wait(target: number, timeoutMs: number | undefined, started: number, why: () => string): Promise<void>;
  /** Something was removed: check the waiters. */
  check(): void;
  /** Rejects every waiter with `error`. */
  close(error: ThingwireError): void;
}

export function createFlushWaiters(
  store: Store,
  log: (level: LogEntry["level"], msg: string, f?: Record<string, unknown>) => void,
  /** True when this handle knows a record with seq ≤ target is still stored. */
  holds: (target: number) => boolean = () => false,
): FlushWaiters {
  const waiters = new Set<Waiter>();
  let checking = false;
  let recheck = false;
  let poll: ReturnType<typeof setInterval> | undefined;

  const settlePoll = () => {
    if (waiters.size > 0 && poll === undefined) poll = setInterval(() => void check(true), POLL_MS);
    if (waiters.size === 0 && poll !== undefined) clearInterval(poll), (poll = undefined);
  };
  async function check(force = false): Promise<void> {
    if (waiters.size === 0) return;
    if (!force && [...waiters].every((w) => holds(w.target))) return;
    if (checking) return void (recheck = true);
    checking = true;
    try {
      do {
        recheck = false;
        const [first] = await store.outbox.peek(1, 0);
        for (const w of [...waiters]) {
          if (first !== undefined && first.seq <= w.target) continue;
          waiters.delete(w);
          clearTimeout(w.timer);
          w.resolve();
        }
      } while (recheck && waiters.size > 0);
    } catch (e) {
      log("warn", "checking flush progress failed", { error: e });
    } finally {
      checking = false;
      settlePoll();
    }
  }

  return {
    wait(target, timeoutMs, started, why) {
      return new Promise<void>((resolve, reject) => {
        const w: Waiter = { target, resolve, reject };
        if (timeoutMs !== undefined) {
          w.timer = setTimeout(() => {
            waiters.delete(w);
            settlePoll();
            reject(new ThingwireError("TIMEOUT", `flush did not finish within ${timeoutMs} ms: ${why()}; the device stays connected and keeps sending`));
          }, Math.max(0, timeoutMs - (Date.now() - started)));
        }
        waiters.add(w);
        settlePoll();
        void check();
      });
    },
    check: () => void check(),
    close(error) {
      for (const w of waiters) clearTimeout(w.timer), w.reject(error);
      waiters.clear();
      settlePoll();
    },
  };
}
