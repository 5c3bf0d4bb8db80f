/**
 * The outbox's drain logic against a scripted MQTT client (so every PUBACK reason code can be
 * produced on demand) and the real memoryStore(): the in-flight window and the broker's Receive
 * Maximum, permanent and transient refusals, QoS 0, the tw-id property, the broker's maximum
 * packet size, resending after a reconnect, the drain rate, group commit. Runs in every runtime.
 */
import type { MqttClient } from "mqtt";
import type { Session } from "../../src/device/connection.ts";
import { createEmitter } from "../../src/device/emitter.ts";
import { resolveOptions } from "../../src/device/options.ts";
import { createOutbox, type Outbox } from "../../src/device/outbox.ts";
import type { DeviceEvents, DeviceOptions } from "../../src/device/types.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/store.ts";
import type { Assert, Harness } from "./harness.ts";
import { sleep, text, until } from "./device-util.ts";

interface Sent {
  topic: string;
  payload: string;
  qos: number;
  props: unknown;
}

/** A scripted client: `answer` says what PUBACK each publish gets (0 = success), after `delayMs`. */
function scriptedClient(answer: (s: Sent, n: number) => number | "never", delayMs = 1) {
  const sent: Sent[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;
  const client = {
    publish(topic: string, payload: Uint8Array, opts: { qos: number; properties?: unknown }, cb: (err?: Error) => void) {
      const s: Sent = { topic, payload: text(payload), qos: opts.qos, props: opts.properties };
      const n = sent.push(s);
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      const code = answer(s, n);
      if (code === "never") return client;
      setTimeout(() => {
        outstanding--;
        cb(code === 0 ? undefined : Object.assign(new Error(`Publish error: ${code}`), { code }));
      }, delayMs);
      return client;
    },
  };
  return {
    sent,
    get maxOutstanding() {
      return maxOutstanding;
    },
    session(v: 4 | 5, extra: Partial<Session> = {}): Session {
      return { id: 1, client: client as unknown as MqttClient, protocolVersion: v, maximumPacketSize: undefined, receiveMaximum: undefined, ...extra };
    },
  };
}

function outbox(extra: Partial<DeviceOptions> = {}, store: Store = memoryStore()) {
  const o = resolveOptions({ url: "ws://x", clientId: "c", ...extra });
  const events = createEmitter<DeviceEvents>();
  const box: Outbox = createOutbox({ store, o, emit: events.emit, log: () => {} });
  return { box, events, store };
}

/** A client whose PUBACKs the test gives by hand: `ack(n)` acknowledges the n oldest unacknowledged, in one tick. */
function manualClient() {
  const sent: Sent[] = [];
  const waiting: { payload: string; cb: (err?: Error) => void }[] = [];
  const client = {
    publish(topic: string, payload: Uint8Array, opts: { qos: number; properties?: unknown }, cb: (err?: Error) => void) {
      const s: Sent = { topic, payload: text(payload), qos: opts.qos, props: opts.properties };
      sent.push(s);
      waiting.push({ payload: s.payload, cb });
      return client;
    },
  };
  return {
    sent,
    /** Acknowledges the `n` oldest unacknowledged (all of them in the same tick); returns their payloads. */
    ack(n: number): string[] {
      const done = waiting.splice(0, n);
      for (const w of done) w.cb();
      return done.map((w) => w.payload);
    },
    get unacked() {
      return waiting.length;
    },
    session(v: 4 | 5 = 5): Session {
      return { id: 1, client: client as unknown as MqttClient, protocolVersion: v, maximumPacketSize: undefined, receiveMaximum: undefined };
    },
  };
}

/** A memoryStore() that records outbox calls: `peeks` (the seqs each read returned), `deletes` (the seqs of each call). */
function countingStore(real: Store = memoryStore()) {
  const peeks: number[][] = [];
  const deletes: number[][] = [];
  const store: Store = {
    ...real,
    kind: real.kind,
    outbox: {
      append: (e) => real.outbox.append(e),
      peek: async (l, a) => {
        const recs = await real.outbox.peek(l, a);
        peeks.push(recs.map((r) => r.seq));
        return recs;
      },
      delete: (seqs) => (deletes.push([...seqs]), real.outbox.delete(seqs)),
      expire: (n) => real.outbox.expire(n),
      stats: () => real.outbox.stats(),
    },
  };
  return { store, peeks, deletes };
}

export function deviceOutboxSuite(h: Harness): void {
  const assert: Assert = h.assert;
  h.describe("device outbox drain", () => {
    h.test("sends in publish order with at most outbox.inFlight unacknowledged, then empties the store", async () => {
      const { box, store } = outbox({ outbox: { inFlight: 4 } });
      const c = scriptedClient(() => 0, 2);
      const n = 200;
      await Promise.all(Array.from({ length: n }, (_, i) => box.publish("t", `m${i}`)));
      box.attach(c.session(5));
      await box.flush(10_000);
      assert.deepEqual(c.sent.map((s) => s.payload), Array.from({ length: n }, (_, i) => `m${i}`));
      assert.equal(c.maxOutstanding, 4, "the window is used and never exceeded");
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    });

    h.test("the broker's Receive Maximum narrows the window", async () => {
      const { box } = outbox();
      const c = scriptedClient(() => 0, 2);
      await Promise.all(Array.from({ length: 30 }, (_, i) => box.publish("t", `m${i}`)));
      box.attach(c.session(5, { receiveMaximum: 2 }));
      await box.flush(10_000);
      assert.equal(c.maxOutstanding, 2);
      box.close();
    });

    h.test("MQTT 5 carries tw-id = messageId; MQTT 3.1.1 sends no properties", async () => {
      for (const v of [5, 4] as const) {
        const { box } = outbox({ protocolVersion: v });
        const c = scriptedClient(() => 0);
        const r = await box.publish("t", "x");
        box.attach(c.session(v));
        await box.flush(5_000);
        assert.deepEqual(c.sent[0]!.props, v === 5 ? { userProperties: { "tw-id": r.messageId } } : undefined);
        box.close();
      }
    });

    h.test("a permanent refusal (PUBACK 135) moves the message to the dead letters and the queue goes on", async () => {
      const { box, events, store } = outbox();
      const dead: DeviceEvents["deadletter"][] = [];
      events.on("deadletter", (d) => void dead.push(d));
      const c = scriptedClient((s) => (s.topic === "forbidden" ? 135 : 0));
      await box.publish("ok", "1");
      await box.publish("forbidden", "2");
      await box.publish("ok", "3");
      box.attach(c.session(5));
      await box.flush(5_000);
      assert.deepEqual(c.sent.map((s) => s.payload), ["1", "2", "3"]);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.reason, "PUBACK reason code 135: Not authorized");
      assert.equal(text(dead[0]!.payload), "2");
      const letters = await store.deadLetters.list();
      assert.deepEqual(letters.map((l) => [l.topic, l.reason]), [["forbidden", "PUBACK reason code 135: Not authorized"]]);
      box.close();
    });

    h.test("a transient refusal (PUBACK 151 quota exceeded) pauses and retries from the refused message", async () => {
      const { box, events } = outbox({ outbox: { inFlight: 4 } });
      let dead = 0;
      events.on("deadletter", () => void dead++);
      let refused = 0;
      const c = scriptedClient((s) => (s.payload === "m5" && refused++ < 2 ? 151 : 0));
      await Promise.all(Array.from({ length: 10 }, (_, i) => box.publish("t", `m${i}`)));
      const started = Date.now();
      box.attach(c.session(5));
      await box.flush(15_000);
      assert.ok(Date.now() - started >= 2_900, "paused 1 s, then 2 s (the pause doubles while refused)");
      assert.equal(dead, 0, "nothing dead-lettered");
      const acked = c.sent.map((s) => s.payload);
      assert.equal(acked.filter((p) => p === "m5").length, 3, "m5 sent until accepted");
      const firstRetry = acked.indexOf("m5", acked.indexOf("m5") + 1);
      assert.ok(acked.slice(firstRetry).every((p) => Number(p.slice(1)) >= 5), "retries resume at the refused message");
      box.close();
    }, { timeout: 20_000 });

    h.test("QoS 0 messages leave the store once written", async () => {
      const { box, store } = outbox();
      const c = scriptedClient(() => 0);
      await box.publish("t", "zero", { qos: 0 });
      box.attach(c.session(5));
      await box.flush(5_000);
      assert.equal(c.sent[0]!.qos, 0);
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    });

    h.test("a message above the broker's maximum packet size is dead-lettered, never sent", async () => {
      const { box, events } = outbox();
      const reasons: string[] = [];
      events.on("deadletter", (d) => void reasons.push(d.reason));
      const c = scriptedClient(() => 0);
      await box.publish("t", "x".repeat(500));
      await box.publish("t", "small");
      box.attach(c.session(5, { maximumPacketSize: 200 }));
      await box.flush(5_000);
      assert.deepEqual(c.sent.map((s) => s.payload), ["small"]);
      assert.match(reasons[0]!, /maximum packet size of 200 bytes/);
      await assert.rejects(box.publish("t", "y".repeat(300)), (e: unknown) => (e as { code?: string }).code === "MESSAGE_TOO_LARGE");
      box.close();
    });

    h.test("after a reconnect everything unacknowledged is sent again from the oldest; duplicates ≤ the window", async () => {
      const { box, store } = outbox({ outbox: { inFlight: 8 } });
      const first = scriptedClient((_, n) => (n <= 20 ? 0 : "never"));
      await Promise.all(Array.from({ length: 100 }, (_, i) => box.publish("t", `m${i}`)));
      box.attach(first.session(5));
      await until(() => first.sent.length === 28, "20 acked + 8 stuck in flight");
      await until(async () => (await store.outbox.stats()).count === 80, "the 20 acknowledged deleted");
      box.detach(); // the connection drops with 8 in flight
      const second = scriptedClient(() => 0);
      box.attach({ ...second.session(5), id: 2 });
      await box.flush(5_000);
      assert.deepEqual(second.sent.map((s) => s.payload), Array.from({ length: 80 }, (_, i) => `m${i + 20}`));
      const duplicates = first.sent.length + second.sent.length - 100;
      assert.equal(duplicates, 8, "exactly the in-flight window was sent twice");
      box.close();
    });

    h.test("drainRatePerSec paces sending (a lower bound only: it can never be faster)", async () => {
      const { box } = outbox({ outbox: { drainRatePerSec: 50 } });
      const c = scriptedClient(() => 0);
      await Promise.all(Array.from({ length: 30 }, (_, i) => box.publish("t", `m${i}`)));
      const started = Date.now();
      box.attach(c.session(5));
      await box.flush(10_000);
      const elapsed = Date.now() - started;
      // A bucket of 5 tokens refilled at 50/s: 25 more sends need at least 500 ms.
      assert.ok(elapsed >= 450, `30 messages at 50/s took only ${elapsed} ms`);
      assert.equal(c.sent.length, 30);
      box.close();
    });

    h.test("acknowledgements that arrive together are deleted in one store call, and only after their PUBACK", async () => {
      const { store, deletes } = countingStore();
      const { box } = outbox({ outbox: { inFlight: 50 } }, store);
      const c = manualClient();
      const receipts = await Promise.all(Array.from({ length: 30 }, (_, i) => box.publish("t", `m${i}`)));
      box.attach(c.session());
      await until(() => c.sent.length === 30, "30 in flight");
      await sleep(50);
      assert.deepEqual(deletes, [], "nothing deleted before its PUBACK");
      assert.equal((await store.outbox.stats()).count, 30);
      c.ack(10); // ten PUBACKs in one tick (as mqtt.js handles the packets of one socket read)
      await until(() => deletes.length === 1, "the delete of the ten");
      assert.deepEqual(deletes[0], receipts.slice(0, 10).map((r) => r.seq), "one delete, exactly the acknowledged ten");
      assert.equal((await store.outbox.stats()).count, 20, "the unacknowledged twenty stay stored");
      for (let i = 0; i < 20; i++) c.ack(1); // twenty more, one per tick...
      await box.flush(5_000);
      assert.ok(deletes.length <= 1 + 20, "never more deletes than acknowledgements");
      assert.deepEqual(deletes.flat().sort((a, b) => a - b), receipts.map((r) => r.seq), "each record deleted exactly once");
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    });

    h.test("batched deletes keep what a crash would resend (sent and still stored) within outbox.inFlight", async () => {
      const { store, deletes } = countingStore();
      const { box } = outbox({ outbox: { inFlight: 8 } }, store);
      const c = manualClient();
      const n = 60;
      const receipts = await Promise.all(Array.from({ length: n }, (_, i) => box.publish("t", `m${i}`)));
      const seqOf = new Map(receipts.map((r, i) => [`m${i}`, r.seq]));
      box.attach({ ...c.session(), receiveMaximum: 3 }); // the broker narrows the window to 3
      let worst = 0;
      let acks = 0;
      while (acks < n) {
        await until(() => c.unacked > 0, "something in flight");
        acks += c.ack(1).length; // one PUBACK per tick
        await sleep(0);
        const stored = new Set((await store.outbox.peek(1_000, 0)).map((r) => r.seq));
        worst = Math.max(worst, c.sent.filter((x) => stored.has(seqOf.get(x.payload)!)).length);
      }
      await box.flush(5_000);
      assert.ok(worst <= 8, `${worst} sent messages were still stored at once (a crash would resend them); the bound is outbox.inFlight = 8`);
      assert.ok(deletes.length < n / 2, `${deletes.length} deletes for ${n} acknowledgements: batched`);
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    });

    h.test("acknowledged records waiting for their batched delete are deleted when the outbox closes", async () => {
      const { store, deletes } = countingStore();
      const { box } = outbox({}, store);
      const c = manualClient();
      await Promise.all(Array.from({ length: 5 }, (_, i) => box.publish("t", `m${i}`)));
      box.attach(c.session());
      await until(() => c.sent.length === 5, "5 in flight");
      c.ack(3);
      box.close(); // before the batched delete ran
      await sleep(0);
      assert.deepEqual(deletes.flat().length, 3);
      assert.equal((await store.outbox.stats()).count, 2, "the two unacknowledged stay for the next start");
    });

    h.test("records just appended go to the drain directly, without reading them back from the store", async () => {
      const { store, peeks } = countingStore();
      const { box } = outbox({}, store);
      const c = scriptedClient(() => 0);
      box.attach(c.session(5));
      await until(() => peeks.length >= 1, "the drain's first read (empty store)");
      for (let i = 0; i < 20; i++) await box.publish("t", `p${i}`);
      await Promise.all(Array.from({ length: 100 }, (_, i) => box.publish("t", `b${i}`)));
      await until(() => c.sent.length === 120, "all sent");
      assert.deepEqual(peeks.flat(), [], "no appended record was read back from the store");
      assert.deepEqual(c.sent.map((s) => s.payload), [...Array.from({ length: 20 }, (_, i) => `p${i}`), ...Array.from({ length: 100 }, (_, i) => `b${i}`)]);
      await box.flush(5_000);
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    });

    h.test("a record another handle appended in between is read from the store, in seq order, not skipped", async () => {
      const { store, peeks } = countingStore();
      const { box } = outbox({}, store);
      const c = scriptedClient(() => 0);
      box.attach(c.session(5));
      await box.publish("t", "mine-1");
      await until(() => c.sent.length === 1, "the first sent");
      // Another process appends to the same outbox (its seq lies between ours).
      await store.outbox.append([{ topic: "t", payload: new TextEncoder().encode("theirs"), qos: 1, retain: false, createdAt: Date.now(), messageId: "other-1" }]);
      await box.publish("t", "mine-2");
      await box.flush(5_000);
      assert.deepEqual(c.sent.map((s) => s.payload), ["mine-1", "theirs", "mine-2"]);
      assert.ok(peeks.flat().length >= 1, "the gap made the drain read the store");
      box.close();
    });

    h.test("more than the hand-off holds: the rest is read from the store; all sent once, in order", async () => {
      const { store, peeks } = countingStore();
      const { box } = outbox({ outbox: { inFlight: 8 } }, store);
      const c = manualClient();
      box.attach(c.session());
      await until(() => peeks.length >= 1, "the drain's first read");
      const n = 3_000; // above the hand-off's 1,024 records
      await Promise.all(Array.from({ length: n }, (_, i) => box.publish("t", `m${i}`)));
      while (c.sent.length < n || c.unacked > 0) {
        await until(() => c.unacked > 0, "something in flight");
        c.ack(c.unacked);
        await sleep(0);
      }
      await box.flush(10_000);
      assert.deepEqual(c.sent.map((s) => s.payload), Array.from({ length: n }, (_, i) => `m${i}`));
      const read = peeks.flat().length;
      assert.ok(read > 0 && read < n, `the part beyond the hand-off came from the store (${read} of ${n} read back)`);
      assert.equal((await store.outbox.stats()).count, 0);
      box.close();
    }, { timeout: 20_000 });

    h.test("a crash between append and send (records handed to the drain, never acknowledged) loses nothing: the next start sends them", async () => {
      const real = memoryStore(); // stands for the file that outlives the process
      const first = outbox({}, real);
      const c1 = manualClient();
      first.box.attach(c1.session());
      await Promise.all(Array.from({ length: 5 }, (_, i) => first.box.publish("t", `m${i}`)));
      await until(() => c1.sent.length === 5, "handed over and sent, no PUBACK");
      first.box.close(); // the process dies
      const second = outbox({}, real);
      const c2 = scriptedClient(() => 0);
      second.box.attach(c2.session(5));
      await second.box.flush(5_000);
      assert.deepEqual(c2.sent.map((s) => s.payload), ["m0", "m1", "m2", "m3", "m4"]);
      assert.equal((await real.outbox.stats()).count, 0);
      second.box.close();
    });

    h.test("group commit: publishes of the same tick go to the store in one append", async () => {
      const real = memoryStore();
      const sizes: number[] = [];
      const store: Store = { ...real, kind: real.kind, outbox: { ...real.outbox, append: (e) => (sizes.push(e.length), real.outbox.append(e)), peek: (l, a) => real.outbox.peek(l, a), delete: (s) => real.outbox.delete(s), expire: (n) => real.outbox.expire(n), stats: () => real.outbox.stats() } };
      const { box } = outbox({}, store);
      const receipts = await Promise.all(Array.from({ length: 300 }, (_, i) => box.publish("t", `m${i}`)));
      assert.deepEqual(sizes, [300], "300 publishes of one tick, one append");
      assert.deepEqual(receipts.map((r) => r.seq), receipts.map((_, i) => receipts[0]!.seq + i));
      await box.publish("t", "alone");
      assert.equal(sizes.at(-1), 1);
      box.close();
      await sleep(0);
    });
  });
}
