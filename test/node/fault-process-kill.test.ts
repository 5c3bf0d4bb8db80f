/**
 * Fault: the device process is killed with SIGKILL, again and again, at random moments (during
 * start-up, connecting, publishing, draining, deleting acknowledged messages), while it publishes
 * to a SQLite store. Each run is a new process on the same file (fixtures/fault-publisher.ts),
 * alternately under Node and Deno (so each runtime's node:sqlite reopens what the other left
 * after a kill), that first sends what earlier runs left and then publishes its own messages,
 * printing each one publish() confirmed. A last process drains the store and exits cleanly.
 *
 * Checked: every confirmed message reaches a bare mqtt.js subscriber connected to Mosquitto the
 * whole time (nothing lost), duplicates stay within kills × in-flight window (what was on the wire and
 * not yet deleted when the process died is sent again), and the store ends empty. The random kill delays
 * come from a seed printed in the report (TW_FAULT_SEED=<n> replays them).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type MosquittoBroker, startMosquitto } from "../helpers/mosquitto.ts";
import { seededRandom } from "../../src/cli/simulate-vehicle.ts";
import { report, startCounter } from "./fixtures/fault-util.ts";


const KILLS = 24;
const IN_FLIGHT = 32;
const root = new URL("../../", import.meta.url).pathname;
const node = join(root, "node_modules/.bin/node");
const deno = join(root, "node_modules/.bin/deno");
const DENO_FLAGS = ["run", "--no-prompt", "--quiet", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys"];
const fixture = join(root, "test/node/fixtures/fault-publisher.ts");

let broker: MosquittoBroker;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-fault-proc-"));
  broker = await startMosquitto({ ws: true });
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});


interface Run {
  confirmed: string[];
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the publisher under `runtime`; SIGKILLs it after `killAfterMs` (never, when undefined). */
function runPublisher(runtime: "node" | "deno", db: string, producer: string, mode: "publish" | "drain", killAfterMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const args = [fixture, db, broker.wsUrl!, producer, mode];
    const child = spawn(runtime === "node" ? node : deno, runtime === "node" ? ["--no-warnings", ...args] : [...DENO_FLAGS, ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "", TW_IN_FLIGHT: String(IN_FLIGHT) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(killer);
      clearTimeout(guard);
      // Only complete lines count: a line cut by the kill was not confirmed.
      const complete = stdout.slice(0, stdout.lastIndexOf("\n") + 1);
      const confirmed = complete.split("\n").filter((l) => l.startsWith("ok ")).map((l) => l.slice(3));
      resolve({ confirmed, stdout, stderr, code, signal });
    });
  });
}

test(`device process (Node and Deno, alternating) SIGKILLed ${KILLS}× at random moments while publishing to SQLite: every confirmed message arrives`, async () => {
  const seed = Number(process.env.TW_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = seededRandom(seed); // replayable: a failing sequence of kill delays
  const sub = await startCounter(broker.tcpUrl, "fault/proc/#");
  const db = join(dir, "proc.db");
  const confirmed: string[] = [];
  const delays: number[] = [];
  let killed = 0;
  try {
    for (let run = 0; run < KILLS; run++) {
      const delay = Math.round(150 + random() * 1_350);
      delays.push(delay);
      const runtime = run % 2 === 0 ? "node" : "deno";
      const r = await runPublisher(runtime, db, `p${run}`, "publish", delay);
      if (r.signal !== "SIGKILL") throw new Error(`run ${run} (${runtime}) ended by itself (code ${r.code}) before the kill:\n${r.stderr}`);
      killed++;
      confirmed.push(...r.confirmed);
    }
    const last = await runPublisher("node", db, "drain", "drain");
    expect(last.code, `the draining process failed:\n${last.stderr}`).toBe(0);
    expect(last.stdout).toMatch(/drained 0/);
    await sub.until((c) => confirmed.every((k) => c.counts.has(k)), "every confirmed message", 15_000).catch(() => {});
    const a = sub.analyze(confirmed);
    const bound = killed * IN_FLIGHT;
    report({
      fault: "device process SIGKILL at random moments while publishing (SQLite store; Node and Deno alternating; then one clean drain)",
      iterations: killed,
      messages: confirmed.length,
      lost: a.lost.length,
      duplicates: a.duplicates,
      bound: `every confirmed message arrives; duplicates ≤ kills × inFlight = ${bound}`,
      measured: `seed ${seed}; kill delays ${Math.min(...delays)}–${Math.max(...delays)} ms after spawn; ${a.distinct} distinct received`,
    });
    expect(confirmed.length, "the publishers confirmed messages").toBeGreaterThan(KILLS * 5);
    expect(a.lost, `confirmed messages that never arrived (TW_FAULT_SEED=${seed})`).toEqual([]);
    expect(a.outOfOrder, `first arrivals out of order (TW_FAULT_SEED=${seed})`).toEqual([]);
    expect(a.duplicates).toBeLessThanOrEqual(bound);
  } finally {
    await sub.end();
  }
}, 150_000);
