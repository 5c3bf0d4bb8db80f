/** The embedded aedes broker (src/cli/broker.ts) on Node: ws, tcp, mqtts and wss round trips, port errors, close. */
import mqtt from "mqtt";
import { createServer } from "node:net";
import { afterAll, describe, expect, test } from "vitest";
import { BrokerListenError, type EmbeddedBroker, startBroker } from "../../src/cli/broker.ts";
import { makeCerts } from "../helpers/certs.ts";
import { canConnect, connectOutcome } from "../helpers/wait.ts";

async function roundTrip(url: string, opts: mqtt.IClientOptions = {}): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  try {
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(p.toString())));
    await client.subscribeAsync("rt/#", { qos: 1 });
    await client.publishAsync("rt/x", `hello ${url}`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

describe("embedded aedes broker", () => {
  const brokers: EmbeddedBroker[] = [];
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
  });

  test("ws round trip on a free port (subprotocol mqtt)", async () => {
    const b = await startBroker();
    brokers.push(b);
    expect(b.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(b.tcpUrl).toBeUndefined();
    expect(await roundTrip(b.wsUrl)).toBe(`hello ${b.wsUrl}`);
  });

  test("tcp, mqtts and wss with a required client certificate", async () => {
    const certs = makeCerts();
    const b = await startBroker({
      tcpPort: 0,
      tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert, requestCert: true, port: 0, wsPort: 0 },
    });
    brokers.push(b);
    expect(await roundTrip(b.tcpUrl!)).toBe(`hello ${b.tcpUrl}`);
    const tls = { ca: certs.ca.cert, key: certs.client.key, cert: certs.client.cert };
    expect(await roundTrip(b.tlsUrl!, tls)).toBe(`hello ${b.tlsUrl}`);
    expect(await roundTrip(b.wssUrl!, tls)).toBe(`hello ${b.wssUrl}`);
    // A certificate from another CA is refused.
    const foreign = mqtt.connect(b.tlsUrl!, { reconnectPeriod: 0, connectTimeout: 5_000, ca: certs.ca.cert, key: certs.foreignClient.key, cert: certs.foreignClient.cert });
    foreign.on("error", () => {});
    const outcome = await connectOutcome(foreign);
    await foreign.endAsync(true);
    expect(["error", "close"]).toContain(outcome.outcome);
  });

  test("a port in use rejects with BrokerListenError EADDRINUSE and leaves nothing open", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const first = await startBroker();
      brokers.push(first);
      const err = await startBroker({ tcpPort: port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerListenError);
      expect((err as BrokerListenError).code).toBe("EADDRINUSE");
      expect((err as Error).message).toMatch(/already in use/);
    } finally {
      blocker.close();
    }
  });

  test("close() ends connected clients and frees the port; it is idempotent", async () => {
    const b = await startBroker({ tcpPort: 0 });
    const client = await mqtt.connectAsync(b.wsUrl, { reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => client.once("close", () => r()));
    await b.close();
    await b.close();
    await closed;
    expect(await canConnect(b.wsPort)).toBe(false);
    expect(await canConnect(b.tcpPort!)).toBe(false);
    await client.endAsync(true);
  });
});
