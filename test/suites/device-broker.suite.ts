/**
 * The device against a real broker, in every runtime: round trip, status, ordering of 5,000 QoS 1
 * messages, offline queueing, broker restart, outbox limits and policies, expiry, flush, close,
 * the inbox and its handlers, store failures, auth rejection without spinning or leaking.
 * The environment (runner) says which broker and store; tests that stop the broker run only
 * where it can be stopped (Node, Deno), and say so in their names' group.
 */
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceEvents, DeviceOptions, LogEntry } from "../../src/device/types.ts";
import { isThingwireError, ThingwireError } from "../../src/errors.ts";
import type { Store } from "../../src/store/store.ts";
import type { Assert, Harness } from "./harness.ts";
import { nextState, sleep, statusLog, text, uid, until } from "./device-util.ts";

export interface TestBroker {
  /** ws:// URL of the broker. */
  url: string;
  /** Stops it (the port stays the same for start()); only when the env is restartable. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface DeviceEnv {
  protocolVersion: 4 | 5;
  /** A broker; with `password`, it refuses every connection whose password differs. */
  broker(opts?: { password?: string }): Promise<TestBroker>;
  store(): Store | Promise<Store>;
  /** The broker can be stopped and started again on the same port. */
  restartable: boolean;
  /** `broker({ password })` works (a broker that refuses wrong credentials can be started). */
  canRefuseAuth: boolean;
}

export function deviceBrokerSuite(h: Harness, env: DeviceEnv): void {
  const assert: Assert = h.assert;
  const fast = { baseMs: 50, maxMs: 250, stableMs: 10_000 };

  async function withDevice(
    b: TestBroker,
    extra: Partial<DeviceOptions>,
    fn: (d: Device, logs: LogEntry[]) => Promise<void>,
  ): Promise<void> {
    const logs: LogEntry[] = [];
    const d = createDevice({
      url: b.url,
      clientId: uid("dev"),
      protocolVersion: env.protocolVersion,
      store: await env.store(),
      reconnect: fast,
      logger: (e) => logs.push(e),
      ...extra,
    });
    try {
      await fn(d, logs);
    } finally {
      await d.close();
    }
  }

  function collect(d: Device, filter: string): Promise<{ got: string[]; seqs: number[] }> {
    const got: string[] = [];
    const seqs: number[] = [];
    return d.subscribe(filter, (m) => {
      got.push(text(m.payload));
      seqs.push(m.seq);
    }).then(() => ({ got, seqs }));
  }

  h.describe("device with a broker", () => {
    h.test("round trip: connecting → online, publish resolves when stored, the subscriber gets the message", async () => {
      const b = await env.broker();
      try {
        await withDevice(b, {}, async (d) => {
          const statuses = statusLog(d);
          await nextState(d, "online");
          const topic = `${uid("rt")}/a`;
          const got: { topic: string; payload: Uint8Array; seq: number }[] = [];
          await d.subscribe(topic, (m) => void got.push(m));
          const bin = new Uint8Array([0, 1, 2, 255, 128, 10, 13]);
          const r1 = await d.publish(topic, "hello");
          const r2 = await d.publish(topic, bin, { qos: 0 });
          assert.ok(r1.seq < r2.seq && /^[0-9a-f]{24}$/.test(r1.messageId));
          await until(() => got.length === 2, "2 messages");
          // MQTT orders messages per QoS level only: find each by QoS.
          const q1 = got.find((m) => text(m.payload) === "hello");
          const q0 = got.find((m) => m !== q1);
          assert.ok(q1 && q0);
          assert.deepEqual([...q0.payload], [...bin]);
          assert.equal(q1.topic, topic);
          const stored = await d.inbox.list();
          assert.deepEqual(stored.map((r) => r.seq), got.map((m) => m.seq), "handed messages are in the inbox");
          assert.deepEqual(statuses.map((s) => s.state), ["connecting", "online"]);
          for (const s of statuses) assert.ok(s.reason.length > 0 && s.at > 0);
          await d.close();
          assert.equal(d.status.state, "closed");
          assert.equal(statuses.at(-1)!.state, "closed");
        });
      } finally {
        await b.close();
      }
    });

    h.test("5,000 QoS 1 messages arrive in publish order; flush resolves once all are acknowledged", async () => {
      const b = await env.broker();
      try {
        await withDevice(b, {}, async (d) => {
          const topic = `${uid("order")}/x`;
          const { got } = await collect(d, topic);
          await nextState(d, "online");
          const n = 5_000;
          const receipts = await Promise.all(Array.from({ length: n }, (_, i) => d.publish(topic, `m${i}`)));
          for (let i = 1; i < n; i++) assert.ok(receipts[i]!.seq > receipts[i - 1]!.seq, "seq grows in publish order");
          await d.flush({ timeoutMs: 30_000 });
          assert.deepEqual(await d.outbox.stats(), { count: 0, bytes: 0, inFlight: 0 });
          await until(() => got.length >= n, `${n} messages`, 30_000);
          assert.equal(got.length, n, "no duplicates without a reconnect");
          for (let i = 0; i < n; i++) if (got[i] !== `m${i}`) assert.fail(`message ${i} is ${got[i]}`);
        });
      } finally {
        await b.close();
      }
    }, { timeout: 60_000 });

    h.test("inbox: list / ack / purge; a throwing handler emits handler-error; a stuck handler stalls nothing else", async () => {
      const b = await env.broker();
      try {
        await withDevice(b, {}, async (d) => {
          const base = uid("in");
          const errors: DeviceEvents["handler-error"][] = [];
          d.on("handler-error", (e) => errors.push(e));
          await d.subscribe(`${base}/stuck`, () => new Promise<void>(() => {}));
          await d.subscribe(`${base}/throw`, () => {
            throw new Error("handler bug");
          });
          const { got } = await collect(d, `${base}/ok`);
          await nextState(d, "online");
          await d.publish(`${base}/stuck`, "s1");
          await d.publish(`${base}/stuck`, "s2");
          await d.publish(`${base}/throw`, "t1");
          for (let i = 0; i < 20; i++) await d.publish(`${base}/ok`, `o${i}`);
          await d.flush({ timeoutMs: 10_000 });
          await until(() => got.length === 20 && errors.length === 1, "the ok handler and the handler error");
          assert.equal(errors[0]!.topic, `${base}/throw`);
          assert.match(String((errors[0]!.error as Error).message), /handler bug/);
          await until(async () => (await d.inbox.list()).length === 23, "23 stored messages");
          const all = await d.inbox.list();
          assert.deepEqual(all.map((r) => text(r.payload)).filter((p) => p.startsWith("s")), ["s1", "s2"], "stuck messages are stored");
          assert.equal(await d.inbox.ack(all.slice(0, 3).map((r) => r.seq)), 3);
          assert.equal(await d.inbox.ack(all[3]!.seq), 1);
          assert.equal((await d.inbox.list()).length, 19);
          assert.equal((await d.inbox.list({ includeAcked: true })).length, 23);
          assert.equal(await d.inbox.purge({ acked: true }), 4);
          assert.equal(await d.inbox.purge({ all: true }), 19);
        });
      } finally {
        await b.close();
      }
    });

    h.test("unsubscribe stops delivery to that handler only", async () => {
      const b = await env.broker();
      try {
        await withDevice(b, {}, async (d) => {
          const topic = `${uid("unsub")}/a`;
          const one: string[] = [];
          const two: string[] = [];
          const off = await d.subscribe(topic, (m) => void one.push(text(m.payload)));
          await d.subscribe(topic, (m) => void two.push(text(m.payload)));
          await nextState(d, "online");
          await d.publish(topic, "a");
          await until(() => one.length === 1 && two.length === 1, "both handlers");
          await off();
          await off(); // idempotent
          await d.publish(topic, "b");
          await until(() => two.length === 2, "second handler");
          await sleep(50);
          assert.deepEqual(one, ["a"]);
        });
      } finally {
        await b.close();
      }
    });

    h.test("publish checks topic, QoS and size before storing anything", async () => {
      const b = await env.broker();
      try {
        await withDevice(b, { outbox: { maxMessageBytes: 1_000 } }, async (d) => {
          const bad = (code: string, re?: RegExp) => (e: unknown) => isThingwireError(e) && e.code === code && (!re || re.test(e.message));
          await assert.rejects(d.publish("a/+", "x"), bad("TOPIC_INVALID", /wildcards/));
          await assert.rejects(d.publish("", "x"), bad("TOPIC_INVALID"));
          await assert.rejects(d.publish("a", "x", { qos: 2 as 1 }), bad("OPTIONS_INVALID"));
          await assert.rejects(d.publish("a", new Uint8Array(1_001)), bad("MESSAGE_TOO_LARGE", /1001 bytes, the limit outbox.maxMessageBytes is 1000/));
          await d.publish("a", new Uint8Array(1_000));
          const s = await d.outbox.stats();
          assert.ok(s.count <= 1, "only the valid message was stored");
        });
      } finally {
        await b.close();
      }
    });

    h.test("a failing store rejects publish with its STORE_* error and the device keeps running", async () => {
      const b = await env.broker();
      try {
        const real = await env.store();
        let fail = false;
        const store: Store = {
          ...real,
          kind: real.kind,
          outbox: {
            ...real.outbox,
            append: (entries) =>
              fail ? Promise.reject(new ThingwireError("STORE_IO", "disk full (simulated)")) : real.outbox.append(entries),
            peek: (l, a) => real.outbox.peek(l, a),
            delete: (s) => real.outbox.delete(s),
            expire: (n) => real.outbox.expire(n),
            stats: () => real.outbox.stats(),
          },
        };
        await withDevice(b, { store }, async (d) => {
          const topic = `${uid("sf")}/a`;
          const { got } = await collect(d, topic);
          await nextState(d, "online");
          await d.publish(topic, "before");
          fail = true;
          await assert.rejects(d.publish(topic, "lost"), (e: unknown) => isThingwireError(e, "STORE_IO"));
          fail = false;
          await d.publish(topic, "after");
          await d.flush({ timeoutMs: 10_000 });
          await until(() => got.length === 2, "2 messages");
          assert.deepEqual(got, ["before", "after"]);
          assert.equal(d.status.state, "online");
        });
      } finally {
        await b.close();
      }
    });

    h.test("close is idempotent; afterwards publish, subscribe and flush reject with DEVICE_CLOSED", async () => {
      const b = await env.broker();
      try {
        const d = createDevice({ url: b.url, clientId: uid("close"), protocolVersion: env.protocolVersion, store: await env.store() });
        const statuses = statusLog(d);
        await nextState(d, "online");
        const p1 = d.close();
        const p2 = d.close({ flushTimeoutMs: 100 });
        await Promise.all([p1, p2]);
        await d.close();
        assert.deepEqual(statuses.filter((s) => s.state === "closed").length, 1, "one closed status");
        const closed = (e: unknown) => isThingwireError(e, "DEVICE_CLOSED");
        await assert.rejects(d.publish("a", "x"), closed);
        await assert.rejects(d.subscribe("a", () => {}), closed);
        await assert.rejects(d.flush(), closed);
        // closing before the first attempt also works
        const d2 = createDevice({ url: b.url, clientId: uid("close"), protocolVersion: env.protocolVersion });
        await d2.close();
        assert.equal(d2.status.state, "closed");
      } finally {
        await b.close();
      }
    });

    h.test("close({ flushTimeoutMs }) sends what is queued before disconnecting", async () => {
      const b = await env.broker();
      try {
        const topic = `${uid("cf")}/a`;
        const watcher = createDevice({ url: b.url, clientId: uid("w"), protocolVersion: env.protocolVersion });
        const got: string[] = [];
        await watcher.subscribe(topic, (m) => void got.push(text(m.payload)));
        await nextState(watcher, "online");
        await sleep(50); // let the SUBSCRIBE land before anything is published
        const d = createDevice({ url: b.url, clientId: uid("cf"), protocolVersion: env.protocolVersion, store: await env.store() });
        for (let i = 0; i < 50; i++) void d.publish(topic, `c${i}`);
        await d.close({ flushTimeoutMs: 10_000 });
        await until(() => got.length === 50, "50 messages at the watcher");
        await watcher.close();
      } finally {
        await b.close();
      }
    });

    if (env.canRefuseAuth) h.test("auth rejected: AUTH_REJECTED, backoff without spinning, and the password never shows", async () => {
      const secret = `pw-${uid("secret")}-${"x".repeat(8)}`;
      const b = await env.broker({ password: "the-right-one" });
      try {
        await withDevice(
          b,
          {
            auth: { kind: "token", prepare: (t) => Promise.resolve({ url: t.url, username: "u", password: secret, secrets: [secret] }) },
            reconnect: { baseMs: 100, maxMs: 400 },
          },
          async (d, logs) => {
            const statuses = statusLog(d);
            await sleep(1_500);
            const failures = statuses.filter((s) => s.state === "offline");
            assert.ok(failures.length >= 2, `it retries (${failures.length} failures)`);
            assert.ok(failures.length <= 40, `it backs off instead of spinning (${failures.length} attempts in 1.5 s)`);
            for (const s of failures) {
              assert.equal(s.error?.code, "AUTH_REJECTED", s.reason);
              assert.ok(typeof s.retryInMs === "number" && s.retryInMs >= 0 && s.retryInMs < 400);
            }
            assert.match(failures[0]!.reason, /refused the credentials/);
            const everything = JSON.stringify(statuses) + JSON.stringify(logs) + statuses.map((s) => `${s.reason} ${s.error?.message}`).join("\n");
            assert.ok(!everything.includes(secret), "the password appears nowhere");
          },
        );
      } finally {
        await b.close();
      }
    });

    if (!env.restartable) return;

    h.describe("with the broker stopped and started", () => {
      h.test("offline queueing: messages published while the broker is down arrive in order once it is up", async () => {
        const b = await env.broker();
        await b.stop();
        try {
          await withDevice(b, {}, async (d) => {
            const statuses = statusLog(d);
            const topic = `${uid("offline")}/a`;
            const { got } = await collect(d, topic);
            const n = 300;
            await Promise.all(Array.from({ length: n }, (_, i) => d.publish(topic, `q${i}`)));
            await until(() => statuses.some((s) => s.state === "offline"), "an offline status");
            const off = statuses.find((s) => s.state === "offline")!;
            assert.equal(off.error?.code, "CONNECT_FAILED", off.reason);
            assert.equal((await d.outbox.stats()).count, n);
            await b.start();
            await nextState(d, "online", 10_000);
            await d.flush({ timeoutMs: 20_000 });
            await until(() => got.length >= n, `${n} messages`, 20_000);
            assert.deepEqual(got, Array.from({ length: n }, (_, i) => `q${i}`));
          });
        } finally {
          await b.close();
        }
      }, { timeout: 40_000 });

      h.test("broker restart mid-session: CONNECTION_LOST, online again, subscriptions restored, nothing lost", async () => {
        const b = await env.broker();
        try {
          await withDevice(b, {}, async (d) => {
            const statuses = statusLog(d);
            const topic = `${uid("restart")}/a`;
            const { got } = await collect(d, topic);
            await nextState(d, "online");
            const n = 2_000;
            const all = Array.from({ length: n }, (_, i) => d.publish(topic, `r${i}`));
            await sleep(5);
            await b.stop();
            await Promise.all(all);
            await nextState(d, "offline");
            await b.start();
            await until(() => statuses.filter((s) => s.state === "online").length >= 2, "online again", 15_000);
            const lost = statuses.find((s) => s.state === "offline" && s.error?.code === "CONNECTION_LOST");
            assert.ok(lost, `a CONNECTION_LOST status: ${JSON.stringify(statuses.map((s) => s.error?.code ?? s.state))}`);
            await d.flush({ timeoutMs: 20_000 });
            assert.equal((await d.outbox.stats()).count, 0, "every message was acknowledged by a broker");
            const after = Array.from({ length: 100 }, (_, i) => `after${i}`);
            for (const m of after) void d.publish(topic, m);
            await d.flush({ timeoutMs: 10_000 });
            await until(() => got.includes("after99"), "the messages after the restart (resubscribed)", 10_000);
            assert.deepEqual(got.filter((m) => m.startsWith("after")), after, "in order, once each");
            // The old broker keeps no state, so what it had routed but not delivered when it stopped is
            // gone with it; what the device resent after the reconnect is at most one in-flight window.
            const before = got.filter((m) => m.startsWith("r"));
            const dups = before.length - new Set(before).size;
            assert.ok(dups <= 64, `duplicates ${dups} stay within the in-flight window`);
          });
        } finally {
          await b.close();
        }
      }, { timeout: 60_000 });

      h.test("outbox full, policy reject: STORE_FULL naming the limit; nothing over it is stored", async () => {
        const b = await env.broker();
        await b.stop();
        try {
          await withDevice(b, { outbox: { maxMessages: 10, maxBytes: 10_000 } }, async (d) => {
            const rs = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => d.publish("t/full", `m${i}`)));
            assert.equal(rs.filter((r) => r.status === "fulfilled").length, 10);
            const failed = rs.filter((r): r is PromiseRejectedResult => r.status === "rejected");
            assert.equal(failed.length, 2);
            for (const f of failed) {
              assert.ok(isThingwireError(f.reason, "STORE_FULL"));
              assert.match(f.reason.message, /holds 10 messages, its limit outbox.maxMessages is 10/);
            }
            assert.equal((await d.outbox.stats()).count, 10);
          });
          await withDevice(b, { outbox: { maxMessages: 100, maxBytes: 100 } }, async (d) => {
            await d.publish("t/b", new Uint8Array(60));
            await assert.rejects(d.publish("t/b", new Uint8Array(60)), (e: unknown) => isThingwireError(e, "STORE_FULL") && /outbox.maxBytes is 100/.test(e.message));
          });
        } finally {
          await b.close();
        }
      });

      h.test("outbox full, policy drop-oldest: the oldest go with a dropped event; the newest are delivered", async () => {
        const b = await env.broker();
        await b.stop();
        try {
          await withDevice(b, { outbox: { maxMessages: 5, whenFull: "drop-oldest" } }, async (d) => {
            const dropped: string[] = [];
            d.on("dropped", (e) => {
              assert.equal(e.reason, "overflow");
              for (const r of e.records) dropped.push(text(r.payload));
            });
            const topic = `${uid("drop")}/a`;
            const { got } = await collect(d, topic);
            for (let i = 0; i < 8; i++) await d.publish(topic, `d${i}`);
            assert.deepEqual(dropped, ["d0", "d1", "d2"]);
            assert.equal((await d.outbox.stats()).count, 5);
            await b.start();
            await d.flush({ timeoutMs: 15_000 });
            await until(() => got.length === 5, "5 messages", 10_000);
            assert.deepEqual(got, ["d3", "d4", "d5", "d6", "d7"]);
          });
        } finally {
          await b.close();
        }
      }, { timeout: 30_000 });

      h.test("expired messages are dropped with an event instead of being sent", async () => {
        const b = await env.broker();
        await b.stop();
        try {
          await withDevice(b, {}, async (d) => {
            const expired: string[] = [];
            d.on("dropped", (e) => {
              if (e.reason === "expired") for (const r of e.records) expired.push(text(r.payload));
            });
            const topic = `${uid("ttl")}/a`;
            const { got } = await collect(d, topic);
            await d.publish(topic, "short", { ttlMs: 30 });
            await d.publish(topic, "long", { ttlMs: 60_000 });
            await d.publish(topic, "forever");
            await sleep(60);
            await b.start();
            await d.flush({ timeoutMs: 15_000 });
            await until(() => got.length === 2, "2 messages", 10_000);
            assert.deepEqual(got, ["long", "forever"]);
            assert.deepEqual(expired, ["short"]);
          });
        } finally {
          await b.close();
        }
      }, { timeout: 30_000 });

      h.test("flush: at once when empty, TIMEOUT while offline, done once the broker is back", async () => {
        const b = await env.broker();
        try {
          await withDevice(b, {}, async (d) => {
            await nextState(d, "online");
            await d.flush({ timeoutMs: 1_000 });
            await b.stop();
            await nextState(d, "offline");
            await d.publish("t/flush", "x");
            await assert.rejects(d.flush({ timeoutMs: 100 }), (e: unknown) => isThingwireError(e, "TIMEOUT") && /within 100 ms/.test(e.message));
            const done = d.flush({ timeoutMs: 15_000 });
            await b.start();
            await done;
            assert.equal((await d.outbox.stats()).count, 0);
          });
        } finally {
          await b.close();
        }
      }, { timeout: 30_000 });
    });
  });
}
