/** The Store conformance suite against memoryStore() on Node, plus its maxBytes option. */
import { describe, expect, test } from "vitest";
import { vitestHarness } from "../helpers/vitest-harness.ts";
import { storeSuite } from "../suites/store.suite.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { entryBytes } from "../../src/store/store.ts";
import type { OutboxEntry } from "../../src/store/store.ts";

storeSuite(vitestHarness, { label: "memory", persistent: false, open: async () => memoryStore() });
storeSuite(vitestHarness, { label: "memory (maxBytes 64 MiB)", persistent: false, open: async () => memoryStore({ maxBytes: 64 << 20 }) });

const entry = (i: number, size: number): OutboxEntry => ({
  topic: "t",
  payload: new Uint8Array(size),
  qos: 1,
  retain: false,
  createdAt: i,
  messageId: `m${i}`,
});

describe("memoryStore maxBytes", () => {
  test("an append or put above maxBytes rejects STORE_QUOTA, stores nothing, and fits again after deletes", async () => {
    const s = memoryStore({ maxBytes: 1000 });
    const [a] = await s.outbox.append([entry(1, 399), entry(2, 399)]); // 400 + 400 bytes with the topic
    await expect(s.outbox.append([entry(3, 100), entry(4, 150)])).rejects.toMatchObject({
      name: "ThingwireError",
      code: "STORE_QUOTA",
      message: expect.stringMatching(/holds 800 of its 1000 bytes and 252 more do not fit/),
    });
    expect(await s.outbox.stats()).toEqual({ count: 2, bytes: 800 });
    await expect(
      s.inbox.put({ topic: "t", payload: new Uint8Array(300), qos: 1, receivedAt: 1, dedupeKey: "k" }),
    ).rejects.toMatchObject({ code: "STORE_QUOTA" });
    expect(await s.inbox.count()).toBe(0);
    // dead letters still count; deleting them frees the bytes
    await s.deadLetters.move(a!.seq, "refused", 1);
    await expect(s.outbox.append([entry(5, 250)])).rejects.toMatchObject({ code: "STORE_QUOTA" });
    await s.deadLetters.delete([a!.seq]);
    await s.outbox.append([entry(5, 250)]);
    expect(await s.outbox.stats()).toEqual({ count: 2, bytes: 400 + entryBytes(entry(5, 250)) });
    // purged inbox messages free their bytes too
    await s.inbox.put({ topic: "t", payload: new Uint8Array(340), qos: 1, receivedAt: 1, dedupeKey: "k" }); // 992 held
    await expect(s.outbox.append([entry(6, 10)])).rejects.toMatchObject({ code: "STORE_QUOTA" });
    await s.inbox.purge({ all: true });
    await s.outbox.append([entry(6, 10)]);
  });

  test("bad maxBytes is refused", () => {
    expect(() => memoryStore({ maxBytes: -1 })).toThrow(expect.objectContaining({ code: "OPTIONS_INVALID", path: "maxBytes" }));
  });

  test("draining 100,000 records oldest first in pages returns them in order and empties the store", async () => {
    const s = memoryStore();
    const recs = await s.outbox.append(Array.from({ length: 100_000 }, (_, i) => entry(i, 8)));
    let drained = 0;
    for (;;) {
      const page = await s.outbox.peek(500);
      if (page.length === 0) break;
      expect(page[0]!.seq).toBe(recs[drained]!.seq);
      await s.outbox.delete(page.map((r) => r.seq));
      drained += page.length;
    }
    expect(drained).toBe(100_000);
    expect(await s.outbox.stats()).toEqual({ count: 0, bytes: 0 });
  });
});
