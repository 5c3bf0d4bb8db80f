/**
 * Fault: the store fails under a running device — a full disk (a real tmpfs filled up, and the
 * `maxSizeBytes` bound), a read-only filesystem, a corrupted file. For each:
 * - `publish()` rejects with a clear `STORE_*` error (code and advice in the message);
 * - nothing already stored is lost: every message confirmed before the failure is delivered once
 *   the device can reach the broker (or, for a corrupted file, the file is left as it was so it
 *   can be recovered);
 * - the device keeps running: no crash, no unhandled rejection, its status keeps following the
 *   connection, and a publish after the condition clears is stored and delivered.
 * The device starts cut off from the broker (a blackholed proxy) so that messages sit in the store
 * while it fails; healing the proxy lets them go. IndexedDB's quota (STORE_QUOTA) is a browser
 * matter: test/browser/store.test.ts covers it.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { TestContext } from "vitest";
import { createDevice } from "../../src/device/device.ts";
import type { Device, DeviceStatus, LogEntry } from "../../src/device/types.ts";
import { ThingwireError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { startProxy, type TcpProxy } from "../helpers/proxy.ts";
import { type Counter, report, startCounter, trackUnhandled } from "./fixtures/fault-util.ts";

let broker: MosquittoBroker;
let proxy: TcpProxy;
let sub: Counter;
let dir: string;
const mounts: string[] = [];
const unhandled = trackUnhandled();
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-fault-store-"));
  broker = await startMosquitto({ ws: true });
  proxy = await startProxy({ target: { port: broker.ports.ws! } });
  sub = await startCounter(broker.tcpUrl, "fault/store/#");
});
afterAll(async () => {
  unhandled.stop();
  await sub?.end();
  await proxy?.stop();
  await broker?.dispose();
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  device: Device;
  statuses: DeviceStatus[];
  logs: LogEntry[];
}
const open: Array<{ device: Device; store: Store }> = [];
afterEach(async () => {
  proxy.heal();
  for (const { device, store } of open.splice(0)) {
    await device.close();
    await store.close().catch(() => {});
  }
  expect(unhandled.errors, "unhandled rejections or exceptions").toEqual([]);
});

/** A device behind the proxy, which is blackholed (so it cannot connect) until heal(). */
function offlineDevice(store: Store, clientId: string): Harness {
  proxy.blackhole({ drop: true });
  const statuses: DeviceStatus[] = [];
  const logs: LogEntry[] = [];
  const device = createDevice({
    url: proxy.url("ws"),
    clientId,
    store,
    keepaliveSec: 2,
    connectTimeoutMs: 500,
    reconnect: { baseMs: 50, maxMs: 300 },
    logger: (e) => logs.push(e),
  });
  device.on("status", (s) => statuses.push(s));
  open.push({ device, store });
  return { device, statuses, logs };
}

async function rejection(p: Promise<unknown>): Promise<ThingwireError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ThingwireError);
    return e as ThingwireError;
  }
  throw new Error("expected publish() to reject");
}

async function untilOnline(h: Harness, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (h.device.status.state !== "online") {
    if (Date.now() > deadline) throw new Error(`not online within ${timeoutMs} ms (${h.device.status.state}: ${h.device.status.reason})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The device is alive: not closed, still trying to connect, and its status keeps moving. */
function expectAlive(h: Harness): void {
  expect(h.device.status.state).not.toBe("closed");
  expect(h.statuses.filter((s) => s.state === "connecting").length).toBeGreaterThan(0);
}

/** Mounts a tmpfs (root only); skips with the reason otherwise. */
function tmpfs(ctx: TestContext, size: string): string {
  const mnt = join(dir, `mnt-${mounts.length}`);
  mkdirSync(mnt);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt], { stdio: "pipe" });
  } catch (e) {
    ctx.skip(`cannot mount a tmpfs here (needs root): ${String((e as Error).message).split("\n")[0]}`);
  }
  mounts.push(mnt);
  return mnt;
}

const freeBytes = (mnt: string): number => {
  const out = execFileSync("df", ["-B1", "--output=avail", mnt]).toString().trim().split("\n");
  return Number(out[out.length - 1]);
};
const payload = (key: string, size: number) => key.padEnd(size, " ");

/**
 * Publishes `size`-byte messages until one rejects; returns the confirmed keys and the error.
 * The subscriber sees trimmed keys (payloads are padded with spaces).
 */
async function fillUntilRejected(device: Device, producer: string, size: number, max = 20_000): Promise<{ confirmed: string[]; error: ThingwireError }> {
  const confirmed: string[] = [];
  for (let i = 0; i < max; i += 20) {
    const batch = Array.from({ length: 20 }, (_, k) => `${producer}:${i + k}`);
    const results = await Promise.allSettled(batch.map((k) => device.publish("fault/store/data", payload(k, size))));
    results.forEach((r, k) => r.status === "fulfilled" && confirmed.push(batch[k]!));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) return { confirmed, error: (failed as PromiseRejectedResult).reason as ThingwireError };
  }
  throw new Error(`the store never filled (${confirmed.length} messages stored)`);
}

/** Waits until the subscriber has every key (payloads are padded: compare trimmed). */
async function delivered(keys: string[], timeoutMs = 20_000): Promise<{ lost: string[]; duplicates: number }> {
  const deadline = Date.now() + timeoutMs;
  const trimmed = () => {
    const seen = new Map<string, number>();
    for (const a of sub.arrivals) seen.set(a.trim(), (seen.get(a.trim()) ?? 0) + 1);
    return seen;
  };
  for (;;) {
    const seen = trimmed();
    const lost = keys.filter((k) => !seen.has(k));
    if (lost.length === 0 || Date.now() > deadline) {
      let duplicates = 0;
      for (const k of keys) duplicates += Math.max(0, (seen.get(k) ?? 0) - 1);
      return { lost, duplicates };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("disk full", () => {
  test("a real full disk (tmpfs): publish rejects STORE_IO 'full', stored messages survive and are delivered, publishing resumes once space is freed", async (ctx) => {
    const mnt = tmpfs(ctx, "3m");
    const store = await openSqliteStore(join(mnt, "full.db"));
    const h = offlineDevice(store, "store-full");
    const early = Array.from({ length: 50 }, (_, i) => `full:${i}`);
    for (const k of early) await h.device.publish("fault/store/data", payload(k, 1024));
    // Leave ~200 KiB, then publish until the disk is full.
    writeFileSync(join(mnt, "filler"), new Uint8Array(Math.max(0, freeBytes(mnt) - 200 * 1024)));
    const { confirmed, error } = await fillUntilRejected(h.device, "full-more", 2048);
    expect(error.code).toBe("STORE_IO");
    expect(error.message).toMatch(/full/i);
    expect(error.message).toMatch(/free space/);
    // Still full: the next publish rejects the same way, nothing stored is gone, the device runs.
    expect((await rejection(h.device.publish("fault/store/data", payload("full-x", 4096)))).code).toBe("STORE_IO");
    expect((await h.device.outbox.stats()).count).toBe(early.length + confirmed.length);
    expectAlive(h);
    // Space comes back: publishing works again, and everything goes out once the broker is reachable.
    rmSync(join(mnt, "filler"));
    const after = ["full-after:0", "full-after:1"];
    for (const k of after) await h.device.publish("fault/store/data", payload(k, 1024));
    proxy.heal();
    await untilOnline(h);
    await h.device.flush({ timeoutMs: 20_000 });
    const all = [...early, ...confirmed, ...after];
    const d = await delivered(all);
    report({ fault: "store: disk full (real tmpfs filled up)", iterations: 1, messages: all.length, lost: d.lost.length, duplicates: d.duplicates, bound: "publish rejects STORE_IO; every stored message delivered after; publish works once space is freed" });
    expect(d.lost).toEqual([]);
  }, 60_000);

  test("the maxSizeBytes bound: STORE_IO 'full' at the bound, nothing stored lost, publishing resumes once the outbox drains", async () => {
    const store = await openSqliteStore(join(dir, "bounded.db"), { maxSizeBytes: 512 * 1024 });
    const h = offlineDevice(store, "store-bounded");
    const { confirmed, error } = await fillUntilRejected(h.device, "bounded", 1024);
    expect(confirmed.length).toBeGreaterThan(50);
    expect(error.code).toBe("STORE_IO");
    expect(error.message).toMatch(/maxSizeBytes|full/);
    expect((await h.device.outbox.stats()).count).toBe(confirmed.length);
    expectAlive(h);
    proxy.heal();
    await untilOnline(h);
    await h.device.flush({ timeoutMs: 20_000 });
    // The drained outbox frees pages: the bound has room again.
    const after = Array.from({ length: 20 }, (_, i) => `bounded-after:${i}`);
    for (const k of after) await h.device.publish("fault/store/data", payload(k, 1024));
    await h.device.flush({ timeoutMs: 10_000 });
    const all = [...confirmed, ...after];
    const d = await delivered(all);
    report({ fault: "store: maxSizeBytes bound reached (SQLite max_page_count)", iterations: 1, messages: all.length, lost: d.lost.length, duplicates: d.duplicates, bound: "publish rejects STORE_IO; every stored message delivered; publish works after the drain" });
    expect(d.lost).toEqual([]);
  }, 60_000);
});

describe("read-only storage", () => {
  test(`the store's filesystem goes read-only (${isRoot ? "tmpfs remount ro" : "chmod 0555 dir, 0444 file"}): publish rejects STORE_READONLY, stored messages are still delivered, publishing resumes once writable`, async (ctx) => {
    let where: string;
    if (isRoot) where = tmpfs(ctx, "8m");
    else {
      where = join(dir, "ro");
      mkdirSync(where);
    }
    const path = join(where, "ro.db");
    // A first life of the device stores messages while offline, then stops.
    const first = await openSqliteStore(path);
    const h1 = offlineDevice(first, "store-ro");
    const early = Array.from({ length: 40 }, (_, i) => `ro:${i}`);
    for (const k of early) await h1.device.publish("fault/store/data", payload(k, 64));
    const o = open.pop()!;
    await o.device.close();
    await o.store.close();
    // Its storage becomes read-only; the device starts again on it.
    const lock = () => (isRoot ? execFileSync("mount", ["-o", "remount,ro", where]) : (chmodSync(path, 0o444), chmodSync(where, 0o555)));
    const unlock = () => (isRoot ? execFileSync("mount", ["-o", "remount,rw", where]) : (chmodSync(where, 0o755), chmodSync(path, 0o644)));
    lock();
    try {
      const store = await openSqliteStore(path);
      const h = offlineDevice(store, "store-ro");
      const e = await rejection(h.device.publish("fault/store/data", payload("ro-refused", 64)));
      expect(e.code).toBe("STORE_READONLY");
      expect(e.message).toMatch(/read-only/);
      expect(e.message).toMatch(/writable|remount/);
      expectAlive(h);
      // What was stored is still read and sent.
      proxy.heal();
      await untilOnline(h);
      const d1 = await delivered(early);
      expect(d1.lost, "stored messages not delivered from a read-only store").toEqual([]);
      // Writable again: publish works and is delivered.
      unlock();
      const after = ["ro-after:0", "ro-after:1", "ro-after:2"];
      for (const k of after) await h.device.publish("fault/store/data", payload(k, 64));
      const d2 = await delivered(after);
      expect(d2.lost).toEqual([]);
      // Acknowledged messages whose delete failed while read-only must not block flush() forever.
      let flushError: unknown;
      await h.device.flush({ timeoutMs: 5_000 }).catch((x: unknown) => (flushError = x));
      const left = (await h.device.outbox.stats()).count;
      report({
        fault: "store: read-only filesystem under a restarted device",
        iterations: 1,
        messages: early.length + after.length,
        lost: d1.lost.length + d2.lost.length,
        duplicates: d1.duplicates + d2.duplicates,
        bound: "publish rejects STORE_READONLY; stored messages delivered; publish works once writable; flush resolves",
        measured: `outbox after flush: ${left} messages${flushError ? ` (flush: ${(flushError as Error).message.slice(0, 80)})` : ""}`,
      });
      expect(flushError, "flush() after the store became writable again").toBeUndefined();
      expect(left).toBe(0);
    } finally {
      try {
        unlock();
      } catch {
        // already writable
      }
    }
  }, 60_000);
});

describe("corrupted file", () => {
  test("pages overwritten under a running device: publish rejects STORE_CORRUPT with recovery advice, the device keeps running, thingwire does not touch the file further", async () => {
    const path = join(dir, "corrupt.db");
    const first = await openSqliteStore(path);
    for (let i = 0; i < 20; i++) {
      await first.outbox.append(Array.from({ length: 50 }, (_, k) => ({ topic: "fault/store/data", payload: new TextEncoder().encode(`c:${i * 50 + k}`.padEnd(400)), qos: 1 as const, retain: false, createdAt: Date.now(), messageId: `c${i}-${k}` })));
    }
    await first.close(); // checkpoint: the rows are in the main file now
    const store = await openSqliteStore(path);
    const h = offlineDevice(store, "store-corrupt");
    // Damage every page after the first two (header, schema): the outbox's b-tree.
    const size = statSync(path).size;
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(size - 8192, 0xa5), 0, size - 8192, 8192);
    closeSync(fd);
    const damaged = readFileSync(path);
    const e = await rejection(h.device.publish("fault/store/data", "after the damage"));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toMatch(/move it aside/);
    expect(e.message).toMatch(/\.recover/);
    // The device keeps running: it connects, the drain reports the damage instead of crashing.
    proxy.heal();
    await untilOnline(h);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h.device.status.state).toBe("online");
    expect(h.logs.some((l) => l.level === "error" && /outbox/.test(l.msg))).toBe(true);
    expect((await rejection(h.device.publish("fault/store/data", "again"))).code).toBe("STORE_CORRUPT");
    expect(Buffer.compare(readFileSync(path), damaged), "thingwire wrote to the damaged file").toBe(0);
    // A file that is not a database at all: opening it fails the same way and leaves it as it was.
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, Buffer.alloc(64 * 1024, 0x5a));
    const before = readFileSync(garbage);
    let openError: unknown;
    await openSqliteStore(garbage).catch((x: unknown) => (openError = x));
    expect(openError).toBeInstanceOf(ThingwireError);
    expect((openError as ThingwireError).code).toBe("STORE_CORRUPT");
    expect(Buffer.compare(readFileSync(garbage), before)).toBe(0);
    report({ fault: "store: corrupted SQLite file (pages overwritten; a non-database file)", iterations: 2, bound: "STORE_CORRUPT with .recover advice; device stays online; the file is not written further" });
  }, 30_000);
});
