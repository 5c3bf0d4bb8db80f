/**
 * Scale: 1,000 devices in one Node process connecting over ws to one Mosquitto (limits raised).
 *   - time until all are online, from creating the first client;
 *   - memory per device: (RSS after − RSS before) ÷ 1,000 and the same for the JS heap, after GC;
 *   - a broker restart (SIGTERM, then started again on the same ports as soon as it has exited):
 *     time from the stop until all are back online, and connection attempts per second during the
 *     herd, as a histogram (PNG).
 * Baseline: 1,000 bare mqtt.js clients with mqtt.js's own reconnect (fixed reconnectPeriod
 * 1,000 ms, no jitter). thingwire: createDevice with memoryStore() and its default backoff
 * (full jitter, base 1 s, max 30 s). An attempt is counted when it starts: thingwire's
 * "connecting" status, mqtt.js's initial connect and each "reconnect" event.
 *
 * Each phase runs in its own child process (clean memory figures) with its own broker; the parent
 * runs RUNS of each, interleaved, and reports medians. `--phase=bare|thingwire` runs one phase
 * and prints its JSON (that is what the parent calls).
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { startBenchBroker } from "./lib/mosquitto.ts";
import { type Chart, round, row, type Row, writeResult } from "./lib/results.ts";
import { gc, median, memory, percentile, runtimeVersion, sleep } from "./lib/stats.ts";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const N = Number(arg("devices", "1000"));
const RUNS = Number(arg("runs", "3"));
const BIN_MS = 250;

interface PhaseResult {
  phase: string;
  devices: number;
  onlineMs: number;
  rssPerDevice: number;
  heapPerDevice: number;
  backMs: number;
  /** From the stop until the restarted broker listened again. */
  downMs: number;
  /** Attempt start times, ms since the broker was stopped. */
  attempts: number[];
  error?: string;
}

/** What a phase drives: N clients, each reporting online/offline and attempt starts. */
interface Fleet {
  start(onAttempt: () => void, onOnline: () => void, onOffline: () => void): void;
  close(): Promise<void>;
}

async function bareFleet(url: string): Promise<Fleet> {
  const mqtt = (await import("mqtt")).default;
  const clients: import("mqtt").MqttClient[] = [];
  return {
    start(onAttempt, onOnline, onOffline) {
      for (let i = 0; i < N; i++) {
        onAttempt();
        const c = mqtt.connect(url, { clientId: `bare-${process.pid}-${i}`, protocolVersion: 5, reconnectPeriod: 1000, connectTimeout: 30_000, clean: false, properties: { sessionExpiryInterval: 3600 } });
        c.on("reconnect", onAttempt);
        c.on("connect", onOnline);
        c.on("offline", onOffline);
        c.on("error", () => {});
        clients.push(c);
      }
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    },
  };
}

async function thingwireFleet(url: string): Promise<Fleet> {
  const { createDevice } = await import("../src/device/device.ts");
  const { memoryStore } = await import("../src/store/memory.ts");
  const devices: import("../src/device/types.ts").Device[] = [];
  return {
    start(onAttempt, onOnline, onOffline) {
      for (let i = 0; i < N; i++) {
        const d = createDevice({ url, clientId: `tw-${process.pid}-${i}`, store: memoryStore(), connectTimeoutMs: 30_000 });
        let wasOnline = false;
        d.on("status", (s) => {
          if (s.state === "connecting") onAttempt();
          else if (s.state === "online") {
            wasOnline = true;
            onOnline();
          } else if (s.state === "offline" && wasOnline) {
            wasOnline = false;
            onOffline();
          }
        });
        devices.push(d);
      }
    },
    async close() {
      await Promise.all(devices.map((d) => d.close()));
    },
  };
}

async function runPhase(phase: string): Promise<PhaseResult> {
  const broker = await startBenchBroker();
  try {
    // Load the code before the "before" sample, so memory per device is the devices' own.
    const fleet = phase === "bare" ? await bareFleet(broker.wsUrl) : await thingwireFleet(broker.wsUrl);
    await gc();
    const before = memory();
    let online = 0;
    let attemptsSinceStop: number[] | undefined;
    let stopAt = 0;
    let allOnline: () => void = () => {};
    let allOffline: () => void = () => {};
    const onAttempt = () => attemptsSinceStop?.push(performance.now() - stopAt);
    const onOnline = () => {
      if (++online === N) allOnline();
    };
    const onOffline = () => {
      if (--online === 0) allOffline();
    };
    const waitAll = (what: "online" | "offline", ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${phase}: ${online}/${N} online, waited ${ms} ms for all ${what}`)), ms);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (what === "online") allOnline = done;
        else allOffline = done;
      });
    const t0 = performance.now();
    const up = waitAll("online", 120_000);
    fleet.start(onAttempt, onOnline, onOffline);
    await up;
    const onlineMs = performance.now() - t0;
    await sleep(500);
    await gc();
    const after = memory();

    // Restart: stop (SIGTERM), start again on the same ports once it has exited.
    attemptsSinceStop = [];
    const down = waitAll("offline", 30_000);
    stopAt = performance.now();
    await broker.stop();
    await down;
    const back = waitAll("online", 180_000);
    await broker.start();
    const downMs = performance.now() - stopAt;
    await back;
    const backMs = performance.now() - stopAt;
    const attempts = attemptsSinceStop;
    attemptsSinceStop = undefined;
    await fleet.close();
    return {
      phase,
      devices: N,
      onlineMs,
      rssPerDevice: (after.rss - before.rss) / N,
      heapPerDevice: (after.heapUsed - before.heapUsed) / N,
      backMs,
      downMs,
      attempts,
    };
  } finally {
    await broker.dispose();
  }
}

const phaseArg = arg("phase", "");
if (phaseArg) {
  const r = await runPhase(phaseArg).catch((e: unknown) => ({ phase: phaseArg, error: e instanceof Error ? e.message : String(e) }));
  process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
  process.exit(0);
}

// Parent: RUNS × {bare, thingwire}, each in a fresh process.
const results: Record<string, PhaseResult[]> = { bare: [], thingwire: [] };
const notes: string[] = [];
for (let run = 0; run < RUNS; run++) {
  for (const phase of run % 2 ? ["thingwire", "bare"] : ["bare", "thingwire"]) {
    const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
    const cmd = process.execPath;
    const args = isDeno
      ? ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname, `--phase=${phase}`, `--devices=${N}`]
      : ["--expose-gc", new URL(import.meta.url).pathname, `--phase=${phase}`, `--devices=${N}`];
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) {
      notes.push(`Run ${run + 1} ${phase}: no result (exit ${r.status}): ${r.stderr.slice(-400)}`);
      console.log(`scale: ${phase} run ${run + 1}: no result: ${r.stderr.slice(-400)}`);
      continue;
    }
    const res = JSON.parse(line.slice(7)) as PhaseResult;
    if (res.error) {
      notes.push(`Run ${run + 1} ${phase} failed: ${res.error}`);
      console.log(`scale: ${phase} run ${run + 1} failed: ${res.error}`);
      continue;
    }
    results[phase]!.push(res);
    const peak = Math.max(...histogram(res.attempts).map((b) => b[1]));
    console.log(`scale: ${phase} run ${run + 1}: online ${Math.round(res.onlineMs)} ms, RSS/device ${(res.rssPerDevice / 1024).toFixed(1)} KiB, heap/device ${(res.heapPerDevice / 1024).toFixed(1)} KiB, back ${Math.round(res.backMs)} ms, ${res.attempts.length} attempts, peak ${peak} per s`);
  }
}

/** Attempts per second in BIN_MS bins: [bin start (s), attempts/s]. */
function histogram(attempts: number[], endMs?: number): Array<[number, number]> {
  const end = endMs ?? Math.max(0, ...attempts);
  const bins = new Array(Math.floor(end / BIN_MS) + 1).fill(0);
  for (const a of attempts) bins[Math.floor(a / BIN_MS)]++;
  return bins.map((n, i) => [round((i * BIN_MS) / 1000, 2), n * (1000 / BIN_MS)]);
}

const medOf = (phase: string, f: (r: PhaseResult) => number) => (results[phase]!.length ? median(results[phase]!.map(f)) : null);
const peakOf = (r: PhaseResult) => Math.max(...histogram(r.attempts).map((b) => b[1]));
const p95Of = (r: PhaseResult) => percentile(r.attempts, 95);
const rows: Row[] = [];
const add = (name: string, f: (r: PhaseResult) => number, unit: string, better: "higher" | "lower", digits = 1) => {
  const tw = medOf("thingwire", f);
  const base = medOf("bare", f);
  rows.push(row({ case: name, thingwire: tw === null ? null : round(tw, digits), baseline: base === null ? null : round(base, digits), baselineName: "bare mqtt.js (reconnectPeriod 1 s)", unit, better }));
};
add(`time until all ${N} online`, (r) => r.onlineMs / 1000, "s", "lower", 2);
add("memory per device, RSS", (r) => r.rssPerDevice / 1024, "KiB", "lower");
add("memory per device, JS heap", (r) => r.heapPerDevice / 1024, "KiB", "lower");
add("broker restart: broker down (stop → listening again)", (r) => r.downMs / 1000, "s", "lower", 2);
add("broker restart: time until all back (from the stop)", (r) => r.backMs / 1000, "s", "lower", 2);
add("broker restart: connection attempts", (r) => r.attempts.length, "attempts", "lower", 0);
add(`broker restart: peak attempts per second (${BIN_MS} ms bins)`, peakOf, "attempts/s", "lower", 0);
add("broker restart: 95th percentile of attempt start", (r) => p95Of(r) / 1000, "s after stop", "lower", 2);

// Histogram of the median-by-time-back run of each side.
const pick = (phase: string) => {
  const rs = [...results[phase]!].sort((a, b) => a.backMs - b.backMs);
  return rs[(rs.length - 1) >> 1];
};
const charts: Chart[] = [];
const tw = pick("thingwire");
const bare = pick("bare");
if (tw || bare) {
  const end = Math.max(...[tw, bare].filter((x): x is PhaseResult => !!x).map((r) => Math.max(r.backMs, ...r.attempts)));
  const series = [bare, tw].filter((x): x is PhaseResult => !!x).map((r) => ({
    name: r.phase === "bare" ? "bare mqtt.js (fixed 1 s)" : "thingwire (full jitter)",
    points: histogram(r.attempts, end).map(([, v], i) => [i, v] as [number, number]),
  }));
  const nBins = Math.floor(end / BIN_MS) + 1;
  charts.push({
    file: "scale-reconnect-histogram.png",
    title: `Reconnect herd after a broker restart: ${N} clients, attempts per second`,
    kind: "bar",
    xLabel: `seconds since the broker was stopped (${BIN_MS} ms bins)`,
    yLabel: "connection attempts / s",
    categories: Array.from({ length: nBins }, (_, i) => `${(i * BIN_MS) / 1000}`),
    series,
  });
}
notes.push(
  `${runtimeVersion()}; ${N} clients over ws to one Mosquitto on 127.0.0.1 (max_connections -1, max_queued_messages 0, ulimit -n raised); each side in a fresh process with its own broker; median of ${RUNS} runs per side, interleaved.`,
  "Restart = SIGTERM to Mosquitto, started again on the same ports as soon as it exited (no persistence: sessions are gone). Times count from the stop.",
  "Memory per device = (after all online − before creating any, both after GC) ÷ devices; RSS includes the sockets' buffers.",
  `Per run: ${Object.entries(results).map(([p, rs]) => `${p}: ${rs.map((r) => `online ${(r.onlineMs / 1000).toFixed(1)} s / back ${(r.backMs / 1000).toFixed(1)} s / ${r.attempts.length} attempts / peak ${peakOf(r)}/s`).join("; ")}`).join(" | ")}.`,
);
writeResult("scale", { title: `Scale: ${N} devices in one Node process`, rows, notes, charts });
process.exit(0);
