/** The Store conformance suite on Deno: memoryStore() and openSqliteStore() (Deno's node:sqlite). */
import { denoHarness } from "./harness.ts";
import { storeSuite } from "../suites/store.suite.ts";
import { memoryStore } from "../../src/store/memory.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";

const dir = Deno.makeTempDirSync({ prefix: "tw-sqlite-deno-" });
const file = (name: string): string => `${dir}/${name}.db`;
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
});

storeSuite(denoHarness, { label: "memory", persistent: false, open: async () => memoryStore() });
storeSuite(denoHarness, {
  label: "sqlite",
  persistent: true,
  open: (name) => openSqliteStore(file(name)),
  cleanup: async (name) => {
    for (const s of ["", "-wal", "-shm"]) await Deno.remove(file(name) + s).catch(() => {});
  },
});
