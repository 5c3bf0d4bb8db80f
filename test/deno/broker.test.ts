/** The embedded aedes broker (src/cli/broker.ts) under Deno: ws and tcp round trips with mqtt.js, and close(). */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { startBroker } from "../../src/cli/broker.ts";
import { makeCerts } from "../helpers/certs.ts";

async function roundTrip(url: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(new TextDecoder().decode(p))));
    await client.subscribeAsync("deno/rt", { qos: 1 });
    await client.publishAsync("deno/rt", `hello ${url}`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

async function refused(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

Deno.test({
  name: "embedded aedes broker: ws and tcp round trips with mqtt.js, then close() frees the ports",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const broker = await startBroker({ tcpPort: 0 });
    try {
      assert.match(broker.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await roundTrip(broker.wsUrl), `hello ${broker.wsUrl}`);
      assert.equal(await roundTrip(broker.tcpUrl!), `hello ${broker.tcpUrl}`);
    } finally {
      await broker.close();
    }
    assert.ok(await refused(broker.wsPort), "ws port still open after close()");
    assert.ok(await refused(broker.tcpPort!), "tcp port still open after close()");
  },
});

Deno.test({
  name: "embedded aedes broker: mqtts and wss with a required client certificate under Deno",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const certs = makeCerts();
    const broker = await startBroker({
      tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert, requestCert: true, port: 0, wsPort: 0 },
    });
    try {
      const tls = { ca: certs.ca.cert, key: certs.client.key, cert: certs.client.cert };
      for (const url of [broker.tlsUrl!, broker.wssUrl!]) {
        const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...tls });
        const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(new TextDecoder().decode(p))));
        await client.subscribeAsync("deno/tls", { qos: 1 });
        await client.publishAsync("deno/tls", url, { qos: 1 });
        assert.equal(await got, url);
        await client.endAsync();
      }
    } finally {
      await broker.close();
    }
  },
});
