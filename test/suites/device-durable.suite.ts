/**
 * The device over a durable store (SQLite on Node and Deno, IndexedDB in Chromium): what one
 * device stored while offline, the next device on the same store (a restart) delivers; the
 * inbox survives a restart; with a stoppable broker, delivery resumes after a reconnect.
 */
import { createDevice } from "../../src/device/device.ts";
import type { Device } from "../../src/device/types.ts";
import type { Store } from "../../src/store/store.ts";
import type { Assert, Harness } from "./harness.ts";
import type { TestBroker } from "./device-broker.suite.ts";
import { nextState, sleep, text, uid, until } from "./device-util.ts";

export interface DurableEnv {
  protocolVersion: 4 | 5;
  broker(): Promise<TestBroker>;
  /** Opens (again) the durable store called `name`. */
  openStore(name: string): Promise<Store>;
  /** A URL where no broker answers. */
  deadUrl: string;
  restartable: boolean;
  /** The store can be opened twice at once (tabs): only one handle drains. */
  sharedHandles: boolean;
}

export function deviceDurableSuite(h: Harness, env: DurableEnv): void {
  const assert: Assert = h.assert;
  const fast = { baseMs: 50, maxMs: 250 };
  const make = (url: string, store: Store, clientId = uid("dur")): Device =>
    createDevice({ url, clientId, store, protocolVersion: env.protocolVersion, reconnect: fast });

  async function receiver(url: string, topic: string): Promise<{ d: Device; got: string[] }> {
    const d = createDevice({ url, clientId: uid("rx"), protocolVersion: env.protocolVersion });
    const got: string[] = [];
    await d.subscribe(topic, (m) => void got.push(text(m.payload)));
    await nextState(d, "online");
    await sleep(50);
    return { d, got };
  }

  h.describe("device with a durable store", () => {
    h.test("a restart: what one device stored while offline, the next one on the same store delivers in order", async () => {
      const b = await env.broker();
      const name = uid("restart");
      const topic = `${uid("dur")}/t`;
      try {
        let store = await env.openStore(name);
        const first = make(env.deadUrl, store);
        const n = 200;
        await Promise.all(Array.from({ length: n }, (_, i) => first.publish(topic, `s${i}`)));
        await first.close(); // nothing was sent: the broker was unreachable
        await store.close();
        const rx = await receiver(b.url, topic);
        store = await env.openStore(name);
        assert.equal((await store.outbox.stats()).count, n, "the messages survived the restart");
        const second = make(b.url, store);
        await second.flush({ timeoutMs: 20_000 });
        await until(() => rx.got.length >= n, `${n} messages`, 20_000);
        assert.deepEqual(rx.got, Array.from({ length: n }, (_, i) => `s${i}`));
        assert.equal((await store.outbox.stats()).count, 0);
        await second.close();
        await rx.d.close();
        await store.close();
      } finally {
        await b.close();
      }
    }, { timeout: 40_000 });

    h.test("the inbox survives a restart: received messages are listed by the next device", async () => {
      const b = await env.broker();
      const name = uid("inbox");
      const topic = `${uid("dur")}/in`;
      try {
        let store = await env.openStore(name);
        const d1 = make(b.url, store);
        const got: number[] = [];
        await d1.subscribe(topic, (m) => void got.push(m.seq));
        await nextState(d1, "online");
        await sleep(50);
        const tx = createDevice({ url: b.url, clientId: uid("tx"), protocolVersion: env.protocolVersion });
        await tx.publish(topic, "kept");
        await tx.flush({ timeoutMs: 10_000 });
        await until(() => got.length === 1, "the message");
        await d1.close();
        await tx.close();
        await store.close();
        store = await env.openStore(name);
        const d2 = make(env.deadUrl, store);
        const listed = await d2.inbox.list();
        assert.deepEqual(listed.map((r) => [r.seq, r.topic, text(r.payload)]), [[got[0], topic, "kept"]]);
        assert.ok(listed[0]!.expiresAt! > Date.now());
        await d2.close();
        await store.close();
      } finally {
        await b.close();
      }
    });

    if (env.sharedHandles) {
      h.test("two handles on one store (two tabs): one drains, both flush, nothing is sent twice", async () => {
        const b = await env.broker();
        const name = uid("tabs");
        const topic = `${uid("dur")}/tabs`;
        try {
          const rx = await receiver(b.url, topic);
          const storeA = await env.openStore(name);
          const storeB = await env.openStore(name);
          assert.ok(storeA.drainLock !== undefined, "a shared store offers a drain lock");
          const a = make(b.url, storeA);
          const bDev = make(b.url, storeB);
          await Promise.all([nextState(a, "online"), nextState(bDev, "online")]);
          const n = 100;
          await Promise.all([
            ...Array.from({ length: n }, (_, i) => a.publish(topic, `a${i}`)),
            ...Array.from({ length: n }, (_, i) => bDev.publish(topic, `b${i}`)),
          ]);
          await Promise.all([a.flush({ timeoutMs: 20_000 }), bDev.flush({ timeoutMs: 20_000 })]);
          await until(() => rx.got.length >= 2 * n, `${2 * n} messages`, 20_000);
          await sleep(200);
          assert.equal(rx.got.length, 2 * n, "each message once");
          assert.deepEqual(rx.got.filter((m) => m.startsWith("a")), Array.from({ length: n }, (_, i) => `a${i}`));
          assert.deepEqual(rx.got.filter((m) => m.startsWith("b")), Array.from({ length: n }, (_, i) => `b${i}`));
          await Promise.all([a.close(), bDev.close(), rx.d.close()]);
          await Promise.all([storeA.close(), storeB.close()]);
        } finally {
          await b.close();
        }
      }, { timeout: 40_000 });
    }

    if (!env.restartable) return;

    h.test("reconnect delivery: the broker stops mid-drain and starts again; every message arrives", async () => {
      const b = await env.broker();
      const topic = `${uid("dur")}/rc`;
      try {
        const store = await env.openStore(uid("rc"));
        const d = make(b.url, store);
        await nextState(d, "online");
        const n = 1_000;
        const all = Array.from({ length: n }, (_, i) => d.publish(topic, `c${i}`));
        await sleep(5);
        await b.stop();
        await Promise.all(all);
        await nextState(d, "offline");
        await b.start();
        const rx = await receiver(b.url, topic);
        await d.flush({ timeoutMs: 20_000 });
        const after = Array.from({ length: 50 }, (_, i) => `after${i}`);
        for (const m of after) void d.publish(topic, m);
        await d.flush({ timeoutMs: 10_000 });
        await until(() => rx.got.includes("after49"), "the messages after the restart", 10_000);
        assert.deepEqual(rx.got.filter((m) => m.startsWith("after")), after);
        assert.equal((await store.outbox.stats()).count, 0);
        await d.close();
        await rx.d.close();
        await store.close();
      } finally {
        await b.close();
      }
    }, { timeout: 40_000 });
  });
}
