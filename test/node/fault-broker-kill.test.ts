/**
 * Fault: the broker is killed (SIGKILL) and restarted on the same ports during a drain of 10,000
 * QoS 1 messages — with the SQLite store and with the memory store. Checked: no confirmed message
 * is lost by thingwire, duplicates stay within (kills × in-flight window), and first arrivals keep
 * publish order.
 *
 * Design (so that every loss is attributed to the right party):
 * - The device talks MQTT 5 over WebSocket to Mosquitto through a sniffing proxy
 *   (fixtures/fault-sniffer.ts) that records, on the wire, every PUBACK Mosquitto sent. The
 *   observer is a bare mqtt.js subscriber over plain TCP, QoS 1, `clean: false`.
 * - QoS 1 hands a message over at PUBACK. Mosquitto sends PUBACK without waiting until its copy
 *   for a subscriber is on that subscriber's socket (measured: a SIGKILL right after a PUBACK
 *   loses up to a few dozen acknowledged messages), and it keeps its database only in memory
 *   between saves. So a message can be lost by the broker after it acknowledged it; no client can
 *   prevent that. The test therefore splits losses:
 *     lost by thingwire = confirmed by publish(), never acknowledged by the broker, never received;
 *     lost by the broker = acknowledged on the wire, never received (reported, not asserted).
 *   Lost by thingwire must be 0.
 * - Mosquitto runs with persistence and is stopped cleanly once (SIGTERM writes its database) after
 *   the subscriber's session exists. After each SIGKILL it restarts from that database, so the
 *   subscriber's session and subscription survive, and messages delivered before the subscriber has
 *   reconnected are queued for it instead of being dropped for lack of a subscriber.
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
import { startSniffer } from "./fixtures/fault-sniffer.ts";
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

    const sniffer = await startSniffer({ port: broker.ports.ws!, websocket: true });
    const store: Store = await makeStore();
    const statuses: DeviceStatus[] = [];
    const device: Device = createDevice({
      url: sniffer.url("ws"),
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
      // Everything is acknowledged once the outbox is empty; then give the subscriber a moment.
      await device.flush({ timeoutMs: 60_000 });
      expect((await device.outbox.stats()).count).toBe(0);
      await sub.until((c) => confirmed.every((k) => c.counts.has(k) || sniffer.acked.has(k)), "every message received or acknowledged", 10_000).catch(() => {});
      await sub.until((c) => c.distinct >= N, "every message received", 1_000).catch(() => {});

      const a = sub.analyze(confirmed);
      const lostByThingwire = a.lost.filter((k) => !sniffer.acked.has(k));
      const lostByBroker = a.lost.filter((k) => sniffer.acked.has(k));
      let wireDuplicates = 0;
      for (const n of sniffer.sent.values()) wireDuplicates += n - 1;
      const onlines = statuses.filter((s) => s.state === "online").length;
      const lostConnections = statuses.filter((s) => s.state === "offline" && s.error?.code === "CONNECTION_LOST").length;
      report({
        fault: `broker SIGKILL + restart during a ${N.toLocaleString("en")}-message QoS 1 drain (${kind} store)`,
        iterations: kills,
        messages: N,
        lost: lostByThingwire.length,
        duplicates: a.duplicates,
        bound: `lost by thingwire = 0; duplicates ≤ kills × inFlight = ${kills * IN_FLIGHT}; first arrivals in publish order`,
        measured: `${lostByBroker.length} lost by Mosquitto after its PUBACK; ${wireDuplicates} PUBLISHes sent again; ${Date.now() - started} ms; ${onlines} sessions`,
      });
      expect(lostByThingwire, "confirmed messages neither acknowledged by the broker nor received").toEqual([]);
      expect(sniffer.refused).toEqual([]);
      expect(a.outOfOrder, "first arrivals out of publish order").toEqual([]);
      expect(a.duplicates).toBeLessThanOrEqual(kills * IN_FLIGHT);
      expect(wireDuplicates).toBeLessThanOrEqual(kills * IN_FLIGHT);
      expect(lostConnections).toBeGreaterThanOrEqual(kills);
      expect(onlines).toBeGreaterThanOrEqual(kills + 1);
      expect(unhandled.errors).toEqual([]);
    } finally {
      await device.close();
      await store.close();
      await sub.end();
      await sniffer.stop();
    }
  }, 150_000);
});
