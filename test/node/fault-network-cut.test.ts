/**
 * Fault: the network is cut without a FIN while the device is publishing — a TCP proxy
 * (test/helpers/proxy.ts) between the device and Mosquitto starts blackholing: no byte passes,
 * no socket is closed. Three cuts: bytes dropped, bytes held back (delivered or discarded on heal,
 * as TCP retransmission would), bytes dropped again. For each cut:
 * - keepalive detects the dead connection within its bound, keepaliveSec × 1.5 (mqtt.js sends
 *   PINGREQ after keepaliveSec without a packet from the broker and gives up half a period
 *   later) plus a slack for timers: the status goes "offline" with CONNECTION_LOST naming the
 *   keepalive timeout;
 * - attempts during the cut end in CONNECT_TIMEOUT and back off;
 * - once the proxy heals, the device is online again and delivery resumes.
 * At the end every message publish() confirmed — before, during and after the cuts — has reached a
 * bare mqtt.js subscriber connected to Mosquitto directly (not through the proxy): nothing lost,
 * duplicates within cuts × in-flight window, first arrivals in publish order.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { createDevice } from "../../src/device/device.ts";
import type { DeviceStatus } from "../../src/device/types.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { startProxy, type TcpProxy } from "../helpers/proxy.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

const KEEPALIVE_SEC = 2;
const SLACK_MS = 2_000;
const IN_FLIGHT = 16;
const CUTS = [{ drop: true }, { drop: false }, { drop: true }] as const;

let broker: MosquittoBroker;
let proxy: TcpProxy;
let dir: string;
const unhandled = trackUnhandled();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-fault-cut-"));
  broker = await startMosquitto({ ws: true });
  proxy = await startProxy({ target: { port: broker.ports.ws! } });
});
afterAll(async () => {
  unhandled.stop();
  await proxy?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`network cut without FIN (${CUTS.length}×): keepalive detects it within keepaliveSec × 1.5 + ${SLACK_MS} ms, delivery resumes on heal, nothing lost`, async () => {
  const sub = await startCounter(broker.tcpUrl, "fault/cut/#");
  const store = await openSqliteStore(join(dir, "cut.db"));
  const statuses: DeviceStatus[] = [];
  const device = createDevice({
    url: proxy.url("ws"),
    clientId: "cut-device",
    store,
    keepaliveSec: KEEPALIVE_SEC,
    connectTimeoutMs: 1_000,
    reconnect: { baseMs: 100, maxMs: 500, stableMs: 60_000 },
    outbox: { inFlight: IN_FLIGHT },
  });
  device.on("status", (s) => statuses.push(s));
  const confirmed: string[] = [];
  let publishing = true;
  let publishError: unknown;
  const publisher = (async () => {
    for (let i = 0; publishing; i++) {
      try {
        await device.publish("fault/cut/data", `cut:${i}`);
        confirmed.push(`cut:${i}`);
      } catch (e) {
        publishError = e;
        return;
      }
      await sleep(10);
    }
  })();

  const detections: number[] = [];
  try {
    await waitState(statuses, "online", 1, 10_000);
    for (const [n, cut] of CUTS.entries()) {
      await sleep(800);
      const before = statuses.length;
      proxy.blackhole(cut);
      const cutAt = Date.now();
      const lost = await waitFor(() => statuses.slice(before).find((s) => s.state === "offline"), `offline after cut ${n + 1}`, 15_000);
      detections.push(lost.at - cutAt);
      expect(lost.error?.code).toBe("CONNECTION_LOST");
      expect(lost.reason).toMatch(/keepalive/i);
      // Attempts while the network is still cut time out and back off.
      await waitFor(() => statuses.slice(before).find((s) => s.state === "offline" && s.error?.code === "CONNECT_TIMEOUT"), `a timed-out attempt during cut ${n + 1}`, 10_000);
      proxy.heal();
      await waitFor(() => statuses.slice(before).find((s) => s.state === "online"), `online after heal ${n + 1}`, 15_000);
    }
    await sleep(300);
    publishing = false;
    await publisher;
    expect(publishError).toBeUndefined();
    await device.flush({ timeoutMs: 20_000 });
    await sub.until((c) => confirmed.every((k) => c.counts.has(k)), "every confirmed message", 10_000).catch(() => {});
    const a = sub.analyze(confirmed);
    report({
      fault: `network cut without FIN (proxy blackhole: drop, hold, drop) while publishing at ~100 msg/s, keepalive ${KEEPALIVE_SEC} s`,
      iterations: CUTS.length,
      messages: confirmed.length,
      lost: a.lost.length,
      duplicates: a.duplicates,
      bound: `detected ≤ keepaliveSec × 1.5 + ${SLACK_MS / 1000} s = ${KEEPALIVE_SEC * 1.5 * 1000 + SLACK_MS} ms; duplicates ≤ cuts × inFlight = ${CUTS.length * IN_FLIGHT}`,
      measured: `detected after ${detections.join(", ")} ms`,
    });
    for (const d of detections) expect(d).toBeLessThanOrEqual(KEEPALIVE_SEC * 1_500 + SLACK_MS);
    expect(a.lost, "confirmed messages that never arrived").toEqual([]);
    expect(a.outOfOrder).toEqual([]);
    expect(a.duplicates).toBeLessThanOrEqual(CUTS.length * IN_FLIGHT);
    expect(unhandled.errors).toEqual([]);
  } finally {
    publishing = false;
    proxy.heal();
    await publisher;
    await device.close();
    await store.close();
    await sub.end();
  }
}, 90_000);

async function waitFor<T>(pred: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function waitState(statuses: DeviceStatus[], state: DeviceStatus["state"], count: number, timeoutMs: number): Promise<DeviceStatus> {
  return waitFor(() => (statuses.filter((s) => s.state === state).length >= count ? statuses.at(-1) : undefined), `${count}× ${state}`, timeoutMs);
}
