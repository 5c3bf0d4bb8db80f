/**
 * Fault: subscriber handlers that never finish, or take 5 s per message, must not stall the
 * connection or the outbox. A device subscribes with a stuck handler, a slow one and a normal one,
 * receives a stream on each, and publishes 2,000 QoS 1 messages of its own at the same time.
 * Checked: the normal subscription gets every message while the others are stuck; the device's own
 * messages all reach a bare subscriber and flush() resolves; every received message is in the inbox
 * (stored before any handler ran) and was acknowledged to the broker (resuming the device's
 * session with a bare client gets no redelivery); the device stays online for several keepalive
 * periods; the stuck and slow handlers were called in order, one message at a time.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import mqtt from "mqtt";
import { createDevice } from "../../src/device/device.ts";
import type { DeviceStatus, ReceivedMessage } from "../../src/device/types.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { keys, report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

let broker: MosquittoBroker;
const unhandled = trackUnhandled();
beforeAll(async () => {
  broker = await startMosquitto({ ws: true });
});
afterAll(async () => {
  unhandled.stop();
  await broker?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (m: ReceivedMessage) => new TextDecoder().decode(m.payload);

test("a stuck handler and a 5 s handler stall neither other subscriptions, nor the outbox, nor the connection", async () => {
  const out = await startCounter(broker.tcpUrl, "fault/handlers/out");
  const statuses: DeviceStatus[] = [];
  const device = createDevice({ url: broker.wsUrl!, clientId: "handlers-device", store: memoryStore(), keepaliveSec: 1 });
  device.on("status", (s) => statuses.push(s));
  const stuckCalls: string[] = [];
  const slowCalls: string[] = [];
  const normal: string[] = [];
  const sender = await mqtt.connectAsync(broker.tcpUrl, { clientId: "handlers-sender", clean: false, protocolVersion: 4 });
  try {
    // Subscribe while online, so each subscribe() waits for its SUBACK before the stream starts.
    for (let t = Date.now(); device.status.state !== "online"; await sleep(20)) if (Date.now() - t > 10_000) throw new Error("device not online");
    await device.subscribe("fault/handlers/stuck", (m) => {
      stuckCalls.push(text(m));
      return new Promise<void>(() => {}); // never settles
    });
    await device.subscribe("fault/handlers/slow", async (m) => {
      slowCalls.push(text(m));
      await sleep(5_000);
    });
    await device.subscribe("fault/handlers/normal", (m) => void normal.push(text(m)));
    const onlineAt = Date.now();

    const PER = 200;
    const OWN = 2_000;
    const incoming = (topic: string, p: string) => Promise.all(keys(p, PER).map((k) => sender.publishAsync(topic, k, { qos: 1 })));
    const own = keys("own", OWN);
    await Promise.all([
      incoming("fault/handlers/stuck", "stuck"),
      incoming("fault/handlers/slow", "slow"),
      incoming("fault/handlers/normal", "normal"),
      ...own.map((k) => device.publish("fault/handlers/out", k)),
    ]);
    await device.flush({ timeoutMs: 20_000 });
    await out.until((c) => own.every((k) => c.counts.has(k)), "the device's own messages", 10_000);
    const deadline = Date.now() + 10_000;
    while (normal.length < PER && Date.now() < deadline) await sleep(20);
    expect(normal).toEqual(keys("normal", PER));

    // Everything received is in the inbox, stored before the handlers ran.
    const inbox = await device.inbox.list({ includeAcked: true });
    const byTopic = (t: string) => inbox.filter((r) => r.topic === `fault/handlers/${t}`).length;
    expect([byTopic("stuck"), byTopic("slow"), byTopic("normal")]).toEqual([PER, PER, PER]);

    // Online for several keepalive periods with a stuck handler: the connection lives on.
    await sleep(Math.max(0, 3_500 - (Date.now() - onlineAt)));
    expect(device.status.state).toBe("online");
    expect(statuses.filter((s) => s.state === "offline")).toEqual([]);

    // One message at a time per subscription, in order.
    expect(stuckCalls).toEqual(["stuck:0"]);
    expect(slowCalls).toEqual(keys("slow", slowCalls.length));
    expect(slowCalls.length).toBeLessThanOrEqual(2);

    // The broker holds nothing for redelivery: every PUBLISH to the device was acknowledged, the
    // stuck handler's included. Resume the device's session with a bare client and listen.
    await device.close();
    const resumed = await mqtt.connectAsync(broker.tcpUrl, { clientId: "handlers-device", clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
    const redelivered: string[] = [];
    resumed.on("message", (_t, p) => redelivered.push(p.toString()));
    await sleep(500);
    await resumed.endAsync();
    expect(redelivered, "messages the device never acknowledged").toEqual([]);
    const a = out.analyze(own);
    report({
      fault: "stuck (never resolves) and slow (5 s) subscriber handlers while receiving 3 × 200 and publishing 2,000",
      iterations: 2,
      messages: OWN + 3 * PER,
      lost: a.lost.length + (PER - normal.length),
      duplicates: a.duplicates,
      bound: "other subscription gets all 200 in order; outbox flushes; device stays online > 3 keepalive periods",
      measured: `stuck handler called ${stuckCalls.length}×, slow handler ${slowCalls.length}× during the run`,
    });
    expect(a.lost).toEqual([]);
    expect(unhandled.errors).toEqual([]);
  } finally {
    await sender.endAsync();
    await device.close();
    await out.end();
  }
}, 60_000);
