/**
 * Issue 5's proof with real processes: a child (test/node/fixtures/publisher.ts) publishes into a
 * SQLite store and prints every message publish() confirmed; it is SIGKILLed at random moments;
 * a new process on the same file must deliver every confirmed message, in order, with duplicates
 * no more than the in-flight window per interruption. The broker is aedes in this process, so
 * every PUBLISH it accepted is recorded even across its own restarts.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, test } from "vitest";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { until, sleep } from "../suites/device-util.ts";

const fixture = new URL("./fixtures/publisher.ts", import.meta.url).pathname;
const WINDOW = 64; // the default outbox.inFlight
const dir = mkdtempSync(join(tmpdir(), "thingwire-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  proc: ChildProcess;
  lines: string[];
  confirmed: string[];
  has(line: string): boolean;
  kill(): Promise<void>;
}
const children: Child[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

function publisher(db: string, url: string, topic: string, count: number, prefix: string): Child {
  const proc = spawn(process.execPath, [fixture, db, url, "kill-test", topic, String(count), prefix], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const confirmed: string[] = [];
  let rest = "";
  proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (l.startsWith("OK ")) confirmed.push(l.slice(3));
    }
  });
  let stderr = "";
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => void (stderr += c));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const child: Child = {
    proc,
    lines,
    confirmed,
    has: (line) => lines.includes(line),
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
      if (stderr.trim()) console.log(`[child stderr] ${stderr.trim().slice(0, 2_000)}`);
    },
  };
  children.push(child);
  return child;
}

/** aedes on a fixed port that records every PUBLISH on `topic` it accepts, across restarts. */
async function recordingBroker(topic: string): Promise<{ url: string; records: string[]; stop(): Promise<void>; start(): Promise<void> }> {
  const records: string[] = [];
  let broker: EmbeddedBroker | undefined;
  let port = 0;
  const start = async () => {
    if (broker) return;
    broker = await startBroker({ wsPort: port });
    port = broker.wsPort;
    broker.aedes.on("publish", (packet, client) => {
      if (client && packet.topic === topic) records.push(packet.payload.toString());
    });
  };
  await start();
  const url = broker!.wsUrl;
  return {
    url,
    records,
    start,
    async stop() {
      await broker?.close();
      broker = undefined;
    },
  };
}

/** Every confirmed message was accepted, first occurrences in publish order, duplicates bounded. */
function check(confirmed: string[], records: string[], maxDuplicates: number): { duplicates: number } {
  const seen = new Set<string>();
  const firsts: string[] = [];
  for (const r of records) if (!seen.has(r)) seen.add(r), firsts.push(r);
  const missing = confirmed.filter((c) => !seen.has(c));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} confirmed messages never reached the broker`);
  const want = new Set(confirmed);
  assert.deepEqual(firsts.filter((f) => want.has(f)), confirmed, "first deliveries keep the publish order");
  const duplicates = records.length - seen.size;
  assert.ok(duplicates <= maxDuplicates, `${duplicates} duplicates, at most ${maxDuplicates} allowed`);
  return { duplicates };
}

const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

test("20 SIGKILLs at random moments while publishing offline: a new process delivers every confirmed message", async () => {
  const topic = "kill/offline";
  const db = join(dir, "offline.db");
  const broker = await recordingBroker(topic);
  await broker.stop(); // down while publishing
  const confirmed: string[] = [];
  let midPublish = 0;
  try {
    for (let round = 0; round < 20; round++) {
      const c = publisher(db, broker.url, topic, 1_000, `r${round}`);
      await until(() => c.confirmed.length > 0 || c.proc.exitCode !== null, "a first confirmed publish", 20_000, 5);
      await sleep(rand(0, 120));
      if (!c.has("STORED")) midPublish++;
      await c.kill();
      confirmed.push(...c.confirmed);
    }
    await broker.start();
    const drain = publisher(db, broker.url, topic, 0, "none");
    await until(() => drain.has("DRAINED"), "the new process to drain the store", 60_000, 20);
    const { duplicates } = check(confirmed, broker.records, WINDOW);
    console.log(`[kill] offline: 20 kills (${midPublish} mid-publish), ${confirmed.length} confirmed, ${broker.records.length} accepted, ${duplicates} duplicates, 0 lost`);
    assert.ok(confirmed.length > 0);
  } finally {
    await broker.stop();
  }
}, 120_000);

test("SIGKILL mid-drain, 5 times with the broker up: every confirmed message arrives, duplicates ≤ window per kill", async () => {
  const topic = "kill/draining";
  const db = join(dir, "draining.db");
  const broker = await recordingBroker(topic);
  const confirmed: string[] = [];
  try {
    const kills = 5;
    for (let round = 0; round < kills; round++) {
      const c = publisher(db, broker.url, topic, 2_000, `d${round}`);
      await until(() => c.confirmed.length > 0, "a first confirmed publish", 20_000, 5);
      const before = broker.records.length;
      await until(() => broker.records.length > before || c.has("DRAINED"), "sending to start", 20_000, 2);
      await sleep(rand(0, 150));
      await c.kill();
      confirmed.push(...c.confirmed);
    }
    const drain = publisher(db, broker.url, topic, 0, "none");
    await until(() => drain.has("DRAINED"), "the new process to drain the store", 60_000, 20);
    const { duplicates } = check(confirmed, broker.records, WINDOW * kills);
    console.log(`[kill] mid-drain: ${kills} kills, ${confirmed.length} confirmed, ${broker.records.length} accepted, ${duplicates} duplicates, 0 lost`);
  } finally {
    await broker.stop();
  }
}, 120_000);

test("broker killed and restarted mid-drain: every confirmed message arrives, in order, duplicates ≤ window", async () => {
  const topic = "kill/broker";
  const db = join(dir, "broker.db");
  const broker = await recordingBroker(topic);
  try {
    const c = publisher(db, broker.url, topic, 5_000, "b");
    await until(() => broker.records.length >= 1_000, "1,000 messages accepted", 60_000, 2);
    await broker.stop(); // drops every connection at once, mid-drain
    const stoppedAt = broker.records.length;
    await sleep(300);
    await broker.start();
    await until(() => c.has("DRAINED"), "the drain to finish after the restart", 60_000, 20);
    assert.ok(c.has("STORED"));
    assert.ok(stoppedAt < 5_000, "the broker went down mid-drain");
    const { duplicates } = check(c.confirmed, broker.records, WINDOW);
    assert.equal(c.confirmed.length, 5_000);
    console.log(`[kill] broker restart mid-drain at ${stoppedAt}/5000: ${broker.records.length} accepted, ${duplicates} duplicates, 0 lost`);
  } finally {
    await broker.stop();
  }
}, 120_000);
