/**
 * Reconnect backoff: exponential with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the n-th delay (n = 0, 1, …) is uniform in [0, min(maxMs, baseMs · 2^n)).
 * The count goes back to 0 once a connection has stayed up `stableMs`.
 */
import { ThingwireError } from "../errors.ts";
import type { ReconnectOptions } from "./types.ts";

/** Backoff knobs with their defaults applied. */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 1_000, maxMs: 30_000, stableMs: 10_000 };

/** Applies defaults and checks the values; throws `OPTIONS_INVALID` naming the key. */
export function backoffSettings(o: ReconnectOptions = {}, path = "reconnect"): BackoffSettings {
  const s = { ...DEFAULT_BACKOFF };
  for (const key of ["baseMs", "maxMs", "stableMs"] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new ThingwireError("OPTIONS_INVALID", `${path}.${key} must be a non-negative number of milliseconds, got ${String(v)}.`, {
        path: `${path}.${key}`,
      });
    }
    s[key] = v;
  }
  if (s.maxMs < s.baseMs) {
    throw new ThingwireError("OPTIONS_INVALID", `${path}.maxMs (${s.maxMs}) must not be below ${path}.baseMs (${s.baseMs}).`, {
      path: `${path}.maxMs`,
    });
  }
  return s;
}

/** The ceiling of the n-th delay: min(maxMs, baseMs · 2^n). */
export function backoffCeiling(n: number, s: BackoffSettings): number {
  // 2^1024 is Infinity; min() handles it, but keep the exponent small anyway.
  return Math.min(s.maxMs, s.baseMs * 2 ** Math.min(n, 60));
}

/** The n-th delay for a random number `r` in [0, 1). */
export function backoffDelay(n: number, s: BackoffSettings, r: number): number {
  return Math.floor(r * backoffCeiling(n, s));
}

/** A running backoff: `next()` gives the delay after a failure and counts it. */
export interface Backoff {
  /** Failures counted since the last reset. */
  readonly failures: number;
  readonly settings: BackoffSettings;
  /** The delay before the next attempt; counts one failure. */
  next(): number;
  /** Back to the first delay (after a stable connection). */
  reset(): void;
}

/** A backoff with the given settings; `random` defaults to `Math.random` (inject one in tests). */
export function createBackoff(settings: BackoffSettings, random: () => number = Math.random): Backoff {
  let failures = 0;
  return {
    get failures() {
      return failures;
    },
    settings,
    next() {
      const r = random();
      const delay = backoffDelay(failures, settings, r >= 0 && r < 1 ? r : 0);
      failures++;
      return delay;
    },
    reset() {
      failures = 0;
    },
  };
}

/**
 * Connection attempts an outage of `outageMs` costs: the connection drops at 0, every attempt
 * starts after a backoff delay and fails after `attemptMs` (0 for "connection refused" at once)
 * while the outage lasts; the first attempt after the outage succeeds. Returns the failed attempts
 * and the total (failed + the one that succeeds).
 */
export function attemptsDuringOutage(
  outageMs: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
  attemptMs = 0,
): { failed: number; total: number; onlineAtMs: number } {
  const b = createBackoff(settings, random);
  let t = 0;
  let failed = 0;
  for (;;) {
    t += b.next();
    if (t >= outageMs) return { failed, total: failed + 1, onlineAtMs: t };
    failed++;
    t += attemptMs;
  }
}
