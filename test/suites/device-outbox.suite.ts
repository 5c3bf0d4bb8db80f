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
