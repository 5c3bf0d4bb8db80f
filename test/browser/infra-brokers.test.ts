/** The brokers provided by global-setup.ts, reached from Chromium with bare mqtt.js (its browser build). */
import mqtt from "mqtt";
import { expect, inject, test } from "vitest";

async function roundTrip(url: string, protocolVersion: 4 | 5): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion });
  try {
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(new TextDecoder().decode(p))));
    await client.subscribeAsync("browser/rt", { qos: 1 });
    await client.publishAsync("browser/rt", `from chromium to ${url}`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

test("aedes (brokerWsUrl): ws round trip from the browser, MQTT 3.1.1", async () => {
  const url = inject("brokerWsUrl");
  expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  expect(await roundTrip(url, 4)).toBe(`from chromium to ${url}`);
});

test("Mosquitto (mosquittoWsUrl): ws round trip from the browser, MQTT 5", async () => {
  const url = inject("mosquittoWsUrl");
  expect(await roundTrip(url, 5)).toBe(`from chromium to ${url}`);
});
