/** Backoff: full-jitter bounds and distribution (seeded), reset, option checks, the cost of an outage. */
import { isThingwireError } from "../../src/errors.ts";
import {
  attemptsDuringOutage,
  backoffCeiling,
  backoffDelay,
  backoffSettings,
  createBackoff,
  DEFAULT_BACKOFF,
} from "../../src/device/backoff.ts";
import { seededRandom } from "../../src/cli/simulate-vehicle.ts";
import type { Assert, Harness } from "./harness.ts";


export function deviceBackoffSuite(h: Harness): void {
  const assert: Assert = h.assert;
  h.describe("device backoff", () => {
    h.test("defaults are base 1 s, max 30 s, stable 10 s", () => {
      assert.deepEqual(backoffSettings(), { baseMs: 1_000, maxMs: 30_000, stableMs: 10_000 });
      assert.deepEqual(DEFAULT_BACKOFF, backoffSettings({}));
    });

    h.test("ceilings double from baseMs and stop at maxMs", () => {
      const s = backoffSettings();
      const ceilings = Array.from({ length: 8 }, (_, n) => backoffCeiling(n, s));
      assert.deepEqual(ceilings, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
      assert.equal(backoffCeiling(5_000, s), 30_000, "a huge attempt count stays finite");
    });

    h.test("delay = floor(random · ceiling): 0 for r = 0, just under the ceiling for r → 1", () => {
      const s = backoffSettings();
      assert.equal(backoffDelay(3, s, 0), 0);
      assert.equal(backoffDelay(3, s, 0.5), 4_000);
      assert.equal(backoffDelay(3, s, 0.999999), 7_999);
      const b = createBackoff(s, () => 0.999999);
      assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999]);
    });

    h.test("full jitter: delays are uniform over [0, ceiling) (seeded, 20,000 samples)", () => {
      const s = backoffSettings();
      const random = seededRandom(42);
      const n = 20_000;
      const quarters = [0, 0, 0, 0];
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const d = backoffDelay(3, s, random()); // ceiling 8,000
        assert.ok(d >= 0 && d < 8_000, `delay ${d} out of range`);
        sum += d;
        quarters[Math.floor(d / 2_000)]!++;
      }
      const mean = sum / n;
      assert.ok(Math.abs(mean - 4_000) < 120, `mean ${mean} should be near 4,000`);
      for (const q of quarters) assert.ok(Math.abs(q / n - 0.25) < 0.02, `quarter share ${q / n} should be near 0.25`);
    });

    h.test("reset() goes back to the first ceiling", () => {
      const b = createBackoff(backoffSettings({ baseMs: 100, maxMs: 10_000 }), () => 0.999999);
      for (let i = 0; i < 6; i++) b.next();
      assert.equal(b.failures, 6);
      assert.equal(b.next(), 6_399);
      b.reset();
      assert.equal(b.failures, 0);
      assert.equal(b.next(), 99);
    });

    h.test("a random function outside [0, 1) cannot produce a negative or too-long delay", () => {
      const s = backoffSettings({ baseMs: 100, maxMs: 1_000 });
      for (const r of [-1, 1, 2, Number.NaN]) {
        const d = createBackoff(s, () => r).next();
        assert.ok(d >= 0 && d < 100, `r=${r} gave ${d}`);
      }
    });

    h.test("bad knobs throw OPTIONS_INVALID naming the key", () => {
      assert.throws(() => backoffSettings({ baseMs: -1 }), (e: unknown) => isThingwireError(e, "OPTIONS_INVALID") && e.path === "reconnect.baseMs");
      assert.throws(() => backoffSettings({ maxMs: Number.NaN }), (e: unknown) => isThingwireError(e, "OPTIONS_INVALID") && e.path === "reconnect.maxMs");
      assert.throws(() => backoffSettings({ baseMs: 5_000, maxMs: 1_000 }), (e: unknown) => isThingwireError(e, "OPTIONS_INVALID") && /must not be below/.test(e.message));
    });

    h.test("a 60 s outage costs 6 to about a dozen attempts with the defaults", () => {
      const s = DEFAULT_BACKOFF;
      // Longest delays: 1+2+4+8+16+30 s passes 60 s after 6 attempts (5 fail).
      assert.deepEqual(attemptsDuringOutage(60_000, s, () => 0.999999), { failed: 5, total: 6, onlineAtMs: 60_994 });
      // Mean delays: 0.5+1+2+4+8+15+15+15 → 8 attempts.
      assert.equal(attemptsDuringOutage(60_000, s, () => 0.5).total, 8);
      const random = seededRandom(7);
      const totals = Array.from({ length: 10_000 }, () => attemptsDuringOutage(60_000, s, random).total).sort((a, b) => a - b);
      const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
      assert.ok(totals[0]! >= 6, `never fewer than 6 attempts, got ${totals[0]}`);
      assert.ok(mean > 7.5 && mean < 10, `mean attempts ${mean}`);
      assert.ok(totals[Math.floor(totals.length * 0.99)]! <= 14, "the 99th percentile stays small: it never spins");
    });
  });
}
