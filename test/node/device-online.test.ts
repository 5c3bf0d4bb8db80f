/**
 * Status "online" comes once the device's subscriptions are in place (their SUBACKs), so an
 * application that sends a request when it sees "online" also receives the reply. The broker here
 * answers SUBSCRIBE 300 ms late, which makes the order observable.
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import mqtt from "mqtt";
import { startBroker } from "../../src/cli/broker.ts";
import { createDevice } from "../../src/device/device.ts";
import type { DeviceStatus } from "../../src/device/types.ts";
import { waitFor } from "../helpers/wait.ts";

test('"online" is reported after the resubscription is acknowledged, on the first connection and after a reconnect', async () => {
  let subacks = 0;
  const broker = await startBroker({
    wsPort: 0,
    aedes: {
      authorizeSubscribe: (_client, sub, cb) => setTimeout(() => (subacks++, cb(null, sub)), 300),
    },
  });
  const received: string[] = [];
  const statuses: DeviceStatus[] = [];
  const device = createDevice({ url: broker.wsUrl, clientId: "online-after-suback", protocolVersion: 4, clean: true, reconnect: { baseMs: 50, maxMs: 100 } });
  const peer = await mqtt.connectAsync(broker.wsUrl, { protocolVersion: 4 });
  try {
    // On every "online", publish at once: it must arrive, since the subscription is already there.
    let sent = 0;
    device.on("status", (s) => {
      statuses.push(s);
      if (s.state === "online") void peer.publishAsync("cmd/online", `request ${++sent}`, { qos: 1 });
    });
    void device.subscribe("cmd/online", (m) => void received.push(new TextDecoder().decode(m.payload)));
    await waitFor(() => received.length === 1, { timeoutMs: 5_000, message: "the reply to the first online" });
    assert.ok(subacks >= 1);

    // Drop the device's connection; it reconnects with a clean session and subscribes again.
    const clients = (broker.aedes as unknown as { clients: Record<string, { close(): void } | undefined> }).clients;
    clients["online-after-suback"]?.close();
    await waitFor(() => received.length === 2, { timeoutMs: 5_000, message: "the reply to the second online" });
    assert.deepEqual(received, ["request 1", "request 2"]);
    assert.equal(statuses.filter((s) => s.state === "online").length, 2);
  } finally {
    await device.close();
    await peer.endAsync();
    await broker.close();
  }
});
