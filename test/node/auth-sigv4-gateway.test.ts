/**
 * End to end through the SigV4 gateway: presignMqttUrl / sigv4() → a bare mqtt.js client → the
 * gateway (independent SigV4 verification) → the embedded aedes broker. Also checks the gateway
 * itself against URLs signed by aws4, so it is not just a mirror of src/auth.
 */
import assert from "node:assert/strict";
import aws4 from "aws4";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, test } from "vitest";
import { presignMqttUrl, sigv4 } from "../../src/auth/sigv4.ts";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { makeCerts } from "../helpers/certs.ts";
import { startSigV4Gateway, type GatewayCredentials, type SigV4Gateway } from "../helpers/sigv4-gateway.ts";
import { waitFor } from "../helpers/wait.ts";

const region = "eu-central-1";
const creds: GatewayCredentials = { accessKeyId: "AKIDGATEWAYTEST1", secretAccessKey: "gw/secret+key=1234567890abcdefghijklmn" };
const temp: GatewayCredentials = { accessKeyId: "ASIATEMPORARY0001", secretAccessKey: "temp-secret-0001", sessionToken: "FwoGZXIvYXdzE+/token==with/odd+chars" };

let broker: EmbeddedBroker;
let gw: SigV4Gateway;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startBroker({ wsPort: 0 });
  gw = await startSigV4Gateway({ upstream: broker.wsUrl, credentials: [creds, temp], region });
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await gw?.stop();
  await broker?.close();
});

function connect(url: string, opts: mqtt.IClientOptions = {}): MqttClient {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  clients.push(c);
  return c;
}

/** Resolves when connected; rejects with the first error or close. */
function connected(c: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", (e) => reject(e));
    c.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

async function roundTrip(c: MqttClient, topic: string, payload: Uint8Array): Promise<void> {
  const got = new Promise<Buffer>((resolve) => c.on("message", (t, p) => t === topic && resolve(p)));
  await c.subscribeAsync(topic, { qos: 1 });
  await c.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  assert.deepEqual(new Uint8Array(await got), payload);
}

const presign = (c: GatewayCredentials, extra: { date?: Date; expiresSec?: number; region?: string } = {}) =>
  presignMqttUrl({ host: gw.host, protocol: "ws", region, credentials: c, ...extra });

describe("SigV4 gateway end to end", () => {
  test("a presigned URL connects; publish/subscribe round trip, bytes intact", async () => {
    const before = gw.stats.accepted;
    const c = connect(await presign(creds));
    await connected(c);
    const payload = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    await roundTrip(c, "devices/thing-1/echo", payload);
    assert.equal(gw.stats.accepted, before + 1);
    c.end(true);
  });

  test("temporary credentials: the session token is appended after signing and checked", async () => {
    const url = await presign(temp);
    assert.match(url, /&X-Amz-Signature=[0-9a-f]{64}&X-Amz-Security-Token=[^&]+$/);
    const c = connect(url);
    await connected(c);
    await roundTrip(c, "devices/thing-1/temp", new TextEncoder().encode("hello"));
    c.end(true);
  });

  async function refused(url: string, status: number, reason: RegExp): Promise<void> {
    const before = gw.rejections.length;
    const c = connect(url);
    await assert.rejects(connected(c), (e: Error) => e.message.includes(String(status)) || e.message.includes("closed"));
    const r = gw.rejections[before];
    assert.ok(r, "the gateway recorded the refusal");
    assert.equal(r.status, status);
    assert.match(r.reason, reason);
  }

  test("a stale X-Amz-Date is refused with 403", async () => {
    await refused(await presign(creds, { date: new Date(Date.now() - 20 * 60_000) }), 403, /stale/);
  });

  test("an expired X-Amz-Expires is refused with 403", async () => {
    await refused(await presign(creds, { date: new Date(Date.now() - 120_000), expiresSec: 60 }), 403, /expired/);
  });

  test("a wrong secret is refused with 403; an unknown key with 401", async () => {
    await refused(await presign({ ...creds, secretAccessKey: "not-the-secret" }), 403, /signature does not match/);
    await refused(await presign({ accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" }), 401, /unknown access key/);
  });

  test("a missing or wrong session token is refused", async () => {
    await refused(await presign({ accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey }), 403, /missing session token/);
    await refused(await presign({ ...temp, sessionToken: "another-token" }), 403, /wrong session token/);
  });

  test("a tampered URL (signature, region) is refused", async () => {
    const url = await presign(creds);
    const flipped = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
    await refused(flipped, 403, /signature does not match/);
    await refused(await presign(creds, { region: "us-east-1" }), 403, /wrong region/);
  });

  test("the gateway accepts a URL signed by aws4 (independent signer)", async () => {
    const signed = aws4.sign({ host: gw.host, path: "/mqtt", service: "iotdevicegateway", region, signQuery: true }, creds);
    const c = connect(`ws://${gw.host}${signed.path}`);
    await connected(c);
    c.end(true);
  });

  test("rotate(): old credentials are refused afterwards, new ones work; closeAll() drops live sockets", async () => {
    const live = connect(await presign(creds));
    await connected(live);
    const closed = new Promise<void>((r) => live.once("close", () => r()));
    const next: GatewayCredentials = { accessKeyId: "AKIDROTATED", secretAccessKey: "rotated-secret" };
    gw.rotate(next);
    try {
      await refused(await presign(creds), 401, /unknown access key/);
      const fresh = connect(await presign(next));
      await connected(fresh);
      gw.closeAll();
      await closed;
      await new Promise<void>((r) => (fresh.connected ? fresh.once("close", () => r()) : r()));
      await waitFor(() => gw.stats.live === 0, { message: "no live connection left" });
    } finally {
      gw.rotate([creds, temp]);
    }
  });

  test("sigv4() DeviceAuth: a fresh URL per prepare, from a rotating provider", async () => {
    let calls = 0;
    const auth = sigv4({ region, credentials: async () => (++calls, creds) });
    // The auth signs wss:// only; the plain-ws gateway is reached by swapping the scheme of the prepared URL.
    const a = await auth.prepare({ url: `wss://${gw.host}/mqtt`, clientId: "thing-1" }, new Date());
    const b = await auth.prepare({ url: `wss://${gw.host}/mqtt`, clientId: "thing-1" }, new Date(Date.now() + 1000));
    assert.equal(calls, 2);
    assert.notEqual(a.url, b.url);
    // Host and path are signed, not the scheme: the same query works over ws on loopback.
    const c = connect(b.url.replace(/^wss:/, "ws:"));
    await connected(c);
    c.end(true);
  });
});

describe("SigV4 gateway over wss (TLS), as a device would reach AWS IoT", () => {
  let tlsGw: SigV4Gateway;
  const certs = makeCerts();
  beforeAll(async () => {
    tlsGw = await startSigV4Gateway({ upstream: broker.wsUrl, credentials: temp, region, tls: { key: certs.server.key, cert: certs.server.cert } });
  });
  afterAll(async () => {
    await tlsGw?.stop();
  });

  test("sigv4() with tls.ca: the prepared URL and TLS options connect through wss", async () => {
    const auth = sigv4({ region, credentials: () => temp, tls: { ca: certs.ca.cert } });
    const prepared = await auth.prepare({ url: tlsGw.url, clientId: "thing-1" }, new Date());
    assert.match(prepared.url, /^wss:\/\/localhost:\d+\/mqtt\?X-Amz-Algorithm=/);
    assert.ok(prepared.secrets.includes(prepared.url));
    const c = connect(prepared.url, { ca: prepared.tls?.ca as string });
    await connected(c);
    await roundTrip(c, "devices/thing-1/wss", new TextEncoder().encode("over tls"));
    c.end(true);
    assert.equal(tlsGw.stats.accepted, 1);
  });

  test("without the CA the TLS handshake fails before any signature check", async () => {
    const url = await presignMqttUrl({ url: tlsGw.url, region, credentials: temp });
    const c = connect(url);
    await assert.rejects(connected(c), /certificate|self.signed|unable to verify/i);
    assert.equal(tlsGw.stats.rejected, 0);
  });
});
