/**
 * Connection faults on Node, with real sockets: an unreachable port, a server that accepts TCP
 * but never answers CONNECT (plain and WebSocket), a gateway that refuses the WebSocket upgrade
 * with 403, failing and hanging credential providers, key material on a transport that takes
 * none, a network cut without FIN (keepalive), the stable-connection reset of the backoff, and
 * option checks. Every failure must show in `status` with its code, back off, leak no secret and
 * leave no unhandled rejection.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, test } from "vitest";
import { startBroker } from "../../src/cli/broker.ts";
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceOptions, DeviceStatus, LogEntry } from "../../src/device/types.ts";
import { isThingwireError, ThingwireError } from "../../src/errors.ts";
import { freePort } from "../helpers/ports.ts";
import { nextState, sleep, statusLog, until } from "../suites/device-util.ts";

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
beforeAll(() => void process.on("unhandledRejection", onUnhandled));
afterAll(() => void process.off("unhandledRejection", onUnhandled));

const devices: Device[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  assert.deepEqual(unhandled, [], "no unhandled rejection");
});

function device(o: Partial<DeviceOptions> & { url: string }): { d: Device; statuses: DeviceStatus[]; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const d = createDevice({ clientId: "fault", reconnect: { baseMs: 50, maxMs: 200 }, logger: (e) => logs.push(e), ...o });
  devices.push(d);
  return { d, statuses: statusLog(d), logs };
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

const offline = (s: DeviceStatus[]) => s.filter((x) => x.state === "offline");

test("unreachable port: CONNECT_FAILED with a retry delay, attempts counted, no spinning", async () => {
  const port = await freePort();
  const { statuses } = device({ url: `ws://127.0.0.1:${port}/mqtt` });
  await sleep(800);
  const off = offline(statuses);
  assert.ok(off.length >= 2 && off.length <= 40, `${off.length} failures in 0.8 s`);
  for (const s of off) {
    assert.equal(s.error?.code, "CONNECT_FAILED");
    assert.match(s.reason, /ECONNREFUSED/);
    assert.ok(s.retryInMs !== undefined && s.retryInMs >= 0 && s.retryInMs < 200);
  }
  const attempts = statuses.filter((s) => s.state === "connecting").map((s) => s.attempt);
  assert.deepEqual(attempts, attempts.map((_, i) => i + 1), "attempt numbers grow by one");
});

test("a server that accepts TCP but never answers CONNECT: CONNECT_TIMEOUT, then backoff (mqtt:// and ws://)", async () => {
  const held: Socket[] = [];
  const port = await listen(createServer((s) => void held.push(s.on("error", () => {}))));
  for (const url of [`mqtt://127.0.0.1:${port}`, `ws://127.0.0.1:${port}/mqtt`]) {
    const { d, statuses } = device({ url, connectTimeoutMs: 200 });
    await until(() => offline(statuses).length >= 2, "two timeouts", 5_000);
    for (const s of offline(statuses)) {
      assert.equal(s.error?.code, "CONNECT_TIMEOUT", s.reason);
      assert.match(s.reason, /no CONNACK .* within 200 ms/);
      assert.ok(typeof s.retryInMs === "number");
    }
    await d.close();
  }
  for (const s of held) s.destroy();
});

test("a gateway refusing the WebSocket upgrade with 403: AUTH_REJECTED; the signed URL's query never shows", async () => {
  const http = createHttpServer((_req, res) => res.writeHead(403).end("signature expired"));
  const port = await listen(http as unknown as Server);
  const signature = "f00dfacecafe0123456789abcdef0123456789abcdef0123456789abcdef0123";
  const token = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN/with+chars==";
  let calls = 0;
  const { statuses, logs } = device({
    url: `wss://gateway.example/mqtt`,
    auth: {
      kind: "sigv4",
      prepare: () => {
        calls++;
        const q = `X-Amz-Signature=${signature}&X-Amz-Security-Token=${encodeURIComponent(token)}&n=${calls}`;
        return Promise.resolve({ url: `ws://127.0.0.1:${port}/mqtt?${q}`, secrets: [signature, token] });
      },
    },
  });
  await until(() => offline(statuses).length >= 3, "three refusals", 5_000);
  assert.ok(calls >= 3, "prepare() is called before every attempt");
  for (const s of offline(statuses)) {
    assert.equal(s.error?.code, "AUTH_REJECTED");
    assert.match(s.reason, /refused the WebSocket upgrade with HTTP 403/);
  }
  const all = JSON.stringify(statuses) + JSON.stringify(logs) + statuses.map((s) => s.error?.message ?? "").join();
  for (const secret of [signature, token, encodeURIComponent(token), "X-Amz-Signature"]) assert.ok(!all.includes(secret), `${secret} leaked`);
});

test("a failing credentials provider: AUTH_CREDENTIALS, scrubbed, with backoff; a hanging one times out", async () => {
  const secret = "sk-live-0123456789abcdef";
  const { statuses, logs } = device({
    url: "ws://127.0.0.1:9/",
    auth: { kind: "token", prepare: () => Promise.reject(new Error(`token service said: key ${secret} revoked`)) },
  });
  await until(() => offline(statuses).length >= 2, "two failures");
  const s = offline(statuses)[0]!;
  assert.equal(s.error?.code, "AUTH_CREDENTIALS");
  assert.match(s.reason, /preparing the credentials failed: token service said: key \S+ revoked/);
  // The provider's own secret is not known to the redactor, so the device cannot mask it; the
  // auth helpers (tokenAuth …) wrap provider errors without their text. What the device learned is masked:
  const known = "pw-known-to-the-device-123";
  const { statuses: s2, logs: l2 } = device({
    url: "ws://127.0.0.1:9/",
    auth: {
      kind: "token",
      prepare: async (t) => ({ url: t.url, password: known, secrets: [known] }),
    },
    connectTimeoutMs: 300,
  });
  await until(() => offline(s2).length >= 1, "a failure");
  assert.ok(!JSON.stringify(s2).includes(known) && !JSON.stringify(l2).includes(known));
  assert.ok(logs.length > 0);

  const { statuses: hung } = device({
    url: "ws://127.0.0.1:9/",
    connectTimeoutMs: 150,
    auth: { kind: "token", prepare: () => new Promise(() => {}) },
  });
  await until(() => offline(hung).length >= 2, "two timeouts of the provider", 5_000);
  assert.equal(offline(hung)[0]!.error?.code, "AUTH_CREDENTIALS");
  assert.match(offline(hung)[0]!.reason, /did not prepare the connection within 150 ms/);

  // close() does not wait for a provider that hangs (connectTimeoutMs is a minute here)
  const { d: stuck, statuses: s3 } = device({ url: "ws://127.0.0.1:9/", connectTimeoutMs: 60_000, auth: { kind: "token", prepare: () => new Promise(() => {}) } });
  await sleep(50);
  await Promise.race([stuck.close(), sleep(5_000).then(() => assert.fail("close() waited for the hanging provider"))]);
  assert.equal(s3.at(-1)!.state, "closed");
});

test("key material on a transport that takes none: AUTH_UNSUPPORTED (the browser story), no key in any status", async () => {
  const key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
  const { statuses } = device({
    url: "wss://127.0.0.1:9/",
    transport: { tlsKeyMaterial: false },
    auth: { kind: "client-cert", prepare: (t) => Promise.resolve({ url: t.url, tls: { key, cert: "c" }, secrets: [key] }) },
  });
  await until(() => offline(statuses).length >= 1, "a failure");
  assert.equal(offline(statuses)[0]!.error?.code, "AUTH_UNSUPPORTED");
  assert.match(offline(statuses)[0]!.reason, /cannot present a client certificate/);
  assert.ok(!JSON.stringify(statuses).includes("MIIEvQ"));
});

/** A TCP proxy that can start swallowing everything, closes included (a cut without FIN), and heal. */
async function blackholeProxy(targetPort: number): Promise<{ port: number; cut(): void; heal(): void }> {
  let cut = false;
  const pairs = new Set<[Socket, Socket]>();
  const { connect } = await import("node:net");
  const port = await listen(createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("data", (b) => void (cut || upstream.write(b)));
    upstream.on("data", (b) => void (cut || client.write(b)));
    // While cut, one side going away is not passed on: the other side sees nothing at all.
    const end = () => {
      if (cut) return;
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  }));
  return {
    port,
    cut: () => void (cut = true),
    heal() {
      cut = false;
      for (const [a, b] of pairs) a.destroy(), b.destroy(); // the dead connections go now
      pairs.clear();
    },
  };
}

test("network cut without FIN: keepalive detects it (CONNECTION_LOST), delivery resumes after healing", async () => {
  const broker = await startBroker({ wsPort: 0 });
  try {
    const proxy = await blackholeProxy(broker.wsPort);
    const { d, statuses } = device({ url: `ws://127.0.0.1:${proxy.port}/`, protocolVersion: 4, keepaliveSec: 1, connectTimeoutMs: 1_000 });
    await nextState(d, "online");
    proxy.cut();
    const cutAt = Date.now();
    await until(() => offline(statuses).length >= 1, "offline after the cut", 6_000);
    const lost = offline(statuses)[0]!;
    assert.equal(lost.error?.code, "CONNECTION_LOST");
    assert.match(lost.reason, /keepalive/i);
    const detectedAfter = lost.at - cutAt;
    const got: string[] = [];
    const watcher = createDevice({ url: broker.wsUrl, clientId: "watcher", protocolVersion: 4 });
    devices.push(watcher);
    await watcher.subscribe("cut/t", (m) => void got.push(new TextDecoder().decode(m.payload)));
    await nextState(watcher, "online");
    await sleep(50);
    await d.publish("cut/t", "queued during the cut");
    proxy.heal();
    await until(() => statuses.filter((s) => s.state === "online").length >= 2, "online again", 10_000);
    await d.flush({ timeoutMs: 10_000 });
    await until(() => got.includes("queued during the cut"), "delivery after healing");
    console.log(`[measure] keepalive 1 s: dead connection detected after ${detectedAfter} ms`);
  } finally {
    await Promise.all(devices.splice(0).map((x) => x.close()));
    await broker.close();
  }
}, 30_000);

test("backoff resets only after a connection stayed up stableMs", async () => {
  const broker = await startBroker({ wsPort: 0 });
  const port = broker.wsPort;
  let b = broker;
  try {
    const { d, statuses } = device({ url: b.wsUrl, protocolVersion: 4, reconnect: { baseMs: 20, maxMs: 40, stableMs: 600 } });
    await nextState(d, "online");
    // Drop it quickly twice: the attempt count keeps growing.
    for (let i = 0; i < 2; i++) {
      await b.close();
      await until(() => statuses.at(-1)!.state === "offline" || statuses.at(-1)!.state === "connecting", "offline");
      b = await startBroker({ wsPort: port });
      await nextState(d, "online");
    }
    const attemptsBefore = statuses.filter((s) => s.state === "online").map((s) => s.attempt);
    assert.ok(attemptsBefore[2]! > 1, `quick drops keep counting: ${attemptsBefore}`);
    await sleep(800); // stays up longer than stableMs
    const mark = statuses.length;
    await b.close();
    await until(() => statuses.length > mark + 1, "the drop and the next attempt");
    const drop = statuses[mark]!;
    assert.equal(drop.state, "offline");
    assert.equal(drop.error?.code, "CONNECTION_LOST");
    assert.ok(drop.retryInMs! < 20, `the first delay after a stable connection is below baseMs again (${drop.retryInMs})`);
    assert.equal(statuses[mark + 1]!.state, "connecting");
    assert.equal(statuses[mark + 1]!.attempt, 1, "after a stable connection the count starts again");
    b = await startBroker({ wsPort: port });
    await until(() => statuses.filter((s) => s.state === "online").length === 4, "online a fourth time");
  } finally {
    await Promise.all(devices.splice(0).map((x) => x.close()));
    await b.close();
  }
}, 30_000);

test("bad options throw OPTIONS_INVALID naming the key, before anything connects", () => {
  const bad = (o: unknown, path: string) =>
    assert.throws(() => createDevice(o as DeviceOptions), (e: unknown) => isThingwireError(e, "OPTIONS_INVALID") && e.path === path, path);
  bad({ url: "http://x", clientId: "a" }, "url");
  bad({ url: "ws://x" }, "clientId");
  bad({ url: "ws://x", clientId: "a", protocolVersion: 3 }, "protocolVersion");
  bad({ url: "ws://x", clientId: "a", keepaliveSec: -1 }, "keepaliveSec");
  bad({ url: "ws://x", clientId: "a", reconnect: { baseMs: -5 } }, "reconnect.baseMs");
  bad({ url: "ws://x", clientId: "a", outbox: { whenFull: "drop-newest" } }, "outbox.whenFull");
  bad({ url: "ws://x", clientId: "a", outbox: { inFlight: 0 } }, "outbox.inFlight");
  bad({ url: "ws://x", clientId: "a", timerVariant: "fast" }, "timerVariant");
  bad({ url: "ws://x", clientId: "a", auth: {} }, "auth");
  assert.ok(new ThingwireError("OPTIONS_INVALID", "x") instanceof Error);
});

test("SigV4 credentials rotate while connected: the gateway drops the socket, the next attempt re-signs", async () => {
  const { startSigV4Gateway } = await import("../helpers/sigv4-gateway.ts");
  const { makeCerts } = await import("../helpers/certs.ts");
  const { sigv4 } = await import("../../src/auth/sigv4.ts");
  const certs = makeCerts();
  const broker = await startBroker({ wsPort: 0 });
  const creds = (n: number) => ({ accessKeyId: `AKIATEST000000000${n}`, secretAccessKey: `secret-key-${n}-${"s".repeat(30)}`, sessionToken: `session-token-${n}-${"t".repeat(40)}` });
  let current = creds(1);
  let calls = 0;
  const gw = await startSigV4Gateway({ upstream: broker.wsUrl, credentials: current, region: "eu-west-1", tls: { key: certs.server.key, cert: certs.server.cert } });
  try {
    const { d, statuses, logs } = device({
      url: gw.url,
      protocolVersion: 4,
      auth: sigv4({ region: "eu-west-1", credentials: () => (calls++, current), tls: { ca: certs.ca.cert } }),
    });
    await nextState(d, "online");
    // Temporary credentials rotate: the gateway takes only the new ones and drops live sockets.
    current = creds(2);
    gw.rotate(current);
    gw.closeAll();
    await until(() => statuses.filter((s) => s.state === "online").length === 2, "online with the new credentials");
    assert.equal(gw.rejections.length, 0, "the reconnect was signed with the new credentials");
    // The provider lags behind: 403 → AUTH_REJECTED with backoff, then recovery once it catches up.
    gw.rotate(creds(3));
    gw.closeAll();
    await until(() => statuses.some((s) => s.error?.code === "AUTH_REJECTED"), "a refused signature");
    current = creds(3);
    await until(() => statuses.filter((s) => s.state === "online").length === 3, "online again", 10_000);
    assert.ok(calls >= 4, `the provider is asked before every attempt (${calls})`);
    const all = JSON.stringify(statuses) + JSON.stringify(logs) + statuses.map((s) => s.error?.message ?? "").join();
    for (const n of [1, 2, 3]) {
      const c = creds(n);
      assert.ok(!all.includes(c.secretAccessKey) && !all.includes(c.sessionToken), `credentials ${n} leaked`);
    }
    assert.ok(!all.includes("X-Amz-Signature="), "no signed URL");
  } finally {
    await Promise.all(devices.splice(0).map((x) => x.close()));
    await gw.stop();
    await broker.close();
  }
}, 30_000);
