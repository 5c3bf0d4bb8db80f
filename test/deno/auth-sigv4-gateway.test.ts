/**
 * Deno end to end: presignMqttUrl and sigv4() on Deno's WebCrypto → mqtt.js (Deno) → the SigV4
 * gateway (independent node:crypto verification) → Mosquitto. (The embedded aedes broker is not
 * used here: under Deno 2.9 its WebSocket clients got no CONNACK when this was written.)
 */
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { presignMqttUrl, sigv4 } from "../../src/auth/sigv4.ts";
import { startMosquitto } from "../helpers/mosquitto.ts";
import { startSigV4Gateway } from "../helpers/sigv4-gateway.ts";

const region = "us-east-1";
const creds = { accessKeyId: "ASIADENO0001", secretAccessKey: "deno/secret+1", sessionToken: "deno-session/token+=" };

function connected(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
  return new Promise((resolve, reject) => {
    c.once("connect", () => resolve(c));
    c.once("error", (e) => (c.end(true), reject(e)));
    c.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

Deno.test({
  name: "SigV4 gateway on Deno: presigned round trip; stale and wrong credentials refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const broker = await startMosquitto({ ws: true });
    const gw = await startSigV4Gateway({ upstream: broker.wsUrl!, credentials: creds, region });
    try {
      const c = await connected(await presignMqttUrl({ host: gw.host, protocol: "ws", region, credentials: creds }));
      const got = new Promise<string>((r) => c.on("message", (_t, m) => r(new TextDecoder().decode(m))));
      await c.subscribeAsync("devices/deno/x", { qos: 1 });
      await c.publishAsync("devices/deno/x", "from deno", { qos: 1 });
      assert.equal(await got, "from deno");
      c.end(true);

      const prepared = await sigv4({ region, credentials: async () => creds }).prepare({ url: `wss://${gw.host}/mqtt`, clientId: "d" }, new Date());
      (await connected(prepared.url.replace(/^wss:/, "ws:"))).end(true);

      await assert.rejects(connected(await presignMqttUrl({ host: gw.host, protocol: "ws", region, credentials: creds, date: new Date(Date.now() - 3_600_000) })));
      await assert.rejects(connected(await presignMqttUrl({ host: gw.host, protocol: "ws", region, credentials: { ...creds, secretAccessKey: "wrong" } })));
      assert.deepEqual(gw.rejections.map((r) => r.status), [403, 403]);
      assert.match(gw.rejections[0]!.reason, /stale/);
      assert.match(gw.rejections[1]!.reason, /signature does not match/);
      assert.equal(gw.stats.accepted, 2);
    } finally {
      await gw.stop();
      await broker.stop();
    }
  },
});
