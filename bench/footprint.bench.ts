/**
 * Footprint on an edge box: `thingwire run` (SQLite store, ingress subscription, stdout handler),
 * idle and at 100 msg/s into its ingress topic — resident memory and CPU, on Node and on Deno.
 * Baseline: bench/lib/bare-service.ts, the least a bare mqtt.js service does (subscribe, print
 * each message), on the same runtime.
 *
 * The four services (thingwire/bare × Node/Deno) run at the same time, each its own process on
 * its own ingress topic, against one Mosquitto; one bare mqtt.js publisher in this process feeds
 * each topic at 100 msg/s (QoS 1, ~200 B JSON). Per window, for each process: CPU = Δ(utime +
 * stime) ÷ Δwall from /proc/<pid>/stat (% of one core), RSS = median of VmRSS samples every
 * 250 ms. Windows: idle (after a 3 s settle), then load (after a 3 s ramp). RUNS runs, medians.
 */
import mqtt from "mqtt";
import { transform } from "esbuild";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startBenchBroker, type BenchBroker } from "./lib/mosquitto.ts";
import { type Chart, round, row, type Row, writeResult } from "./lib/results.ts";
import { median, MiB, procSample, sleep } from "./lib/stats.ts";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const RUNS = Number(arg("runs", "3"));
const WINDOW_MS = Number(arg("window", "10")) * 1000;
const RATE = 100;
const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules/.bin", name);

/**
 * On Node both sides run as JavaScript, as deployed: thingwire as the built CLI (dist/cli.js, the
 * npm bin; built here), the baseline compiled the same way. Running .ts files through Node's type
 * stripping costs ~17–23 MiB of RSS on its own (measured: an idle script 42 → 60 MiB), which
 * neither a user of the npm package nor a plain mqtt.js service pays. Deno runs the sources.
 */
const nodeCli = join(root, "dist/cli.js");
const nodeBare = join(root, "bench/.work/bare-service.mjs");
{
  const built = spawnSync(bin("tsup"), [], { cwd: root, stdio: "ignore" });
  if (built.status !== 0 || !existsSync(nodeCli)) throw new Error("footprint: `npx tsup` failed; dist/cli.js is needed");
  mkdirSync(join(root, "bench/.work"), { recursive: true });
  const out = await transform(readFileSync(join(root, "bench/lib/bare-service.ts"), "utf8"), { loader: "ts", format: "esm", target: "node22" });
  writeFileSync(nodeBare, out.code);
}

interface Svc {
  id: string;
  kind: "thingwire" | "bare";
  runtime: "node" | "deno";
  topic: string;
  child?: ChildProcess;
  online?: Promise<void>;
  lines: number;
  stderr: string;
}

function launch(svc: Svc, broker: BenchBroker, dir: string): void {
  let cmd: string;
  let args: string[];
  if (svc.kind === "thingwire") {
    const cfg = join(dir, `${svc.id}.yml`);
    writeFileSync(cfg, [
      `id: ${svc.id}`,
      `broker: ${broker.wsUrl}`,
      `topics: { ingress: ${svc.topic} }`,
      `store: ${svc.id}.db`,
      "handlers: [ { type: stdout } ]",
      "",
    ].join("\n"));
    [cmd, args] = svc.runtime === "node"
      ? [bin("node"), [nodeCli, "run", "--config", cfg]]
      : [bin("deno"), ["run", "-A", join(root, "src/cli/main.ts"), "run", "--config", cfg]];
  } else {
    [cmd, args] = svc.runtime === "node"
      ? [bin("node"), [nodeBare, broker.wsUrl, svc.topic]]
      : [bin("deno"), ["run", "-A", join(root, "bench/lib/bare-service.ts"), broker.wsUrl, svc.topic]];
  }
  const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  svc.child = child;
  svc.lines = 0;
  svc.stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    for (const b of d) if (b === 10) svc.lines++;
  });
  svc.online = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${svc.id}: not online within 30 s: ${svc.stderr.slice(-500)}`)), 30_000);
    child.stderr!.on("data", (d) => {
      svc.stderr = (svc.stderr + String(d)).slice(-20_000);
      if (/"state":"online"/.test(svc.stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`${svc.id} exited (${code}): ${svc.stderr.slice(-500)}`)));
  });
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  child.once("exit", () => process.off("exit", onExit));
}

async function stopSvc(svc: Svc): Promise<void> {
  const c = svc.child;
  if (!c || c.exitCode !== null) return;
  const done = new Promise((r) => c.once("exit", r));
  c.kill("SIGTERM");
  const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
  await done;
  clearTimeout(t);
}

/** CPU % of one core and median RSS of each service over a window of `ms`. */
async function window(svcs: Svc[], ms: number): Promise<Map<string, { cpu: number; rss: number }>> {
  const start = new Map(svcs.map((s) => [s.id, procSample(s.child!.pid!)]));
  const rss = new Map<string, number[]>(svcs.map((s) => [s.id, []]));
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await sleep(250);
    for (const s of svcs) rss.get(s.id)!.push(procSample(s.child!.pid!).rssBytes);
  }
  const secs = (performance.now() - t0) / 1000;
  return new Map(svcs.map((s) => {
    const end = procSample(s.child!.pid!);
    return [s.id, { cpu: ((end.cpuSec - start.get(s.id)!.cpuSec) / secs) * 100, rss: median(rss.get(s.id)!) }];
  }));
}

/** Publishes RATE msg/s to each topic until stopped; returns how many per topic. */
function feeder(client: mqtt.MqttClient, topics: string[]) {
  let sent = 0;
  let stopped = false;
  const t0 = performance.now();
  const tick = () => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; sent < due; sent++) {
      const payload = JSON.stringify({ device_id: "bench", seq: sent, points: [{ timestamp: Date.now(), fields: [{ name: "rpm", value: 1800 + (sent % 100) }, { name: "speed", value: 42.5 }, { name: "coolant", value: 88 }] }], pad: "x".repeat(60) });
      for (const t of topics) client.publish(t, payload, { qos: 1 });
    }
    setTimeout(tick, 5);
  };
  tick();
  return {
    stop() {
      stopped = true;
      return sent;
    },
  };
}

type Figures = { idle: { cpu: number; rss: number }; load: { cpu: number; rss: number }; delivered: number; sent: number };
const figures = new Map<string, Figures[]>();
const notes: string[] = [];

for (let run = 0; run < RUNS; run++) {
  const broker = await startBenchBroker();
  const dir = mkdtempSync(join(tmpdir(), "tw-bench-footprint-"));
  const svcs: Svc[] = (["thingwire", "bare"] as const).flatMap((kind) =>
    (["node", "deno"] as const).map((rt) => ({ id: `${kind}-${rt}`, kind, runtime: rt, topic: `ingress/${kind}-${rt}-${run}`, lines: 0, stderr: "" })));
  const pub = await mqtt.connectAsync(broker.wsUrl, { clientId: `feeder-${process.pid}`, protocolVersion: 5 });
  try {
    for (const s of svcs) launch(s, broker, dir);
    await Promise.all(svcs.map((s) => s.online));
    await sleep(3000);
    const idle = await window(svcs, WINDOW_MS);
    const feed = feeder(pub, svcs.map((s) => s.topic));
    await sleep(3000);
    const before = new Map(svcs.map((s) => [s.id, s.lines]));
    const tLoad = performance.now();
    const load = await window(svcs, WINDOW_MS);
    const loadSecs = (performance.now() - tLoad) / 1000;
    const sent = feed.stop();
    for (const s of svcs) {
      const f: Figures = { idle: idle.get(s.id)!, load: load.get(s.id)!, delivered: (s.lines - before.get(s.id)!) / loadSecs, sent };
      figures.set(s.id, [...(figures.get(s.id) ?? []), f]);
      console.log(`footprint: run ${run + 1} ${s.id}: idle ${f.idle.cpu.toFixed(2)}% CPU ${(f.idle.rss / MiB).toFixed(1)} MiB; ${RATE} msg/s: ${f.load.cpu.toFixed(2)}% CPU ${(f.load.rss / MiB).toFixed(1)} MiB, handled ${f.delivered.toFixed(0)} msg/s`);
    }
  } finally {
    await pub.endAsync();
    await Promise.all(svcs.map(stopSvc));
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const med = (id: string, f: (x: Figures) => number) => {
  const xs = figures.get(id);
  return xs?.length ? median(xs.map(f)) : null;
};
for (const rt of ["node", "deno"] as const) {
  const name = rt === "node" ? "Node" : "Deno";
  const add = (label: string, f: (x: Figures) => number, unit: string, digits: number) => {
    const tw = med(`thingwire-${rt}`, f);
    const base = med(`bare-${rt}`, f);
    rows.push(row({ case: `${name}: ${label}`, thingwire: tw === null ? null : round(tw, digits), baseline: base === null ? null : round(base, digits), baselineName: `bare mqtt.js service on ${name}`, unit, better: "lower" }));
  };
  add("idle, resident memory", (x) => x.idle.rss / MiB, "MiB", 1);
  add("idle, CPU", (x) => x.idle.cpu, "% of a core", 2);
  add(`${RATE} msg/s, resident memory`, (x) => x.load.rss / MiB, "MiB", 1);
  add(`${RATE} msg/s, CPU`, (x) => x.load.cpu, "% of a core", 2);
}
const handled = [...figures].map(([id, xs]) => `${id} ${median(xs.map((x) => x.delivered)).toFixed(0)}`).join(", ");
notes.push(
  `thingwire: \`thingwire run --config …\` (Node: the built dist/cli.js; Deno: src/cli/main.ts), SQLite store (inbox: every message stored before the handler), ingress subscription QoS 1, one stdout handler (stdout read and counted by the bench), JSON log lines on stderr (level info: status changes, none per message). Baseline: bench/lib/bare-service.ts (Node: compiled to JS; mqtt.js subscribe + one JSON line per message on stdout, nothing stored).`,
  `All four services run at once against one Mosquitto (ws, 127.0.0.1), one feeder in the bench process publishing ${RATE} msg/s to each service's topic (QoS 1, ~200 B JSON). ${WINDOW_MS / 1000} s windows; CPU from /proc/<pid>/stat (utime + stime), RSS = median VmRSS; median of ${RUNS} runs.`,
  `Messages handled per second during the load window (stdout lines): ${handled}.`,
);
const chart: Chart = {
  file: "footprint.png",
  title: `thingwire run vs a bare mqtt.js service: resident memory (MiB)`,
  kind: "bar",
  xLabel: "",
  yLabel: "MiB",
  categories: ["Node idle", `Node ${RATE} msg/s`, "Deno idle", `Deno ${RATE} msg/s`],
  series: (["thingwire", "bare"] as const).map((kind) => ({
    name: kind === "thingwire" ? "thingwire run" : "bare mqtt.js service",
    points: (["node", "deno"] as const).flatMap((rt, i) => [
      [i * 2, round((med(`${kind}-${rt}`, (x) => x.idle.rss) ?? 0) / MiB, 1)] as [number, number],
      [i * 2 + 1, round((med(`${kind}-${rt}`, (x) => x.load.rss) ?? 0) / MiB, 1)] as [number, number],
    ]),
  })),
};
const cpuChart: Chart = {
  ...chart,
  file: "footprint-cpu.png",
  title: "thingwire run vs a bare mqtt.js service: CPU (% of one core)",
  yLabel: "% of one core",
  series: (["thingwire", "bare"] as const).map((kind) => ({
    name: kind === "thingwire" ? "thingwire run" : "bare mqtt.js service",
    points: (["node", "deno"] as const).flatMap((rt, i) => [
      [i * 2, round(med(`${kind}-${rt}`, (x) => x.idle.cpu) ?? 0, 2)] as [number, number],
      [i * 2 + 1, round(med(`${kind}-${rt}`, (x) => x.load.cpu) ?? 0, 2)] as [number, number],
    ]),
  })),
};
writeResult("footprint", { title: "Footprint: `thingwire run` on an edge box (Node and Deno)", rows, notes, charts: [chart, cpuChart] });
process.exit(0);
