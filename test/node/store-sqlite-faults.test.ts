/**
 * SQLite store failure modes (issue 9, "the store fails"): each condition is made real where the
 * machine allows it — a read-only file (chattr +i as root, chmod 0444 otherwise), a filesystem
 * remounted read-only, a full tmpfs, a corrupted file, a lock held by another connection — plus
 * the `maxSizeBytes` bound (SQLite's max_page_count). In every case: the error is a
 * ThingwireError with a STORE_* code and a message saying what to do, what was stored before
 * stays readable, and the same store works again once the condition clears where that can be.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, test } from "vitest";
import type { TestContext } from "vitest";
import { ThingwireError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { OutboxEntry, Store } from "../../src/store/store.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-sqlite-faults-"));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      // already unmounted
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const entry = (i: number, size = 16): OutboxEntry => ({
  topic: `t/${i}`,
  payload: new Uint8Array(size).fill(i & 0xff),
  qos: 1,
  retain: false,
  createdAt: 1_700_000_000_000 + i,
  messageId: `m${i}`,
});
const batch = (from: number, count: number, size = 16): OutboxEntry[] =>
  Array.from({ length: count }, (_, i) => entry(from + i, size));

async function rejection(p: Promise<unknown>): Promise<ThingwireError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ThingwireError);
    return e as ThingwireError;
  }
  throw new Error("expected a rejection");
}

const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs of `size` (root only); skips the test, saying why, when mounting is impossible. */
function tmpfs(ctx: TestContext, size: string): string {
  const mnt = join(dir, `mnt-${++n}`);
  mkdirSync(mnt);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt], { stdio: "pipe" });
  } catch (e) {
    ctx.skip(`cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): ${String((e as Error).message).split("\n")[0]}`);
  }
  mounts.push(mnt);
  return mnt;
}

async function closeAll(...stores: (Store | undefined)[]): Promise<void> {
  for (const s of stores) await s?.close().catch(() => {});
}

describe("sqlite store: read-only", () => {
  test(`read-only file (${isRoot ? "chattr +i" : "chmod 0444"}): reads work, writes reject STORE_READONLY, writes resume once writable`, async (ctx) => {
    const path = join(dir, `ro-${++n}.db`);
    const s1 = await openSqliteStore(path);
    const stored = await s1.outbox.append(batch(0, 5));
    await s1.inbox.put({ topic: "in", payload: new Uint8Array([1]), qos: 1, receivedAt: 1, dedupeKey: "k1" });
    await s1.kv.set("k", "v");
    await s1.close();
    const lock = (): void => {
      if (!isRoot) return void execFileSync("chmod", ["0444", path]);
      try {
        execFileSync("chattr", ["+i", path], { stdio: "pipe" });
      } catch (e) {
        // root ignores chmod, and tmpfs has no immutable flag
        ctx.skip(`cannot make ${path} read-only for root (chattr +i failed: ${String((e as Error).message).split("\n")[0]})`);
      }
    };
    const unlock = (): void => {
      if (isRoot) execFileSync("chattr", ["-i", path]);
      else execFileSync("chmod", ["0644", path]);
    };
    lock();
    let s: Store | undefined;
    try {
      s = await openSqliteStore(path);
      expect(await s.outbox.peek(100)).toEqual(stored);
      expect(await s.kv.get("k")).toBe("v");
      const e = await rejection(s.outbox.append(batch(10, 3)));
      expect(e.code).toBe("STORE_READONLY");
      expect(e.message).toMatch(/read-only/);
      expect(e.message).toMatch(/make the file and its directory writable/);
      expect(e.file).toBe(path);
      expect((await rejection(s.kv.set("k", "w"))).code).toBe("STORE_READONLY");
      expect((await rejection(s.inbox.put({ topic: "in", payload: new Uint8Array([2]), qos: 1, receivedAt: 2, dedupeKey: "k2" }))).code).toBe("STORE_READONLY");
      expect((await rejection(s.outbox.delete([stored[0]!.seq]))).code).toBe("STORE_READONLY");
      // nothing changed, everything still readable
      expect(await s.outbox.peek(100)).toEqual(stored);
      expect(await s.outbox.stats()).toMatchObject({ count: 5 });
      expect(await s.inbox.count()).toBe(1);
      unlock();
      // the same store writes again
      const more = await s.outbox.append(batch(10, 3));
      expect(more[0]!.seq).toBeGreaterThan(stored[4]!.seq);
      expect((await s.outbox.peek(100)).map((r) => r.messageId)).toEqual(["m0", "m1", "m2", "m3", "m4", "m10", "m11", "m12"]);
    } finally {
      try {
        unlock();
      } catch {
        // already writable
      }
      await closeAll(s);
    }
  });

  test("filesystem mounted read-only (remount ro): opens, reads, STORE_READONLY on write, writes resume after remount rw", async (ctx) => {
    const mnt = tmpfs(ctx, "8m");
    const path = join(mnt, "store.db");
    const first = await openSqliteStore(path);
    const stored = await first.outbox.append(batch(0, 20));
    await first.kv.set("k", "v");
    await first.close();
    // Linux refuses to remount read-only while a file is open for writing, so the store is closed
    // for the remount: the case of a device booting with its data partition mounted read-only.
    execFileSync("mount", ["-o", "remount,ro", mnt]);
    let s: Store | undefined;
    try {
      s = await openSqliteStore(path);
      expect(await s.outbox.peek(100)).toEqual(stored);
      expect(await s.kv.get("k")).toBe("v");
      const e = await rejection(s.outbox.append(batch(100, 5)));
      expect(e.code).toBe("STORE_READONLY");
      expect(e.message).toMatch(/remount the filesystem read-write/);
      expect(await s.outbox.peek(100)).toEqual(stored);
      execFileSync("mount", ["-o", "remount,rw", mnt]);
      await s.outbox.append(batch(100, 5));
      expect(await s.outbox.stats()).toMatchObject({ count: 25 });
      await s.close();
      const again = await openSqliteStore(path);
      expect((await again.outbox.peek(100)).length).toBe(25);
      await again.close();
    } finally {
      await closeAll(s);
    }
  });

  test("opening a missing directory rejects STORE_IO saying to check the directory", async () => {
    const e = await rejection(openSqliteStore(join(dir, "no-such-dir", "x.db")));
    expect(e.code).toBe("STORE_IO");
    expect(e.message).toMatch(/directory exists/);
  });
});

describe("sqlite store: disk full", () => {
  test("real full tmpfs: STORE_IO, stored messages readable, the same store writes again once space is freed", async (ctx) => {
    const mnt = tmpfs(ctx, "4m");
    const path = join(mnt, "store.db");
    const s = await openSqliteStore(path);
    try {
      const stored = await s.outbox.append(batch(0, 50, 1024));
      // take most of the remaining space with a filler file
      const free = (): number => {
        const out = execFileSync("df", ["-B1", "--output=avail", mnt]).toString().trim().split("\n");
        return Number(out[out.length - 1]);
      };
      writeFileSync(join(mnt, "filler"), new Uint8Array(Math.max(0, free() - 256 * 1024)));
      let error: ThingwireError | undefined;
      let i = 1_000;
      for (let k = 0; k < 200 && error === undefined; k++, i += 20) {
        try {
          await s.outbox.append(batch(i, 20, 4096));
        } catch (e) {
          error = e as ThingwireError;
        }
      }
      expect(error, "the disk never filled").toBeDefined();
      expect(error).toBeInstanceOf(ThingwireError);
      expect(error!.code).toBe("STORE_IO");
      expect(error!.message).toMatch(/full/);
      expect(error!.message).toMatch(/free space/);
      const now = await s.outbox.peek(Infinity);
      expect(now.slice(0, 50)).toEqual(stored);
      const count = now.length;
      expect(await s.outbox.stats()).toMatchObject({ count });
      // space comes back
      rmSync(join(mnt, "filler"));
      const more = await s.outbox.append(batch(5_000, 20, 4096));
      expect(more).toHaveLength(20);
      expect(await s.outbox.stats()).toMatchObject({ count: count + 20 });
      await s.close();
      const again = await openSqliteStore(path);
      expect((await again.outbox.peek(Infinity)).length).toBe(count + 20);
      await again.close();
    } finally {
      await closeAll(s);
    }
  }, 60_000);

  test("maxSizeBytes (SQLite max_page_count): STORE_IO when reached, works again after deleting delivered messages", async () => {
    const path = join(dir, `max-${++n}.db`);
    const s = await openSqliteStore(path, { maxSizeBytes: 512 * 1024 });
    try {
      const first = await s.outbox.append(batch(0, 10, 1024));
      let error: ThingwireError | undefined;
      let appended = 10;
      for (let k = 0; k < 200 && error === undefined; k++) {
        try {
          await s.outbox.append(batch(100 + k * 10, 10, 4096));
          appended += 10;
        } catch (e) {
          error = e as ThingwireError;
        }
      }
      expect(error, "maxSizeBytes was never reached").toBeDefined();
      expect(error!.code).toBe("STORE_IO");
      expect(error!.message).toMatch(/maxSizeBytes/);
      expect(statSync(path).size).toBeLessThanOrEqual(512 * 1024);
      const all = await s.outbox.peek(Infinity);
      expect(all).toHaveLength(appended);
      expect(all.slice(0, 10)).toEqual(first);
      // delete the delivered half: the freed pages are reused
      await s.outbox.delete(all.slice(10, 10 + Math.floor((appended - 10) / 2)).map((r) => r.seq));
      await s.outbox.append(batch(9_000, 10, 4096));
      expect((await s.outbox.stats()).count).toBe(appended - Math.floor((appended - 10) / 2) + 10);
    } finally {
      await closeAll(s);
    }
  }, 60_000);
});

describe("sqlite store: corruption", () => {
  test("garbage over the whole file: open rejects STORE_CORRUPT and leaves the file as it was", async () => {
    const path = join(dir, `corrupt-${++n}.db`);
    const s = await openSqliteStore(path);
    await s.outbox.append(batch(0, 100, 256));
    await s.close();
    const size = statSync(path).size;
    const garbage = new Uint8Array(size);
    for (let i = 0; i < size; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    writeFileSync(path, garbage);
    const e = await rejection(openSqliteStore(path));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toMatch(/move it aside/);
    expect(e.message).toMatch(/\.recover/);
    expect(new Uint8Array(readFileSync(path))).toEqual(garbage); // kept for recovery, not overwritten
  });

  test("damaged pages inside a valid file: STORE_CORRUPT at open or at first use", async () => {
    const path = join(dir, `corrupt-${++n}.db`);
    const s = await openSqliteStore(path);
    await s.outbox.append(batch(0, 400, 1024));
    await s.close();
    // keep page 1 (header and schema), smash the b-tree pages after it
    const fd = openSync(path, "r+");
    const page = 4096;
    const size = statSync(path).size;
    for (let off = page; off < size; off += page * 3) writeSync(fd, new Uint8Array(page).fill(0xa5), 0, page, off);
    closeSync(fd);
    let e: ThingwireError;
    let st: Store | undefined;
    try {
      st = await openSqliteStore(path);
      e = await rejection(st.outbox.peek(Infinity));
    } catch (err) {
      expect(err).toBeInstanceOf(ThingwireError);
      e = err as ThingwireError;
    }
    await closeAll(st);
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toMatch(/damaged|not a valid/);
  });

  test("a file from a newer thingwire (schema version above ours): STORE_CORRUPT saying to update", async () => {
    const path = join(dir, `newer-${++n}.db`);
    const s = await openSqliteStore(path);
    await s.close();
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    const e = await rejection(openSqliteStore(path));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toMatch(/schema version 99/);
    expect(e.message).toMatch(/update thingwire/);
  });
});

describe("sqlite store: locked by another connection", () => {
  test("a write lock held past busyTimeoutMs rejects STORE_IO naming the timeout; works once released", async () => {
    const path = join(dir, `busy-${++n}.db`);
    const s = await openSqliteStore(path, { busyTimeoutMs: 200 });
    const other = new DatabaseSync(path);
    try {
      const stored = await s.outbox.append(batch(0, 3));
      other.exec("BEGIN IMMEDIATE");
      const e = await rejection(s.outbox.append(batch(10, 3)));
      expect(e.code).toBe("STORE_IO");
      expect(e.message).toMatch(/busyTimeoutMs \(200 ms\)/);
      expect(await s.outbox.peek(10)).toEqual(stored); // readers are not blocked in WAL mode
      other.exec("ROLLBACK");
      await s.outbox.append(batch(10, 3));
      expect((await s.outbox.stats()).count).toBe(6);
    } finally {
      if (other.isTransaction) other.exec("ROLLBACK");
      other.close();
      await closeAll(s);
    }
  });
});
