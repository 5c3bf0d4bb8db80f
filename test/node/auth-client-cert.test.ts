/**
 * clientCert() with real openssl-made certificates (test/helpers/certs.ts): the prepared TLS material
 * works as it is with mqtt.js against the embedded broker requiring client certificates, over mqtts
 * and wss; a certificate from an unknown CA is refused by the broker.
 */
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, test } from "vitest";
import { clientCert } from "../../src/auth/credentials.ts";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { makeCerts } from "../helpers/certs.ts";

const certs = makeCerts();
let broker: EmbeddedBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startBroker({ wsPort: 0, tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert, requestCert: true, port: 0, wsPort: 0 } });
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.close();
});

function open(url: string, tls: mqtt.IClientOptions): Promise<MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...tls });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once("connect", () => resolve(c));
    c.once("error", reject);
    c.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

describe("clientCert() with real certificates", () => {
  for (const transport of ["mqtts", "wss"] as const) {
    test(`${transport}: the prepared TLS material connects and round-trips`, async () => {
      const url = transport === "mqtts" ? broker.tlsUrl! : `${broker.wssUrl!}/mqtt`;
      // Bytes from the files, as a user reading them would pass them.
      const auth = clientCert({ key: readFileSync(certs.client.keyPath), cert: readFileSync(certs.client.certPath), ca: certs.ca.cert });
      const p = await auth.prepare({ url, clientId: "thing-1" }, new Date());
      assert.equal(p.url, url);
      assert.equal(p.tls?.key, certs.client.key);
      assert.ok(p.secrets.includes(certs.client.key));
      const c = await open(p.url, { key: p.tls!.key as string, cert: p.tls!.cert as string, ca: p.tls!.ca as string });
      const got = new Promise<string>((r) => c.on("message", (_t, m) => r(m.toString())));
      await c.subscribeAsync("devices/thing-1/x", { qos: 1 });
      await c.publishAsync("devices/thing-1/x", `via ${transport}`, { qos: 1 });
      assert.equal(await got, `via ${transport}`);
      c.end(true);
    });
  }

  test("a client certificate from an unknown CA is refused by the broker", async () => {
    const auth = clientCert({ key: certs.foreignClient.key, cert: certs.foreignClient.cert, ca: certs.ca.cert });
    const p = await auth.prepare({ url: broker.tlsUrl!, clientId: "thing-1" }, new Date());
    await assert.rejects(open(p.url, { key: p.tls!.key as string, cert: p.tls!.cert as string, ca: p.tls!.ca as string }));
  });

  test("SEC1 (\"EC PRIVATE KEY\") and PKCS#1 (\"RSA PRIVATE KEY\") keys are accepted; SEC1 connects", async () => {
    const sec1 = createPrivateKey(certs.client.key).export({ format: "pem", type: "sec1" }).toString();
    assert.match(sec1, /^-----BEGIN EC PRIVATE KEY-----/);
    const auth = clientCert({ key: sec1, cert: certs.client.cert, ca: certs.ca.cert });
    const p = await auth.prepare({ url: broker.tlsUrl!, clientId: "thing-1" }, new Date());
    (await open(p.url, { key: p.tls!.key as string, cert: p.tls!.cert as string, ca: p.tls!.ca as string })).end(true);
    const pkcs1 = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs1" }).toString();
    assert.match(pkcs1, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.equal(clientCert({ key: pkcs1, cert: certs.client.cert }).kind, "client-cert");
  });
});
