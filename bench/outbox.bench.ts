/**
 * Cost curves of the outbox: how publish latency and memory grow with outbox depth (1k, 10k, 100k
 * messages queued while the broker is down), for thingwire's memory and SQLite stores; then the
 * broker comes back and the 100k drain (issue 5): drain rate and peak memory.
 *
 * - latency: at each depth, K publish() calls awaited one after another (QoS 1, 200 B); the time
 *   until each resolves (stored, group commit included); median and p99. Baseline: the same
 *   store at depth 1k (the growth).
 * - memory: RSS and JS heap after GC at each depth, minus before the device was created.
 *   Baseline: bare mqtt.js holding the same number of QoS 1 messages in its own offline queue
 *   (publish while disconnected; mqtt.js keeps them in memory).
 * - drain: the broker starts; time until everything is acknowledged (thingwire: flush(); mqtt.js:
 *   every publish callback, i.e. every PUBACK); peak RSS of the process over the whole phase
 *   (VmHWM). Baseline: bare mqtt.js draining its queue.
 *
 * Each phase (memory, sqlite, bare) is its own child process, RUNS times, interleaved; medians.
 * Runs on Node and on Deno (results outbox-<runtime>.json).
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startBenchBroker } from "./lib/mosquitto.ts";
import { type Chart, round, row, type Row, writeResult } from "./lib/results.ts";
import { gc, median, memory, MiB, percentile, procPeakRss, runtime, runtimeVersion, sleep } from "./lib/stats.ts";
import type { Device } from "../src/device/types.ts";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const RUNS = Number(arg("runs", "3"));
const DEPTHS = arg("depths", "1000,10000,100000").split(",").map(Number);
const K = Number(arg("samples", "200"));
const SIZE = 200;
const CHUNK = 2000;
/** Depth of the drain comparison with mqtt.js (its offline-queue drain slows down more than linearly: 10k took 5.7 s, 30k 22.7 s here). */
const DRAIN_DEPTH = Number(arg("drain-depth", "10000"));
/** Drain the full 100k after the curve (issue 5's figure), in the first run only: on Node, both stores. */
const DRAIN_BIG = arg("drain-big", runtime === "node" ? "sqlite,memory" : "").split(",").filter(Boolean);

interface DepthFigures {
  depth: number;
  latencyMedianMs: number | null;
  latencyP99Ms: number | null;
  rss: number;
  heap: number;
  fillPerSec: number;
}
interface PhaseResult {
  phase: string;
  depths: DepthFigures[];
  drained: number;
  drainMs: number;
  peakRss: number;
  error?: string;
}

const payload = new Uint8Array(SIZE).map((_, i) => (i * 7) & 0xff);

/**
 * `curve-<side>`: fill through DEPTHS, measuring at each; with `drainAll`, then start the broker
 * and drain everything. `drain-<side>`: fill DRAIN_DEPTH, then start the broker and drain.
 */
async function phaseRun(name: string, drainAll: boolean): Promise<PhaseResult> {
  const [kind, phase] = name.split("-") as ["curve" | "drain", string];
  const depthsHere = kind === "curve" ? DEPTHS : [DRAIN_DEPTH];
  const broker = await startBenchBroker();
  await broker.stop(); // down: everything published now queues
  const dbPath = join(tmpdir(), `tw-bench-outbox-${process.pid}.db`);
  const cleanup = () => {
    for (const ext of ["", "-wal", "-shm", "-journal"]) rmSync(dbPath + ext, { force: true });
  };
  cleanup();
  const topic = `bench/outbox/${phase}/${process.pid}`;
  try {
    let publishOne: () => Promise<unknown>;
    let fill: (n: number) => Promise<void>;
    let drain: () => Promise<void>;
    let close: () => Promise<void>;
    let count = 0;
    if (phase === "bare") {
      const mqtt = (await import("mqtt")).default;
      await gc();
      var base = memory();
      const client = mqtt.connect(broker.wsUrl, { clientId: `bare-ob-${process.pid}`, protocolVersion: 5, reconnectPeriod: 500, clean: false, properties: { sessionExpiryInterval: 3600 } });
      client.on("error", () => {});
      let acked = 0;
      let allAcked: () => void = () => {};
      const cb = (err?: Error) => {
        if (!err && ++acked === count) allAcked();
      };
      publishOne = () => {
        count++;
        client.publish(topic, payload as Buffer, { qos: 1 }, cb);
        return Promise.resolve();
      };
      fill = async (n) => {
        for (let i = 0; i < n; i++) publishOne();
      };
      drain = () => new Promise<void>((resolve) => {
        if (acked === count) return resolve();
        allAcked = resolve;
      });
      close = () => client.endAsync(true);
    } else {
      const { createDevice } = await import("../src/device/device.ts");
      const store = phase === "sqlite"
        ? await (await import("../src/store/sqlite.ts")).openSqliteStore(dbPath)
        : (await import("../src/store/memory.ts")).memoryStore();
      await gc();
      var base = memory();
      const device: Device = createDevice({
        url: broker.wsUrl,
        clientId: `tw-ob-${phase}-${process.pid}`,
        store,
        reconnect: { baseMs: 200, maxMs: 500 },
        outbox: { maxMessages: 1_000_000, maxBytes: 1024 * MiB },
      });
      publishOne = () => {
        count++;
        return device.publish(topic, payload, { qos: 1 });
      };
      fill = async (n) => {
        for (let done = 0; done < n; done += CHUNK) {
          const m = Math.min(CHUNK, n - done);
          const ps = new Array(m);
          for (let i = 0; i < m; i++) ps[i] = publishOne();
          await Promise.all(ps);
        }
      };
      drain = () => device.flush({ timeoutMs: 600_000 });
      close = async () => {
        await device.close();
        await store.close();
      };
    }

    const depths: DepthFigures[] = [];
    for (const depth of depthsHere) {
      const t = performance.now();
      const n = depth - count;
      await fill(n);
      const fillPerSec = n / ((performance.now() - t) / 1000);
      await gc();
      const m = memory();
      let latencyMedianMs: number | null = null;
      let latencyP99Ms: number | null = null;
      if (phase !== "bare" && kind === "curve") {
        const lat: number[] = [];
        for (let i = 0; i < K; i++) {
          const t0 = performance.now();
          await publishOne();
          lat.push(performance.now() - t0);
        }
        latencyMedianMs = median(lat);
        latencyP99Ms = percentile(lat, 99);
      }
      depths.push({ depth, latencyMedianMs, latencyP99Ms, rss: m.rss - base.rss, heap: m.heapUsed - base.heapUsed, fillPerSec });
    }
    let drainMs = 0;
    let drained = 0;
    if (kind === "drain" || drainAll) {
      const t = performance.now();
      await broker.start();
      await drain();
      drainMs = performance.now() - t;
      drained = count;
    }
    const peakRss = procPeakRss(process.pid);
    await close();
    return { phase: name, depths, drained, drainMs, peakRss };
  } finally {
    await broker.dispose();
    cleanup();
  }
}

const phaseArg = arg("phase", "");
if (phaseArg) {
  const r = await phaseRun(phaseArg, process.argv.includes("--drain-all")).catch((e: unknown) => ({ phase: phaseArg, error: e instanceof Error ? `${e.message}` : String(e) }));
  process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
  await sleep(10);
  process.exit(0);
}

const PHASES = ["curve-memory", "curve-sqlite", "curve-bare", "drain-memory", "drain-sqlite", "drain-bare"];
const results: Record<string, PhaseResult[]> = Object.fromEntries(PHASES.map((p) => [p, []]));
const notes: string[] = [];
for (let run = 0; run < RUNS; run++) {
  for (let k = 0; k < PHASES.length; k++) {
    const phase = PHASES[(k + run) % PHASES.length]!;
    const self = new URL(import.meta.url).pathname;
    // The 100k drain is the longest step: first run only.
    const drainAll = run === 0 && phase.startsWith("curve-") && DRAIN_BIG.includes(phase.slice(6));
    const extra = [`--phase=${phase}`, `--depths=${DEPTHS.join(",")}`, `--samples=${K}`, `--drain-depth=${DRAIN_DEPTH}`, ...(drainAll ? ["--drain-all"] : [])];
    const [cmd, args] = runtime === "deno"
      ? [process.execPath, ["run", "-A", "--v8-flags=--expose-gc", self, ...extra]]
      : [process.execPath, ["--expose-gc", self, ...extra]];
    const r = spawnSync(cmd, args as string[], { encoding: "utf8", maxBuffer: 64 * MiB, timeout: 300_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    const res = line ? (JSON.parse(line.slice(7)) as PhaseResult) : undefined;
    if (!res || res.error) {
      const why = res?.error ?? `no result (exit ${r.status}): ${r.stderr.slice(-400)}`;
      notes.push(`Run ${run + 1} ${phase} failed: ${why}`);
      console.log(`outbox ${runtime}: ${phase} run ${run + 1} failed: ${why}`);
      continue;
    }
    results[phase]!.push(res);
    console.log(`outbox ${runtime}: ${phase} run ${run + 1}: ${res.depths.map((d) => `${d.depth}: ${d.latencyMedianMs?.toFixed(3) ?? "-"} ms p50 / ${d.latencyP99Ms?.toFixed(3) ?? "-"} ms p99, heap +${(d.heap / MiB).toFixed(1)} MiB, RSS +${(d.rss / MiB).toFixed(1)} MiB, fill ${Math.round(d.fillPerSec)}/s`).join("; ")}${res.drained ? `; drained ${res.drained} in ${Math.round(res.drainMs)} ms` : ""}, peak RSS ${(res.peakRss / MiB).toFixed(0)} MiB`);
  }
}

const at = (phase: string, depth: number, f: (d: DepthFigures) => number | null): number | null => {
  const xs = results[`curve-${phase}`]!.map((r) => r.depths.find((d) => d.depth === depth)).filter((d): d is DepthFigures => !!d).map(f).filter((x): x is number => x !== null);
  return xs.length ? median(xs) : null;
};
const whole = (phase: string, f: (r: PhaseResult) => number): number | null => {
  const rs = results[phase]!.filter((r) => r.drained > 0);
  return rs.length ? median(rs.map(f)) : null;
};
const fmtD = (d: number) => (d >= 1000 ? `${d / 1000}k` : String(d));
const rows: Row[] = [];
for (const store of ["memory", "sqlite"] as const) {
  const label = store === "memory" ? "memory store" : "SQLite store";
  const first = DEPTHS[0]!;
  for (const depth of DEPTHS) {
    const v = at(store, depth, (d) => d.latencyMedianMs);
    const b = at(store, first, (d) => d.latencyMedianMs);
    rows.push(row({ case: `${label}: publish() latency p50 at ${fmtD(depth)} queued`, thingwire: v === null ? null : round(v, 3), baseline: b === null ? null : round(b, 3), baselineName: `same store at ${fmtD(first)}`, unit: "ms", better: "lower" }));
  }
  for (const depth of DEPTHS) {
    const v = at(store, depth, (d) => d.latencyP99Ms);
    const b = at(store, first, (d) => d.latencyP99Ms);
    rows.push(row({ case: `${label}: publish() latency p99 at ${fmtD(depth)} queued`, thingwire: v === null ? null : round(v, 3), baseline: b === null ? null : round(b, 3), baselineName: `same store at ${fmtD(first)}`, unit: "ms", better: "lower" }));
  }
  for (const depth of DEPTHS) {
    const v = at(store, depth, (d) => d.heap / MiB);
    const b = at("bare", depth, (d) => d.heap / MiB);
    rows.push(row({ case: `${label}: JS heap with ${fmtD(depth)} queued`, thingwire: v === null ? null : round(v, 1), baseline: b === null ? null : round(b, 1), baselineName: "mqtt.js offline queue, same depth", unit: "MiB", better: "lower" }));
  }
  for (const depth of DEPTHS) {
    const v = at(store, depth, (d) => d.rss / MiB);
    const b = at("bare", depth, (d) => d.rss / MiB);
    rows.push(row({ case: `${label}: RSS growth with ${fmtD(depth)} queued`, thingwire: v === null ? null : round(v, 1), baseline: b === null ? null : round(b, 1), baselineName: "mqtt.js offline queue, same depth", unit: "MiB", better: "lower" }));
  }
  const total = DEPTHS[DEPTHS.length - 1]!;
  const rate = whole(`drain-${store}`, (r) => r.drained / (r.drainMs / 1000));
  const bareRate = whole("drain-bare", (r) => r.drained / (r.drainMs / 1000));
  rows.push(row({ case: `${label}: drain ${fmtD(DRAIN_DEPTH)} queued offline once the broker is back`, thingwire: rate === null ? null : Math.round(rate), baseline: bareRate === null ? null : Math.round(bareRate), baselineName: `mqtt.js draining ${fmtD(DRAIN_DEPTH)} from its offline queue`, unit: "msg/s", better: "higher" }));
  const peak = whole(`drain-${store}`, (r) => r.peakRss / MiB);
  const barePeak = whole("drain-bare", (r) => r.peakRss / MiB);
  rows.push(row({ case: `${label}: peak RSS, queue + drain ${fmtD(DRAIN_DEPTH)}`, thingwire: peak === null ? null : round(peak, 0), baseline: barePeak === null ? null : round(barePeak, 0), baselineName: "mqtt.js, same", unit: "MiB", better: "lower" }));
  const bigRate = whole(`curve-${store}`, (r) => r.drained / (r.drainMs / 1000));
  const smallRate = rate;
  if (bigRate !== null) {
    rows.push(row({ case: `${label}: drain ${fmtD(total)} (+${DEPTHS.length * K}) queued offline (1 run)`, thingwire: Math.round(bigRate), baseline: smallRate === null ? null : Math.round(smallRate), baselineName: `same store draining ${fmtD(DRAIN_DEPTH)}`, unit: "msg/s", better: "higher" }));
    const bigPeak = whole(`curve-${store}`, (r) => r.peakRss / MiB);
    rows.push(row({ case: `${label}: peak RSS, queue + drain ${fmtD(total)} (1 run)`, thingwire: bigPeak === null ? null : round(bigPeak, 0), baseline: peak === null ? null : round(peak, 0), baselineName: `same store, ${fmtD(DRAIN_DEPTH)}`, unit: "MiB", better: "lower" }));
  }
  const fill = at(store, total, (d) => d.fillPerSec);
  rows.push(row({ case: `${label}: fill rate up to ${fmtD(total)} (publish() in batches of ${CHUNK})`, thingwire: fill === null ? null : Math.round(fill), baseline: null, baselineName: "", unit: "msg/s", better: "higher" }));
}

const series = (phase: string, name: string, f: (d: DepthFigures) => number | null) => ({
  name,
  points: DEPTHS.map((d) => [d, at(phase, d, f)] as [number, number | null]).filter((p): p is [number, number] => p[1] !== null),
});
const charts: Chart[] = [
  {
    file: `outbox-latency-${runtime}.png`,
    title: `publish() latency vs outbox depth, ${runtimeVersion()} (ms)`,
    kind: "line",
    xLabel: "messages queued (log scale)",
    yLabel: "ms until publish() resolves (log scale)",
    logX: true,
    logY: true,
    series: [
      series("memory", "memory store p50", (d) => d.latencyMedianMs),
      series("memory", "memory store p99", (d) => d.latencyP99Ms),
      series("sqlite", "SQLite p50", (d) => d.latencyMedianMs),
      series("sqlite", "SQLite p99", (d) => d.latencyP99Ms),
    ],
  },
  {
    file: `outbox-memory-${runtime}.png`,
    title: `JS heap vs messages queued, ${runtimeVersion()} (MiB)`,
    kind: "line",
    xLabel: "messages queued (log scale)",
    yLabel: "MiB (JS heap growth after GC)",
    logX: true,
    series: [
      series("memory", "thingwire memory store", (d) => d.heap / MiB),
      series("sqlite", "thingwire SQLite store", (d) => d.heap / MiB),
      series("bare", "mqtt.js offline queue", (d) => d.heap / MiB),
    ],
  },
];
notes.push(
  `${runtimeVersion()}; QoS 1, ${SIZE} B payloads, published while Mosquitto (ws, 127.0.0.1) is stopped; outbox limits raised to 1M messages / 1 GiB for the bench; median of ${RUNS} runs, each phase in a fresh process.`,
  `Latency: ${K} publish() calls awaited one at a time at each depth (so each waits for its own group commit). Memory: after GC, minus before the client was created (so it includes the client's fixed cost, about 9 MiB of heap on every side: read the growth between depths). Drain: broker started, until flush() resolves (mqtt.js: until every PUBACK callback ran); peak RSS = VmHWM of the process over the whole phase.`,
  `The drain comparison with mqtt.js is at ${fmtD(DRAIN_DEPTH)}: mqtt.js re-sends its offline queue slower than linearly (here 10k took 5.7 s, 30k 22.7 s), so 100k would not fit the bench's time. ${DRAIN_BIG.length ? `The ${fmtD(DEPTHS[DEPTHS.length - 1]!)} drain is measured for thingwire (${DRAIN_BIG.join(", ")}) after the curve of the first run only (the longest step of this bench).` : `The ${fmtD(DEPTHS[DEPTHS.length - 1]!)} drain is measured on Node only.`}`,
);
writeResult(`outbox-${runtime}`, { title: `Cost curves: outbox depth on ${runtime === "node" ? "Node" : "Deno"}`, rows, notes, charts });
process.exit(0);
