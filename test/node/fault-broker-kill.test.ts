/**
 * Fault: the broker is killed (SIGKILL) and restarted on the same ports during a drain of 10,000
 * QoS 1 messages — with the SQLite store and with the memory store. Checked: none of the 10,000
 * confirmed messages is lost, duplicates stay within (kills × in-flight window), and first
 * arrivals keep publish order.
 *
 * Design (so that any loss is thingwire's, not the observer's):
 * - The device talks MQTT 5 over WebSocket to Mosquitto. The observer is a bare mqtt.js
 *   subscriber over plain TCP, QoS 1, `clean: false`.
 * - For a QoS 1 PUBLISH Mosquitto first queues the message to every subscriber — for a TCP
 *   subscriber with no in-flight limit (`max_inflight_messages 0`, `max_queued_messages 0`) that
 *   writes it to the subscriber's socket at once — and only then sends PUBACK to the publisher.
 *   So every message thingwire saw acknowledged is already in the subscriber's kernel buffer when
 *   the broker dies, and the subscriber still reads it. What Mosquitto had not acknowledged,
 *   thingwire must send again.
 * - Mosquitto runs with persistence, and is stopped cleanly (SIGTERM writes its database) once the
 *   subscriber's session exists. After each SIGKILL it restarts from that database, so the
 *   subscriber's session and subscription survive, and messages the device delivers before the
 *   subscriber has reconnected are queued for it rather than dropped for lack of a subscriber.
 */
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceStatus } from "../../src/device/types.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { type Counter, keys, report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

const N = 10_000;
const IN_FLIGHT = 64;
/** Kill when the subscriber has seen this share of the messages. */
const KILL_AT = [0.25, 0.6];

let dir: string;
let broker: MosquittoBroker;
const unhandled = trackUnhandled();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-fault-kill-"));
  broker = await startMosquitto({ ws: true, persistence: true, maxInflightMessages: 0, maxQueuedMessages: 0 });
});
afterAll(async () => {
  unhandled.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ["sqlite", () => openSqliteStore(join(dir, `kill-${Date.now()}.db`))],
  ["memory", async () => memoryStore()],
] as const)("broker SIGKILL during a drain (%s store)", (kind, makeStore) => {
  test(`${N} QoS 1 messages, broker killed ${KILL_AT.length}× and restarted: none lost, duplicates ≤ kills × window, order kept`, async () => {
    const topic = `fault/kill/${kind}`;
    const producer = `kill-${kind}`;
    // The subscriber's session must be in Mosquitto's database before the first SIGKILL.
    const sub: Counter = await startCounter(broker.tcpUrl, `${topic}/#`, { clientId: `sub-${kind}`, clean: false });
    await broker.restart(); // SIGTERM: Mosquitto saves the session, then starts again
    await sub.until((c) => c.client.connected, "subscriber reconnected after the clean restart", 10_000);

    const store: Store = await makeStore();
    const statuses: DeviceStatus[] = [];
    const device: Device = createDevice({
      url: broker.wsUrl!,
      clientId: `dev-${kind}`,
      store,
      keepaliveSec: 5,
      connectTimeoutMs: 3_000,
      reconnect: { baseMs: 50, maxMs: 400, stableMs: 60_000 },
      outbox: { inFlight: IN_FLIGHT },
    });
    device.on("status", (s) => statuses.push(s));
    const started = Date.now();
    try {
      const confirmed = keys(producer, N);
      // Queue all 10,000 (publish() resolves once stored); the drain runs meanwhile.
      const receipts = await Promise.all(confirmed.map((k) => device.publish(`${topic}/data`, k, { qos: 1 })));
      expect(receipts).toHaveLength(N);

      let kills = 0;
      for (const share of KILL_AT) {
        await sub.until((c) => c.distinct >= N * share, `${share * 100}% delivered`, 60_000);
        await broker.kill();
        kills++;
        await broker.restart();
      }
      await sub.until((c) => c.distinct >= N, "every message delivered", 60_000).catch(async (e: unknown) => {
        // Say where it stuck: the device's last states and what the outbox still holds.
        const stats = await device.outbox.stats().catch((x: unknown) => String(x));
        const head = await store.outbox.peek(3).catch(() => []);
        const tail = statuses.slice(-6).map((s) => `${s.state}: ${s.reason}`).join(" | ");
        throw new Error(`${String(e)}; outbox ${JSON.stringify(stats)}, oldest ${head.map((r) => r.seq).join(",")}; statuses: ${tail}`);
      });
      await device.flush({ timeoutMs: 30_000 });
      expect((await device.outbox.stats()).count).toBe(0);

      const a = sub.analyze(confirmed);
      const onlines = statuses.filter((s) => s.state === "online").length;
      const lostConnections = statuses.filter((s) => s.state === "offline" && s.error?.code === "CONNECTION_LOST").length;
      report({
        fault: `broker SIGKILL + restart during a ${N.toLocaleString("en")}-message QoS 1 drain (${kind} store)`,
        iterations: kills,
        messages: N,
        lost: a.lost.length,
        duplicates: a.duplicates,
        bound: `duplicates ≤ kills × inFlight = ${kills * IN_FLIGHT}; first arrivals in publish order`,
        measured: `${Date.now() - started} ms for the whole drain; ${onlines} sessions`,
      });
      expect(a.lost, "lost messages").toEqual([]);
      expect(a.outOfOrder, "first arrivals out of publish order").toEqual([]);
      expect(a.duplicates).toBeLessThanOrEqual(kills * IN_FLIGHT);
      expect(lostConnections).toBeGreaterThanOrEqual(kills);
      expect(onlines).toBeGreaterThanOrEqual(kills + 1);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await device.close();
      await store.close();
      await sub.end();
    }
  }, 150_000);
});
