/**
 * The device against real Mosquitto for what needs MQTT 5 or TLS: tw-id redelivery detection,
 * dead letters from an ACL refusal (PUBACK 135) over wss with a client certificate, a wrong
 * client certificate, the broker's maximum packet size, a persistent session, mqtts, inbox
 * messages redelivered when they could not be stored, and the time from a broker restart to
 * online again (measured, printed, not asserted).
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, test } from "vitest";
import { clientCert, tokenAuth } from "../../src/auth/credentials.ts";
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceOptions, DeviceStatus } from "../../src/device/types.ts";
import { isThingwireError, ThingwireError } from "../../src/errors.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/store.ts";
import { makeCerts, type TestCerts } from "../helpers/certs.ts";
import { startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.ts";
import { nextState, sleep, statusLog, text, uid, until } from "../suites/device-util.ts";

let certs: TestCerts;
let broker: MosquittoBroker;
const devices: Device[] = [];
beforeAll(async () => {
  certs = makeCerts();
  broker = await startMosquitto({ ws: true, wss: true, mqtts: true, certs, extraConfig: "" });
});
afterAll(async () => {
  await broker?.dispose();
});
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
});

function device(o: Partial<DeviceOptions> & { url: string }): Device {
  const d = createDevice({ clientId: uid("mq"), reconnect: { baseMs: 50, maxMs: 300 }, ...o });
  devices.push(d);
  return d;
}

test("MQTT 5: a redelivered tw-id is stored once and handed once; identical messages without one both arrive", async () => {
  const d = device({ url: broker.wsUrl! });
  const topic = `${uid("dedupe")}/in`;
  const got: string[] = [];
  await d.subscribe(topic, (m) => void got.push(text(m.payload)));
  await nextState(d, "online");
  await sleep(100);
  const sender = await mqtt.connectAsync(broker.wsUrl!, { protocolVersion: 5 });
  const withId = { qos: 1 as const, properties: { userProperties: { "tw-id": "0123456789abcdef01234567" } } };
  await sender.publishAsync(topic, "command A", withId);
  await sender.publishAsync(topic, "command A", withId); // a sender's resend after its reconnect
  await sender.publishAsync(topic, "ping", { qos: 1 });
  await sender.publishAsync(topic, "ping", { qos: 1 }); // a legitimate repeat: no tw-id, no DUP flag
  await sender.endAsync();
  await until(() => got.length === 3, "3 handed messages");
  await sleep(100);
  assert.deepEqual(got, ["command A", "ping", "ping"]);
  const inbox = await d.inbox.list();
  assert.equal(inbox.length, 3, "the duplicate was not stored twice");
  assert.equal(inbox[0]!.dedupeKey, "tw:0123456789abcdef01234567");
});

test("thingwire to thingwire: the outbox's tw-id reaches the receiver's inbox", async () => {
  const topic = `${uid("tw")}/x`;
  const rx = device({ url: broker.wsUrl! });
  const got: number[] = [];
  await rx.subscribe(topic, (m) => void got.push(m.seq));
  await nextState(rx, "online");
  await sleep(50);
  const tx = device({ url: broker.wsUrl! });
  const receipt = await tx.publish(topic, "hello");
  await tx.flush({ timeoutMs: 5_000 });
  await until(() => got.length === 1, "one message");
  const [rec] = await rx.inbox.list();
  assert.equal(rec!.dedupeKey, `tw:${receipt.messageId}`);
});

test("wss + client certificate: an ACL refusal (PUBACK 135) goes to the dead letters; the queue moves on", async () => {
  const d = device({
    url: broker.wssUrl!,
    clientId: "thing-1",
    auth: clientCert({ key: certs.client.key, cert: certs.client.cert, ca: certs.ca.cert }),
  });
  const statuses = statusLog(d);
  const dead: { topic: string; reason: string }[] = [];
  d.on("deadletter", (r) => void dead.push({ topic: r.topic, reason: r.reason }));
  const own = "devices/thing-1/telemetry";
  const got: string[] = [];
  await d.subscribe("devices/thing-1/#", (m) => void got.push(text(m.payload)));
  await nextState(d, "online");
  await d.publish("devices/thing-2/telemetry", "not mine");
  await d.flush({ timeoutMs: 10_000 });
  assert.deepEqual(dead, [{ topic: "devices/thing-2/telemetry", reason: "PUBACK reason code 135: Not authorized" }]);
  // Mosquitto 2.0.11 may drop a wss connection right after a refusal; the device reconnects either way.
  await d.publish(own, "mine");
  await d.flush({ timeoutMs: 10_000 });
  await until(() => got.includes("mine"), "own message");
  const letters = await d.outbox.deadLetters();
  assert.equal(letters.length, 1);
  assert.equal(text(letters[0]!.payload), "not mine");
  assert.equal((await d.outbox.stats()).count, 0);
  const all = JSON.stringify(statuses);
  assert.ok(!all.includes("PRIVATE KEY") && !all.includes(certs.client.key.slice(40, 80)));
}, 30_000);

test("wss with a client certificate from an unknown CA: the attempt fails visibly and backs off; no key shown", async () => {
  const d = device({
    url: broker.wssUrl!,
    clientId: "thing-1",
    connectTimeoutMs: 2_000,
    auth: clientCert({ key: certs.foreignClient.key, cert: certs.foreignClient.cert, ca: certs.ca.cert }),
  });
  const statuses = statusLog(d);
  await until(() => statuses.filter((s) => s.state === "offline").length >= 2, "two failures", 10_000);
  const off = statuses.filter((s) => s.state === "offline");
  for (const s of off) {
    assert.ok(["AUTH_REJECTED", "CONNECT_FAILED"].includes(s.error!.code), `${s.error?.code}: ${s.reason}`);
    assert.ok(s.retryInMs !== undefined);
  }
  console.log(`[observe] unknown-CA client certificate → ${off[0]!.error!.code}: ${off[0]!.reason}`);
  assert.ok(!JSON.stringify(statuses).includes(certs.foreignClient.key.slice(40, 80)));
}, 20_000);

test("mqtts with a private CA (tokenAuth tls.ca): online and round trip", async () => {
  const d = device({ url: broker.mqttsUrl!, auth: tokenAuth({ username: "any", password: "pw-mqtts-123", tls: { ca: certs.ca.cert } }) });
  const topic = `${uid("mqtts")}/a`;
  const got: string[] = [];
  await d.subscribe(topic, (m) => void got.push(text(m.payload)));
  await nextState(d, "online");
  await d.publish(topic, "over tls");
  await until(() => got.length === 1, "message");
});

test("the broker's maximum packet size: publish refuses bigger messages with the limit; queued ones are dead-lettered", async () => {
  const m = await startMosquitto({ ws: true, certs, extraConfig: "max_packet_size 2000" });
  try {
    const store = memoryStore();
    // A message stored while the limit was unknown (e.g. by an earlier run) …
    const pre = createDevice({ url: "ws://127.0.0.1:9/", clientId: "pre", store });
    await pre.publish("big/early", new Uint8Array(3_000));
    await pre.close();
    const d = device({ url: m.wsUrl!, store });
    const dead: string[] = [];
    d.on("deadletter", (r) => void dead.push(r.reason));
    await nextState(d, "online");
    await until(() => dead.length === 1, "the early big message dead-lettered");
    assert.match(dead[0]!, /maximum packet size of 2000 bytes/);
    await assert.rejects(d.publish("big/t", new Uint8Array(2_500)), (e: unknown) => isThingwireError(e, "MESSAGE_TOO_LARGE") && /maximum packet size is 2000/.test(e.message));
    await d.publish("big/t", new Uint8Array(1_500));
    await d.flush({ timeoutMs: 5_000 });
  } finally {
    await m.dispose();
  }
});

test("persistent session (clean false, session expiry): messages sent while the device was away arrive", async () => {
  const clientId = uid("persist");
  const topic = `${uid("persist")}/cmd`;
  const first = createDevice({ url: broker.wsUrl!, clientId, sessionExpirySec: 300 });
  await first.subscribe(topic, () => {});
  await nextState(first, "online");
  await sleep(100);
  await first.close();
  const sender = await mqtt.connectAsync(broker.wsUrl!, { protocolVersion: 5 });
  await sender.publishAsync(topic, "while away", { qos: 1 });
  await sender.endAsync();
  const d = device({ url: broker.wsUrl!, clientId, sessionExpirySec: 300 });
  const got: string[] = [];
  await d.subscribe(topic, (m) => void got.push(text(m.payload)));
  await until(() => got.length >= 1, "the message kept by the broker");
  assert.equal(got[0], "while away");
});

test("a received message that cannot be stored is not acknowledged, so the broker sends it again", async () => {
  const m = await startMosquitto({ ws: true, certs, persistence: true });
  try {
    const real = memoryStore();
    let failures = 1;
    let failedOnce = false;
    const store: Store = {
      ...real,
      kind: real.kind,
      inbox: {
        ...real.inbox,
        put: (e) => {
          if (failures-- <= 0) return real.inbox.put(e);
          failedOnce = true;
          return Promise.reject(new ThingwireError("STORE_IO", "disk full (simulated)"));
        },
        list: (o) => real.inbox.list(o),
        get: (s) => real.inbox.get(s),
        ack: (s, a) => real.inbox.ack(s, a),
        purge: (o) => real.inbox.purge(o),
        count: () => real.inbox.count(),
      },
    };
    const topic = `${uid("noack")}/in`;
    const d = device({ url: m.wsUrl!, store, sessionExpirySec: 300 });
    const got: string[] = [];
    await d.subscribe(topic, (msg) => void got.push(text(msg.payload)));
    await nextState(d, "online");
    await sleep(100);
    const sender = await mqtt.connectAsync(m.wsUrl!, { protocolVersion: 5 });
    await sender.publishAsync(topic, "must not be lost", { qos: 1 });
    await sender.endAsync();
    await until(() => failedOnce, "the failed store attempt");
    await sleep(200);
    assert.deepEqual(got, [], "not handed when not stored");
    await m.restart(); // the session (with the unacknowledged message) survives in Mosquitto's persistence
    await until(() => got.length === 1, "redelivery after the reconnect", 15_000);
    assert.deepEqual(got, ["must not be lost"]);
    assert.equal((await d.inbox.list()).length, 1);
  } finally {
    await m.dispose();
  }
}, 30_000);

test("broker restart with the default delays: time from the broker accepting again to online (measured)", async () => {
  const m = await startMosquitto({ ws: true, certs });
  try {
    // Default base and max delays; stableMs shortened so each restart starts from the first delay.
    const d = device({ url: m.wsUrl!, reconnect: { stableMs: 300 } });
    const statuses: DeviceStatus[] = statusLog(d);
    await nextState(d, "online");
    const figures: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(400); // longer than stableMs
      await m.stop();
      await until(() => statuses.at(-1)!.state !== "online", "offline");
      await m.restart(); // resolves once the listeners accept connections
      const upAt = Date.now();
      await nextState(d, "online", 15_000);
      figures.push(Date.now() - upAt);
    }
    console.log(`[measure] Mosquitto restart → online (backoff base 1 s, max 30 s, first delay): ${figures.join(", ")} ms`);
    assert.equal(figures.length, 3);
  } finally {
    await m.dispose();
  }
}, 60_000);
