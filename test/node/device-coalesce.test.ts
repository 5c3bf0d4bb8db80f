/**
 * The device sends each PUBLISH (and everything written in the same tick) as one WebSocket frame,
 * not one frame per mqtt-packet chunk. Measured at a raw `ws` server that speaks just enough MQTT 5
 * (CONNACK, PUBACK) and counts the frames it receives.
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import mqttPacket from "mqtt-packet";
import { WebSocketServer } from "ws";
import { createDevice } from "../../src/device/device.ts";
import { coalesceWrites, joinChunks } from "../../src/device/coalesce.ts";
import { waitFor } from "../helpers/wait.ts";

interface Seen {
  frames: number;
  publishes: mqttPacket.IPublishPacket[];
}

/** A WebSocket MQTT 5 endpoint that acknowledges CONNECT and QoS 1 PUBLISHes and counts frames after CONNECT. */
async function frameCounter(): Promise<{ url: string; seen: Seen; close(): Promise<void> }> {
  const seen: Seen = { frames: 0, publishes: [] };
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "mqtt" });
  wss.on("connection", (socket) => {
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    let connected = false;
    parser.on("packet", (p) => {
      if (p.cmd === "connect") {
        connected = true;
        socket.send(mqttPacket.generate({ cmd: "connack", sessionPresent: false, reasonCode: 0, properties: {} }, { protocolVersion: 5 }));
      } else if (p.cmd === "publish") {
        seen.publishes.push(p);
        if (p.qos === 1) socket.send(mqttPacket.generate({ cmd: "puback", messageId: p.messageId, reasonCode: 0 }, { protocolVersion: 5 }));
      }
    });
    socket.on("message", (data: Buffer) => {
      if (connected) seen.frames++;
      parser.parse(data);
    });
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

test("each QoS 1 PUBLISH with its tw-id property reaches the server in a single WebSocket frame", async () => {
  const server = await frameCounter();
  const device = createDevice({ url: server.url, clientId: "coalesce-q1", outbox: { inFlight: 1 } });
  try {
    for (let i = 0; i < 5; i++) await device.publish("t/coalesce", new TextEncoder().encode(`message ${i}`), { qos: 1 });
    await device.flush();
    await waitFor(() => server.seen.publishes.length === 5, { message: "5 PUBLISH packets" });
    // inFlight 1: the next PUBLISH waits for the previous PUBACK, so every frame holds exactly one packet.
    assert.equal(server.seen.frames, 5, `5 PUBLISH packets arrived in ${server.seen.frames} frames`);
    for (const [i, p] of server.seen.publishes.entries()) {
      assert.equal(new TextDecoder().decode(p.payload as Buffer), `message ${i}`);
      assert.ok(p.properties?.userProperties?.["tw-id"], "the tw-id user property is in the packet");
    }
  } finally {
    await device.close();
    await server.close();
  }
});

test("coalesceWrites leaves streams that gather writes themselves alone, and joins strings as UTF-8", () => {
  assert.equal(coalesceWrites({ _write() {}, _writev() {} }), false);
  assert.equal(coalesceWrites({}), false);
  assert.equal(coalesceWrites(undefined), false);
  const written: Uint8Array[] = [];
  const s = {
    _write(chunk: Uint8Array, _enc: string, cb: () => void) {
      written.push(chunk);
      cb();
    },
  } as { _write: (c: Uint8Array, e: string, cb: () => void) => void; _writev?: (c: { chunk: Uint8Array | string }[], cb: () => void) => void };
  assert.equal(coalesceWrites(s), true);
  let called = 0;
  s._writev?.([{ chunk: new Uint8Array([1, 2]) }, { chunk: "é" }, { chunk: new Uint8Array([3]) }], () => called++);
  assert.deepEqual(written, [new Uint8Array([1, 2, 0xc3, 0xa9, 3])]);
  assert.equal(called, 1);
  assert.deepEqual(joinChunks([]), new Uint8Array(0));
});
