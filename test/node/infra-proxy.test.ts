/**
 * test/helpers/proxy.ts: forwards raw TCP both ways; blackhole() stalls traffic without closing
 * anything (no 'end'/'close' on either side); heal() delivers what was held back; cutAll() closes;
 * works for MQTT over ws to Mosquitto, where keepalive notices the blackhole.
 */
import mqtt from "mqtt";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { startProxy, type TcpProxy } from "../helpers/proxy.ts";
import { sleep, waitFor, withTimeout } from "../helpers/wait.ts";

/** An echo server that records, per accepted socket, whether it saw 'end' or 'close'. */
async function echoServer(): Promise<{ server: Server; port: number; sockets: Socket[]; events: string[] }> {
  const sockets: Socket[] = [];
  const events: string[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("data", (d) => s.write(d));
    s.on("end", () => events.push("server-end"));
    s.on("close", () => events.push("server-close"));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port, sockets, events };
}

function clientTo(port: number): Promise<{ socket: Socket; received: () => string; events: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let received = "";
    const events: string[] = [];
    socket.on("data", (d) => {
      received += d.toString();
    });
    socket.on("end", () => events.push("client-end"));
    socket.on("close", () => events.push("client-close"));
    socket.on("error", (e) => events.push(`client-error ${e.message}`));
    socket.once("connect", () => resolve({ socket, received: () => received, events }));
    socket.once("error", reject);
  });
}

describe("TCP proxy", () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: TcpProxy;
  beforeAll(async () => {
    echo = await echoServer();
    proxy = await startProxy({ target: { port: echo.port } });
  });
  afterAll(async () => {
    await proxy.stop();
    echo.server.close();
  });

  test("forwards both ways and counts bytes", async () => {
    const c = await clientTo(proxy.port);
    c.socket.write("ping");
    await waitFor(() => c.received() === "ping", { message: "echo through the proxy" });
    expect(proxy.stats.bytesToTarget).toBeGreaterThanOrEqual(4);
    expect(proxy.stats.bytesToClient).toBeGreaterThanOrEqual(4);
    expect(proxy.url("ws", "/mqtt")).toBe(`ws://127.0.0.1:${proxy.port}/mqtt`);
    c.socket.destroy();
  });

  test("blackhole stalls traffic both ways with no FIN/RST on either side; heal delivers it", async () => {
    const c = await clientTo(proxy.port);
    c.socket.write("a");
    await waitFor(() => c.received() === "a");
    const serverSocket = echo.sockets.at(-1)!;
    const serverEventsBefore = echo.events.length;
    let serverGot = "";
    serverSocket.on("data", (d) => {
      serverGot += d.toString();
    });

    proxy.blackhole();
    expect(proxy.blackholed).toBe(true);
    c.socket.write("b"); // client → target stalls
    serverSocket.write("S"); // target → client stalls (not an echo: written directly)
    await sleep(400);
    expect(serverGot).toBe("");
    expect(c.received()).toBe("a");
    expect(c.events).toEqual([]); // no end, close or error at the client
    expect(echo.events.length).toBe(serverEventsBefore); // none at the server either
    expect(c.socket.destroyed).toBe(false);
    expect(serverSocket.destroyed).toBe(false);

    proxy.heal();
    expect(proxy.blackholed).toBe(false);
    await waitFor(() => serverGot === "b", { message: "held-back bytes reach the target after heal" });
    await waitFor(() => c.received() === "aSb", { message: "held-back bytes reach the client after heal" });
    c.socket.destroy();
  });

  test("a close from the target is held back during the blackhole and delivered on heal", async () => {
    const c = await clientTo(proxy.port);
    c.socket.write("x");
    await waitFor(() => c.received() === "x");
    proxy.blackhole();
    echo.sockets.at(-1)!.end();
    await sleep(300);
    expect(c.events).toEqual([]);
    proxy.heal();
    await waitFor(() => c.events.includes("client-end"), { message: "FIN delivered after heal" });
    c.socket.destroy();
  });

  test("a new connection during a blackhole is accepted but silent until heal", async () => {
    proxy.blackhole();
    const c = await clientTo(proxy.port);
    c.socket.write("late");
    await sleep(300);
    expect(c.received()).toBe("");
    proxy.heal();
    await waitFor(() => c.received() === "late");
    c.socket.destroy();
  });

  test("blackhole({ drop: true }) discards bytes and counts them", async () => {
    const c = await clientTo(proxy.port);
    proxy.blackhole({ drop: true });
    const before = proxy.stats.droppedBytes;
    c.socket.write("gone");
    await waitFor(() => proxy.stats.droppedBytes >= before + 4);
    proxy.heal();
    c.socket.write("kept");
    await waitFor(() => c.received() === "kept");
    c.socket.destroy();
  });

  test("cutAll() closes every connection; the proxy keeps accepting", async () => {
    const c = await clientTo(proxy.port);
    proxy.cutAll();
    await waitFor(() => c.events.includes("client-close"));
    const r = await clientTo(proxy.port);
    proxy.cutAll({ reset: true });
    await waitFor(() => r.events.includes("client-close"));
    expect(r.events.some((e) => e.includes("ECONNRESET"))).toBe(true);
  });
});

describe("proxy in front of Mosquitto (ws)", () => {
  let broker: MosquittoBroker;
  let proxy: TcpProxy;
  beforeAll(async () => {
    broker = await startMosquitto({ ws: true });
    proxy = await startProxy({ target: { port: broker.ports.ws! } });
  });
  afterAll(async () => {
    await proxy?.stop();
    await broker?.dispose();
  });

  test("MQTT over ws through the proxy; keepalive detects the blackhole; delivery resumes after heal", async () => {
    const client = mqtt.connect(proxy.url("ws"), { keepalive: 1, reconnectPeriod: 200, connectTimeout: 2_000, protocolVersion: 5 });
    const events: string[] = [];
    client.on("offline", () => events.push("offline"));
    client.on("error", () => {});
    await withTimeout(new Promise((r) => client.once("connect", r)), 10_000, "connect through the proxy");
    await client.subscribeAsync("proxy/t", { qos: 1 });

    proxy.blackhole();
    // The proxy closes nothing: only the client's keepalive (1 s; mqtt.js gives up after ~1.5x) can notice.
    await waitFor(() => events.includes("offline"), { timeoutMs: 10_000, message: "keepalive to detect the dead link" });
    proxy.heal();
    await withTimeout(new Promise((r) => client.once("connect", r)), 15_000, "reconnect after heal");
    const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(p.toString())));
    await client.subscribeAsync("proxy/t", { qos: 1 });
    await client.publishAsync("proxy/t", "after heal", { qos: 1 });
    expect(await got).toBe("after heal");
    await client.endAsync(true);
  });
});
