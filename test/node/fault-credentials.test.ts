/**
 * Fault: temporary AWS credentials expire while the device is connected. A SigV4-verifying
 * WebSocket gateway (test/helpers/sigv4-gateway.ts, wss, in front of Mosquitto) stands in for AWS
 * IoT: `rotate()` makes it accept only the new credentials and `closeAll()` drops every live
 * connection, as AWS does when the credentials behind a connection expire.
 *
 * 1. The provider already returns the new credentials: the very next attempt re-signs with them
 *    and is online again — one attempt, no AUTH_REJECTED.
 * 2. The provider still returns the expired ones at first: that attempt is refused (HTTP 401 for the unknown key →
 *    AUTH_REJECTED), the device backs off, calls the provider again, re-signs and is online on the
 *    second attempt.
 * Throughout, the device publishes; every confirmed message reaches a bare subscriber, and no
 * secret (secret key, session token, signature) shows in any status.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { sigv4, type AwsCredentials } from "../../src/auth/sigv4.ts";
import { createDevice } from "../../src/device/device.ts";
import type { DeviceStatus, LogEntry } from "../../src/device/types.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { makeCerts, type TestCerts } from "../helpers/certs.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { type SigV4Gateway, startSigV4Gateway } from "../helpers/sigv4-gateway.ts";
import { report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

const REGION = "eu-central-1";
const creds = (n: number): AwsCredentials => ({
  accessKeyId: `ASIAFAULTTEST${n}EXAMPLE`,
  secretAccessKey: `fault/secret+key=${n}/wJalrXUtnFEMI/K7MDENG/bPxRfiCY${n}`,
  sessionToken: `IQoJb3JpZ2luX2VjE${n}//session+token/with=chars&more${"x".repeat(40)}`,
});

let broker: MosquittoBroker;
let gateway: SigV4Gateway;
let certs: TestCerts;
const unhandled = trackUnhandled();

beforeAll(async () => {
  certs = makeCerts();
  broker = await startMosquitto({ ws: true });
  gateway = await startSigV4Gateway({ upstream: broker.wsUrl!, credentials: creds(1), region: REGION, tls: { key: certs.server.key, cert: certs.server.cert } });
});
afterAll(async () => {
  unhandled.stop();
  await gateway?.stop();
  await broker?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(pred: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

test("credentials expire while connected: the next attempt re-signs with the provider's new credentials and reconnects", async () => {
  const sub = await startCounter(broker.tcpUrl, "fault/creds/#");
  let current = creds(1);
  const issued: AwsCredentials[] = [];
  const statuses: DeviceStatus[] = [];
  const logs: LogEntry[] = [];
  const device = createDevice({
    url: gateway.url,
    clientId: "creds-device",
    store: memoryStore(),
    auth: sigv4({
      region: REGION,
      credentials: async () => {
        issued.push(current);
        return current;
      },
      tls: { ca: certs.ca.cert },
    }),
    reconnect: { baseMs: 100, maxMs: 400, stableMs: 60_000 },
    logger: (e) => logs.push(e),
  });
  // Scenario 2's provider learns of the rotation only after its first refusal.
  let onRejected: (() => void) | undefined;
  device.on("status", (s) => {
    statuses.push(s);
    if (s.state === "offline" && s.error?.code === "AUTH_REJECTED") onRejected?.();
  });
  const confirmed: string[] = [];
  let publishing = true;
  const publisher = (async () => {
    for (let i = 0; publishing; i++) {
      await device.publish("fault/creds/data", `creds:${i}`);
      confirmed.push(`creds:${i}`);
      await sleep(20);
    }
  })();
  try {
    await waitFor(() => device.status.state === "online", "online with the first credentials");
    const attemptsOf = (from: number) => statuses.slice(from).filter((s) => s.state === "connecting").length;

    // 1. Rotation the provider already knows about.
    await sleep(300);
    let mark = statuses.length;
    let calls = issued.length;
    current = creds(2);
    gateway.rotate(creds(2));
    gateway.closeAll();
    await waitFor(() => statuses.slice(mark).find((s) => s.state === "online"), "online after rotation 1");
    const attempts1 = attemptsOf(mark);
    expect(statuses.slice(mark).find((s) => s.state === "offline")?.error?.code).toBe("CONNECTION_LOST");
    expect(statuses.slice(mark).filter((s) => s.error?.code === "AUTH_REJECTED")).toEqual([]);
    expect(attempts1).toBe(1);
    expect(issued.slice(calls).map((c) => c.accessKeyId)).toEqual([creds(2).accessKeyId]);

    // 2. The provider hands out the expired credentials once more before it learns.
    await sleep(300);
    mark = statuses.length;
    calls = issued.length;
    const rejectedBefore = gateway.stats.rejected;
    gateway.rotate(creds(3));
    onRejected = () => {
      current = creds(3);
      onRejected = undefined;
    };
    gateway.closeAll();
    await waitFor(() => statuses.slice(mark).find((s) => s.state === "online"), "online after rotation 2");
    const attempts2 = attemptsOf(mark);
    const refused = statuses.slice(mark).filter((s) => s.state === "offline" && s.error?.code === "AUTH_REJECTED");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatch(/HTTP 40[13]/);
    expect(refused[0]!.retryInMs).toBeGreaterThanOrEqual(0);
    expect(attempts2).toBe(2);
    expect(issued.slice(calls).map((c) => c.accessKeyId)).toEqual([creds(2).accessKeyId, creds(3).accessKeyId]);
    expect(gateway.stats.rejected - rejectedBefore).toBe(1);

    await sleep(300);
    publishing = false;
    await publisher;
    await device.flush({ timeoutMs: 10_000 });
    await sub.until((c) => confirmed.every((k) => c.counts.has(k)), "every confirmed message", 10_000).catch(() => {});
    const a = sub.analyze(confirmed);

    // No secret in any status or log line.
    const said = JSON.stringify([statuses.map((s) => ({ ...s, error: s.error?.toJSON() })), logs]);
    for (const n of [1, 2, 3]) {
      const c = creds(n);
      for (const secret of [c.secretAccessKey, c.sessionToken!]) {
        expect(said).not.toContain(secret);
        expect(said).not.toContain(encodeURIComponent(secret));
      }
    }
    expect(said).not.toMatch(/X-Amz-Signature=[0-9a-f]{64}/);

    report({
      fault: "SigV4 credentials expire while connected (gateway rotate + closeAll): provider fresh, then provider stale once",
      iterations: 2,
      messages: confirmed.length,
      lost: a.lost.length,
      duplicates: a.duplicates,
      bound: "fresh provider: 1 attempt, no AUTH_REJECTED; stale provider: exactly 1 AUTH_REJECTED (HTTP 401), online on attempt 2",
      measured: `attempts: ${attempts1} and ${attempts2}; provider calls ${issued.length}`,
    });
    expect(a.lost).toEqual([]);
    expect(unhandled.errors).toEqual([]);
  } finally {
    publishing = false;
    await publisher.catch(() => {});
    await device.close();
    await sub.end();
  }
}, 60_000);
