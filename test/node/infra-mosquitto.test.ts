/** test/helpers/mosquitto.ts against the real Mosquitto: every listener, mTLS + ACL, passwords, restart, kill, persistence. */
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type MosquittoBroker, mosquittoPath, startMosquitto } from "../helpers/mosquitto.ts";
import { canConnect, connectOutcome } from "../helpers/wait.ts";

async function roundTrip(url: string, opts: mqtt.IClientOptions = {}, topic = "rt/x"): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  try {
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(p.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, `hello ${url}`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

test("mosquittoPath finds the binary", () => {
  expect(mosquittoPath()).toMatch(/mosquitto$/);
});

describe("startMosquitto with every listener", () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ ws: true, wss: true, mqtts: true, passwords: { alice: "s3cret-token" } });
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  test("urls and ports are distinct, on 127.0.0.1", () => {
    const ports = Object.values(broker.ports);
    expect(ports.length).toBe(6);
    expect(new Set(ports).size).toBe(6);
    expect(broker.tcpUrl).toBe(`mqtt://127.0.0.1:${broker.ports.tcp}`);
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.ports.ws}`);
    expect(broker.wssUrl).toBe(`wss://127.0.0.1:${broker.ports.wss}`);
    expect(broker.mqttsUrl).toBe(`mqtts://127.0.0.1:${broker.ports.mqtts}`);
    expect(broker.running).toBe(true);
    expect(broker.pid).toBeGreaterThan(0);
    expect(broker.log()).toMatch(/mosquitto version 2\.\d+\.\d+ running/);
  });

  test("tcp and ws round trips (MQTT 5 and 3.1.1)", async () => {
    expect(await roundTrip(broker.tcpUrl)).toBe(`hello ${broker.tcpUrl}`);
    expect(await roundTrip(broker.wsUrl!, { protocolVersion: 5 })).toBe(`hello ${broker.wsUrl}`);
    expect(await roundTrip(broker.wsUrl!, { protocolVersion: 4 })).toBe(`hello ${broker.wsUrl}`);
  });

  test("mqtts round trip with the test CA", async () => {
    expect(await roundTrip(broker.mqttsUrl!, { ca: broker.certs.ca.cert })).toBe(`hello ${broker.mqttsUrl}`);
  });

  test("wss mTLS: CN is the username; own topic allowed, foreign topic gets PUBACK 135", async () => {
    const { ca, client: cc } = broker.certs;
    const client = await mqtt.connectAsync(broker.wssUrl!, {
      protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ca: ca.cert, key: cc.key, cert: cc.cert,
    });
    try {
      const got = new Promise<string>((resolve) => client.once("message", (t) => resolve(t)));
      await client.subscribeAsync("devices/thing-1/#", { qos: 1 });
      await client.publishAsync("devices/thing-1/x", "mine", { qos: 1 });
      expect(await got).toBe("devices/thing-1/x");
      const err = await client.publishAsync("devices/other/x", "theirs", { qos: 1 }).then(() => null, (e: unknown) => e);
      expect((err as { code?: number })?.code).toBe(135);
    } finally {
      await client.endAsync();
    }
    expect(broker.log()).toMatch(/as thing-1|u'thing-1'/);
  });

  test("wss with a second client certificate (makeClient) gets its own namespace", async () => {
    const c2 = broker.certs.makeClient("thing-2");
    expect(await roundTrip(broker.wssUrl!, { protocolVersion: 5, ca: broker.certs.ca.cert, key: c2.key, cert: c2.cert }, "devices/thing-2/t"))
      .toBe(`hello ${broker.wssUrl}`);
  });

  test("wss refuses a client certificate from an unknown CA, an expired one, and none at all", async () => {
    const { ca, foreignClient, expiredClient } = broker.certs;
    for (const creds of [{ key: foreignClient.key, cert: foreignClient.cert }, { key: expiredClient.key, cert: expiredClient.cert }, {}]) {
      const c = mqtt.connect(broker.wssUrl!, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ca: ca.cert, ...creds });
      c.on("error", () => {});
      const o = await connectOutcome(c);
      await c.endAsync(true);
      expect(["error", "close"]).toContain(o.outcome);
    }
  });

  test("password listener: right password connects, wrong one is refused (CONNACK 5/135), anonymous refused", async () => {
    expect(await roundTrip(broker.tcpAuthUrl!, { username: "alice", password: "s3cret-token" })).toBe(`hello ${broker.tcpAuthUrl}`);
    expect(await roundTrip(broker.wsAuthUrl!, { username: "alice", password: "s3cret-token", protocolVersion: 5 })).toBe(`hello ${broker.wsAuthUrl}`);
    for (const creds of [{ username: "alice", password: "wrong" }, {}]) {
      const c = mqtt.connect(broker.tcpAuthUrl!, { reconnectPeriod: 0, connectTimeout: 5_000, ...creds });
      const o = await connectOutcome(c);
      await c.endAsync(true);
      expect(o.outcome).toBe("error");
      expect((o as { error: { code?: number } }).error.code).toBe(5);
    }
    expect(broker.log()).not.toContain("s3cret-token");
  });
});

test("mqtts requiring a client certificate: identity as username with the default ACL; unknown CA refused", async () => {
  const broker = await startMosquitto({ tcp: true, mqtts: { requireCertificate: true } });
  try {
    const { ca, client: cc, foreignClient } = broker.certs;
    const client = await mqtt.connectAsync(broker.mqttsUrl!, { protocolVersion: 5, reconnectPeriod: 0, ca: ca.cert, key: cc.key, cert: cc.cert });
    await client.publishAsync("devices/thing-1/t", "ok", { qos: 1 });
    const err = await client.publishAsync("devices/thing-2/t", "no", { qos: 1 }).then(() => null, (e: unknown) => e);
    expect((err as { code?: number })?.code).toBe(135);
    await client.endAsync();
    const foreign = mqtt.connect(broker.mqttsUrl!, { reconnectPeriod: 0, connectTimeout: 5_000, ca: ca.cert, key: foreignClient.key, cert: foreignClient.cert });
    foreign.on("error", () => {});
    const o = await connectOutcome(foreign);
    await foreign.endAsync(true);
    expect(["error", "close"]).toContain(o.outcome);
    expect(broker.urls.tcp).toBe(broker.tcpUrl);
  } finally {
    await broker.dispose();
  }
});

describe("restart, kill and persistence", () => {
  let broker: MosquittoBroker;
  afterAll(async () => {
    await broker?.dispose();
  });

  test("restart() comes back on the same ports; a reconnecting client resumes", async () => {
    broker = await startMosquitto({ ws: true });
    const { tcp, ws } = broker.ports;
    const firstPid = broker.pid;
    const client = mqtt.connect(broker.wsUrl!, { reconnectPeriod: 100, connectTimeout: 5_000 });
    await new Promise((r) => client.once("connect", r));
    const offline = new Promise<void>((r) => client.once("offline", () => r()));
    await broker.restart();
    await offline;
    expect(broker.ports.tcp).toBe(tcp);
    expect(broker.ports.ws).toBe(ws);
    expect(broker.pid).not.toBe(firstPid);
    await new Promise((r) => client.once("connect", r));
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(p.toString())));
    await client.subscribeAsync("after/restart", { qos: 1 });
    await client.publishAsync("after/restart", "back", { qos: 1 });
    expect(await got).toBe("back");
    await client.endAsync();
  });

  test("kill() SIGKILLs: the port stops answering; stop() after kill is a no-op; restart() starts it again", async () => {
    await broker.kill();
    expect(broker.running).toBe(false);
    expect(broker.pid).toBeUndefined();
    expect(await canConnect(broker.ports.tcp!)).toBe(false);
    await broker.stop();
    await broker.restart();
    expect(await roundTrip(broker.tcpUrl)).toBe(`hello ${broker.tcpUrl}`);
  });

  test("persistence keeps a persistent session's queued QoS 1 message across a clean restart", async () => {
    const p = await startMosquitto({ persistence: true });
    try {
      const sub = await mqtt.connectAsync(p.tcpUrl, { clientId: "persist-sub", clean: false, reconnectPeriod: 0 });
      await sub.subscribeAsync("persist/t", { qos: 1 });
      await sub.endAsync();
      const pub = await mqtt.connectAsync(p.tcpUrl, { reconnectPeriod: 0 });
      await pub.publishAsync("persist/t", "kept", { qos: 1 });
      await pub.endAsync();
      await p.restart();
      const again = mqtt.connect(p.tcpUrl, { clientId: "persist-sub", clean: false, reconnectPeriod: 0 });
      const got = new Promise<string>((resolve) => again.once("message", (_t, m) => resolve(m.toString())));
      const connack = await new Promise<{ sessionPresent: boolean }>((r) => again.once("connect", r));
      expect(connack.sessionPresent).toBe(true);
      expect(await got).toBe("kept");
      await again.endAsync();
    } finally {
      await p.dispose();
    }
  });

  test("fixed ports: a second broker on a port in use fails with the log in the error", async () => {
    const a = await startMosquitto();
    try {
      await expect(startMosquitto({ ports: { tcp: a.ports.tcp! } })).rejects.toThrow(/Address already in use|exited during start-up/);
    } finally {
      await a.dispose();
    }
  });
});
