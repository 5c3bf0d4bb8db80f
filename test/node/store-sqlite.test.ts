/**
 * The Store conformance suite against openSqliteStore() on Node 24 (node:sqlite), plus what only
 * a real file and real processes can show: two processes appending to one file at once, the
 * runtime requirement when node:sqlite is missing, and the options.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { vitestHarness } from "../helpers/vitest-harness.ts";
import { storeSuite } from "../suites/store.suite.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { ThingwireError } from "../../src/errors.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tw-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => join(dir, `${name}.db`);
const removeDb = async (name: string): Promise<void> => {
  for (const s of ["", "-wal", "-shm"]) rmSync(file(name) + s, { force: true });
};

storeSuite(vitestHarness, { label: "sqlite", persistent: true, open: (name) => openSqliteStore(file(name)), cleanup: removeDb });
storeSuite(vitestHarness, {
  label: "sqlite (synchronous normal)",
  persistent: true,
  open: (name) => openSqliteStore(file(name), { synchronous: "normal" }),
  cleanup: removeDb,
});

const node = process.execPath;
const child = new URL("./store-sqlite-child.ts", import.meta.url).pathname;
const sqliteModule = new URL("../../src/store/sqlite.ts", import.meta.url).pathname;

describe("sqlite store: processes and runtime", () => {
  test("two processes appending to one file at once lose nothing and never share a seq", async () => {
    const path = file("two-processes");
    const perProcess = 3_000;
    const batch = 25;
    const spawn = (id: string) => run(node, [child, path, id, String(perProcess), String(batch)], { maxBuffer: 64 << 20 });
    const [a, b] = await Promise.all([spawn("A"), spawn("B")]);
    const fromA = JSON.parse(a.stdout) as number[];
    const fromB = JSON.parse(b.stdout) as number[];
    expect(fromA).toHaveLength(perProcess);
    expect(fromB).toHaveLength(perProcess);
    // each process saw its own seqs strictly increasing
    for (const seqs of [fromA, fromB]) for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
    const all = new Set([...fromA, ...fromB]);
    expect(all.size).toBe(2 * perProcess);
    const s = await openSqliteStore(path);
    try {
      const stored = await s.outbox.peek(Infinity);
      expect(stored).toHaveLength(2 * perProcess);
      expect(new Set(stored.map((r) => r.seq))).toEqual(all);
      for (const id of ["A", "B"]) {
        const mine = stored.filter((r) => r.messageId.startsWith(`${id}-`)).map((r) => Number(r.messageId.slice(2)));
        expect(mine).toEqual(Array.from({ length: perProcess }, (_, i) => i)); // in publish order
      }
      expect(await s.outbox.stats()).toMatchObject({ count: 2 * perProcess });
      // the two processes really overlapped: their seqs interleave
      const firstB = Math.min(...fromB);
      const lastA = Math.max(...fromA);
      const firstA = Math.min(...fromA);
      const lastB = Math.max(...fromB);
      expect(firstB < lastA && firstA < lastB, "the appends interleaved").toBe(true);
    } finally {
      await s.close();
    }
  }, 60_000);

  test("without node:sqlite, opening rejects with STORE_UNAVAILABLE naming the runtime requirement", async () => {
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(sqliteModule)});
      try { await openSqliteStore(${JSON.stringify(file("unavailable"))}); console.log("opened"); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = await run(node, ["--no-experimental-sqlite", "--input-type=module", "-e", script]);
    const out = JSON.parse(r.stdout) as { code: string; message: string };
    expect(out.code).toBe("STORE_UNAVAILABLE");
    expect(out.message).toMatch(/Node ≥ 22\.13/);
    expect(out.message).toMatch(/Deno ≥ 2\.2/);
    expect(() => statSync(file("unavailable"))).toThrow(); // nothing was created
  });

  test("importing the module loads nothing (no node:sqlite until a store opens)", async () => {
    const script = `
      const before = process.moduleLoadList ? process.moduleLoadList.filter((m) => m.includes("sqlite")).length : 0;
      await import(${JSON.stringify(sqliteModule)});
      const after = process.moduleLoadList ? process.moduleLoadList.filter((m) => m.includes("sqlite")).length : 0;
      console.log(JSON.stringify({ before, after }));`;
    const r = await run(node, ["--input-type=module", "-e", script]);
    const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
    expect(after).toBe(before);
  });

  test("bad options are refused with OPTIONS_INVALID naming the option", async () => {
    for (const [opts, key] of [
      [{ synchronous: "off" }, "synchronous"],
      [{ busyTimeoutMs: -1 }, "busyTimeoutMs"],
      [{ maxSizeBytes: 0 }, "maxSizeBytes"],
    ] as const) {
      const err = await openSqliteStore(file("opts"), opts as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ThingwireError);
      expect(err).toMatchObject({ code: "OPTIONS_INVALID", path: key });
    }
    await expect(openSqliteStore("")).rejects.toMatchObject({ code: "OPTIONS_INVALID" });
  });

  test("the file is in WAL mode with the schema version set", async () => {
    const path = file("pragmas");
    const s = await openSqliteStore(path, { synchronous: "normal" });
    await s.close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    try {
      expect(db.prepare("PRAGMA journal_mode").get()).toMatchObject({ journal_mode: "wal" });
      expect(db.prepare("PRAGMA user_version").get()).toMatchObject({ user_version: 1 });
    } finally {
      db.close();
    }
  });
});
