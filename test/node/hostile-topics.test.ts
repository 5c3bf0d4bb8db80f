/**
 * Hostile topics and oversized messages, against a real Mosquitto (MQTT 5, `max_packet_size` set so
 * its CONNACK announces a Maximum Packet Size) with a bare subscriber on `#` counting what the
 * broker actually sees:
 * - publish topics with wildcards, NUL, lone surrogates, empty, over 65,535 UTF-8 bytes →
 *   TOPIC_INVALID, nothing stored, nothing sent;
 * - subscription filters with misplaced wildcards → TOPIC_INVALID, nothing subscribed;
 * - topic templates (topicFor, and the CLI config's {thingId}) cannot be escaped by a thing id with
 *   `/`, `+`, `#` or NUL;
 * - a payload over outbox.maxMessageBytes, or a PUBLISH over the broker's Maximum Packet Size, is
 *   refused by publish() with MESSAGE_TOO_LARGE naming the limit; one queued while offline (before
 *   the limit was known) goes to the dead letters with the reason when the device connects. The
 *   subscriber sees none of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfigText } from "../../src/cli/config.ts";
import { assertPublishTopic, assertTopicFilter, topicFor } from "../../src/device/topics.ts";
import { createDevice } from "../../src/device/device.ts";
import type { Device } from "../../src/device/types.ts";
import type { DeadLetterRecord } from "../../src/store/store.ts";
import { ThingwireError } from "../../src/errors.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { startProxy, type TcpProxy } from "../helpers/proxy.ts";
import { type Counter, report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

const BROKER_MAX_PACKET = 4_096;
let broker: MosquittoBroker;
let proxy: TcpProxy;
let sub: Counter;
let device: Device;
let dir: string;
const unhandled = trackUnhandled();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-hostile-topics-"));
  broker = await startMosquitto({ ws: true, extraConfig: `max_packet_size ${BROKER_MAX_PACKET}` });
  proxy = await startProxy({ target: { port: broker.ports.ws! } });
  sub = await startCounter(broker.tcpUrl, "#");
  device = createDevice({ url: broker.wsUrl!, clientId: "hostile-topics", store: memoryStore(), outbox: { maxMessageBytes: 2_000 } });
  for (let t = Date.now(); device.status.state !== "online"; await sleep(20)) if (Date.now() - t > 10_000) throw new Error("not online");
});
afterAll(async () => {
  unhandled.stop();
  await device?.close();
  await sub?.end();
  await proxy?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function refusal(fn: () => unknown): ThingwireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ThingwireError);
    return e as ThingwireError;
  }
  throw new Error("expected a ThingwireError");
}
async function rejection(p: Promise<unknown>): Promise<ThingwireError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ThingwireError);
    return e as ThingwireError;
  }
  throw new Error("expected a rejection");
}

const BAD_PUBLISH_TOPICS: Array<[string, string]> = [
  ["+ wildcard level", "telemetry/+/x"],
  ["# wildcard", "telemetry/#"],
  ["bare #", "#"],
  ["+ inside a level", "telemetry/a+b"],
  ["# inside a level", "telemetry/a#"],
  ["NUL", "telemetry/a\u0000b"],
  ["NUL at the end", "telemetry/a\u0000"],
  ["empty", ""],
  ["lone high surrogate", "telemetry/\uD800"],
  ["lone low surrogate", "telemetry/\uDC00x"],
  ["65,536 ASCII bytes", "t".repeat(65_536)],
  ["33,000 × 'é' = 66,000 bytes in 33,000 UTF-16 units", "é".repeat(33_000)],
  ["22,000 × '€' = 66,000 bytes", "€".repeat(22_000)],
];
const BAD_FILTERS = ["a/#/b", "a#", "#/", "a/b+", "+a/b", "a/+b", "a/b#", "##", "a/\u0000", "", "$share/+/a", "$share//a", "$share/g", "$share/g#/a", "x".repeat(65_536)];
const GOOD_FILTERS = ["a/+/b", "#", "+", "a/#", "+/+/#", "$share/g/a/#", "a//b", "/"];
const ESCAPING_IDS = ["a/b", "+", "#", "a/#", "thing/+/cmd", "../x", "a\u0000b", ""];

describe("topics", () => {
  test("publish topics with wildcards, NUL, lone surrogates, empty or over 65,535 UTF-8 bytes: TOPIC_INVALID, nothing stored, nothing reaches the broker", async () => {
    const before = (await device.outbox.stats()).count;
    for (const [what, topic] of BAD_PUBLISH_TOPICS) {
      const e = await rejection(device.publish(topic, "hostile"));
      expect(e.code, what).toBe("TOPIC_INVALID");
      expect(e.message.length, `${what}: the message quotes at most 80 characters of the topic`).toBeLessThan(400);
      expect(refusal(() => assertPublishTopic(topic)).code).toBe("TOPIC_INVALID");
    }
    expect(refusal(() => assertPublishTopic("t".repeat(65_536))).message).toMatch(/65536 UTF-8 bytes long, the limit is 65535/);
    expect(refusal(() => assertPublishTopic("é".repeat(33_000))).message).toMatch(/66000 UTF-8 bytes/);
    assertPublishTopic("t".repeat(65_535)); // the limit itself is fine
    assertPublishTopic("é".repeat(32_767) + "t"); // 65,535 bytes
    expect((await device.outbox.stats()).count).toBe(before);
    await device.publish("hostile/ok", "control");
    await device.flush({ timeoutMs: 10_000 });
    await sub.until((c) => c.counts.has("control"), "the control message");
    expect(sub.arrivals.filter((a) => a === "hostile")).toEqual([]);
    report({ fault: "publish topics: wildcards, NUL, lone surrogates, empty, > 65,535 UTF-8 bytes", iterations: BAD_PUBLISH_TOPICS.length, lost: 0, bound: "TOPIC_INVALID; nothing stored; broker sees nothing (subscriber on #)" });
  });

  test("subscription filters with misplaced wildcards: TOPIC_INVALID and no SUBSCRIBE; valid ones work", async () => {
    for (const f of BAD_FILTERS) {
      const e = await rejection(device.subscribe(f, () => {}));
      expect(e.code, JSON.stringify(f.slice(0, 20))).toBe("TOPIC_INVALID");
      expect(refusal(() => assertTopicFilter(f)).code).toBe("TOPIC_INVALID");
    }
    for (const f of GOOD_FILTERS) assertTopicFilter(f);
    // A refused filter left nothing behind: a message on a topic "a#" would have matched is not delivered.
    const got: string[] = [];
    const off = await device.subscribe("hostile/sub/+", (m) => void got.push(new TextDecoder().decode(m.payload)));
    await device.publish("hostile/sub/x", "to-self");
    for (let t = Date.now(); got.length === 0 && Date.now() - t < 10_000; ) await sleep(20);
    expect(got).toEqual(["to-self"]);
    await off();
    report({ fault: "subscription filters with misplaced wildcards, empty, NUL, bad $share, > 65,535 bytes", iterations: BAD_FILTERS.length, bound: "TOPIC_INVALID before any SUBSCRIBE; valid filters still work" });
  });

  test("topic templates: a thing id with / + # or NUL cannot escape its level (topicFor and the CLI config)", () => {
    let tried = 0;
    for (const id of ESCAPING_IDS) {
      for (const tpl of ["telemetry/{thingId}", "devices/{thingId}/cmd/#", "{thingId}"]) {
        const e = refusal(() => topicFor(tpl, { thingId: id }));
        tried++;
        expect(e.code).toBe("TOPIC_INVALID");
        expect(e.message).toMatch(/thingId/);
      }
      if (id === "") continue;
      // The CLI config: the id itself is refused, naming the key.
      const yaml = `id: ${JSON.stringify(id)}\nbroker: ws://127.0.0.1:1883\ntopics: { pubsub: "pubsub/{thingId}", ingress: "ingress/{thingId}/#" }\n`;
      const e = refusal(() => parseConfigText(yaml, { displayFile: "thing.yml", file: join(dir, "thing.yml") }, { cwd: dir, env: {} }));
      tried++;
      expect(e.code).toBe("CONFIG_INVALID");
      expect(e.message).toMatch(/\bid\b/);
      expect(e.path).toBe("id");
    }
    // Another variable in a config template cannot smuggle a level in either.
    const viaName = `id: thing-1\nname: "a/+"\nbroker: ws://127.0.0.1:1883\ntopics: { pubsub: "pubsub/{thingName}" }\n`;
    const e = refusal(() => parseConfigText(viaName, { displayFile: "thing.yml", file: join(dir, "thing.yml") }, { cwd: dir, env: {} }));
    tried++;
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toMatch(/topics\.pubsub/);
    expect(e.message).toMatch(/escape/);
    report({ fault: "topic templates with thing ids containing / + # NUL (topicFor, config {thingId}/{thingName})", iterations: tried, bound: "TOPIC_INVALID / CONFIG_INVALID naming the key; no topic produced" });
  });
});

describe("oversized messages", () => {
  test("over outbox.maxMessageBytes or the broker's Maximum Packet Size: MESSAGE_TOO_LARGE naming the limit, before the broker sees anything", async () => {
    const before = (await device.outbox.stats()).count;
    const big = new Uint8Array(2_001).fill(0x41);
    const e1 = await rejection(device.publish("hostile/big", big));
    expect(e1.code).toBe("MESSAGE_TOO_LARGE");
    expect(e1.message).toMatch(/2001 bytes/);
    expect(e1.message).toMatch(/maxMessageBytes is 2000/);
    // Below maxMessageBytes but above what the broker announced.
    const wide = createDevice({ url: broker.wsUrl!, clientId: "hostile-wide", store: memoryStore(), outbox: { maxMessageBytes: 1_000_000 } });
    try {
      for (let t = Date.now(); wide.status.state !== "online"; await sleep(20)) if (Date.now() - t > 10_000) throw new Error("not online");
      const e2 = await rejection(wide.publish("hostile/big", new Uint8Array(BROKER_MAX_PACKET + 100)));
      expect(e2.code).toBe("MESSAGE_TOO_LARGE");
      expect(e2.message).toMatch(new RegExp(`maximum packet size is ${BROKER_MAX_PACKET}`));
      expect((await wide.outbox.stats()).count).toBe(0);
      const e3 = await rejection(wide.publish("hostile/big", new Uint8Array(2_000_000)));
      expect(e3.code).toBe("MESSAGE_TOO_LARGE");
      expect(e3.message).toMatch(/1000000/);
    } finally {
      await wide.close();
    }
    expect((await device.outbox.stats()).count).toBe(before);
    await sleep(300);
    expect(sub.arrivals.filter((a) => a.length > 1_000)).toEqual([]);
    report({ fault: "oversized payloads: > outbox.maxMessageBytes, > broker Maximum Packet Size (CONNACK)", iterations: 3, lost: 0, bound: "MESSAGE_TOO_LARGE with the limit in the message; nothing stored; broker sees nothing" });
  });

  test("queued while offline, over the broker's limit: dead-lettered with the reason on connect, never sent; the queue behind it flows", async () => {
    proxy.blackhole({ drop: true });
    const dead: DeadLetterRecord[] = [];
    const d = createDevice({ url: proxy.url("ws"), clientId: "hostile-offline", store: memoryStore(), connectTimeoutMs: 500, reconnect: { baseMs: 50, maxMs: 200 } });
    d.on("deadletter", (r) => dead.push(r));
    try {
      await d.publish("hostile/queued", "before:0");
      await d.publish("hostile/queued", new Uint8Array(BROKER_MAX_PACKET + 500).fill(0x42));
      await d.publish("hostile/queued", "after:0");
      proxy.heal();
      await d.flush({ timeoutMs: 15_000 });
      await sub.until((c) => c.counts.has("after:0") && c.counts.has("before:0"), "the small messages around the big one");
      expect(dead).toHaveLength(1);
      expect(dead[0]!.payload.byteLength).toBe(BROKER_MAX_PACKET + 500);
      expect(dead[0]!.reason).toMatch(new RegExp(`maximum packet size of ${BROKER_MAX_PACKET}`));
      expect((await d.outbox.deadLetters()).map((r) => r.seq)).toEqual([dead[0]!.seq]);
      expect(sub.arrivals.filter((a) => a.length > 1_000)).toEqual([]);
      report({ fault: "oversized message queued offline, limit learnt at CONNACK", iterations: 1, messages: 3, lost: 0, duplicates: 0, bound: "dead-lettered with the reason; messages behind it delivered; broker never sees it" });
    } finally {
      proxy.heal();
      await d.close();
    }
    expect(unhandled.errors).toEqual([]);
  });
});
