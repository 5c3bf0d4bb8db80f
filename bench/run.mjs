#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark, then writes bench/RESULTS.md and bench/plots/*.png.
 *
 * Each bench is a script, `node bench/<name>.bench.ts` (and `deno run -A bench/<name>.bench.ts`
 * where it runs on Deno too), that starts and stops whatever broker it needs and writes
 * bench/results/<name>[-<runtime>].json in one shape: { title, rows: [{ case, thingwire,
 * baseline, baselineName, unit, ratio }], notes, charts? }. This script renders the charts
 * (bench/plot.ts) and assembles every results file into bench/RESULTS.md, with the machine, the
 * runtime versions and the date. Hand-written analysis in bench/notes/<name>.md is appended to
 * its section.
 *
 * Options: --only=weight,throughput (comma list of bench names), --runtimes=node (skip Deno),
 * --report-only (no bench: re-render plots and RESULTS.md from the results there are).
 * Never part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const benchDir = join(root, "bench");
const resultsDir = join(benchDir, "results");
const bin = (name) => join(root, "node_modules/.bin", name);
const node = existsSync(bin("node")) ? bin("node") : process.execPath;
const deno = bin("deno");

/** name, script, runtimes, per-bench time limit (s). */
const BENCHES = [
  { name: "weight", file: "weight.bench.ts", runtimes: ["node"], limit: 300 },
  { name: "throughput", file: "throughput.bench.ts", runtimes: ["node", "deno"], limit: 420 },
  { name: "codec", file: "codec.bench.ts", runtimes: ["node"], limit: 300 },
  { name: "scale", file: "scale.bench.ts", runtimes: ["node"], limit: 420 },
  { name: "footprint", file: "footprint.bench.ts", runtimes: ["node"], limit: 300 },
  { name: "outbox", file: "outbox.bench.ts", runtimes: ["node", "deno"], limit: 420 },
];

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = opt("only") ? new Set(opt("only").split(",")) : null;
const runtimes = new Set((opt("runtimes") ?? "node,deno").split(","));
const reportOnly = args.includes("--report-only");
if (only) {
  const unknown = [...only].filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`bench: unknown bench ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`);
    process.exit(2);
  }
}

/**
 * Brokers left behind by a bench that was killed: bench/lib/mosquitto.ts writes bench/.work/pids/<pid>
 * (contents: its config path) while a broker runs. Stops those by pid, after checking the pid is
 * still that Mosquitto (its command line names the same config).
 */
function reapBrokers() {
  const dir = join(benchDir, ".work/pids");
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const pid = Number(f);
    const conf = readFileSync(join(dir, f), "utf8").trim();
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      // gone
    }
    if (pid > 0 && conf && cmdline.includes("mosquitto") && cmdline.includes(conf)) {
      try {
        process.kill(pid, "SIGKILL");
        console.log(`bench: stopped a leftover broker (pid ${pid})`);
      } catch {
        // already gone
      }
    }
    rmSync(join(dir, f), { force: true });
  }
}

const failures = [];
const started = Date.now();
const loadAtStart = os.loadavg();
if (!reportOnly) {
  for (const b of BENCHES) {
    if (only && !only.has(b.name)) continue;
    const script = join(benchDir, b.file);
    if (!existsSync(script)) {
      console.log(`\n━━ ${b.name}: bench/${b.file} does not exist yet, skipped`);
      failures.push(`${b.name}: bench/${b.file} does not exist yet`);
      continue;
    }
    for (const rt of b.runtimes) {
      if (!runtimes.has(rt)) continue;
      const cmd = rt === "node" ? node : deno;
      const cmdArgs = rt === "node"
        ? ["--expose-gc", script]
        : ["run", "-A", "--v8-flags=--expose-gc", script];
      console.log(`\n━━ ${b.name} on ${rt}: ${[cmd.replace(root, ""), ...cmdArgs.map((a) => a.replace(root, ""))].join(" ")}`);
      const t = Date.now();
      const r = spawnSync(cmd, cmdArgs, {
        cwd: root,
        stdio: "inherit",
        timeout: b.limit * 1000,
        killSignal: "SIGKILL",
        env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` },
      });
      reapBrokers();
      const secs = ((Date.now() - t) / 1000).toFixed(0);
      if (r.status !== 0) {
        const why = r.error?.code === "ETIMEDOUT" || r.signal === "SIGKILL" ? `over its ${b.limit} s limit` : `exit ${r.status ?? r.signal}`;
        console.log(`━━ ${b.name} on ${rt}: FAILED (${why}) after ${secs} s`);
        failures.push(`${b.name} on ${rt}: ${why}`);
      } else console.log(`━━ ${b.name} on ${rt}: done in ${secs} s`);
    }
  }
}

// Plots.
{
  const r = spawnSync(node, [join(benchDir, "plot.ts")], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failures.push("plot: bench/plot.ts failed (PNG charts not rendered)");
}

// RESULTS.md
const sh = (cmd, a) => {
  const r = spawnSync(cmd, a, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
};
const pkgVersion = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  } catch {
    return "not installed";
  }
};
const cpuModel = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model ?? "?";
const osName = (() => {
  try {
    return (readFileSync("/etc/os-release", "utf8").match(/PRETTY_NAME="?([^"\n]*)/) ?? [])[1] ?? os.type();
  } catch {
    return os.type();
  }
})();

const fmtNum = (v) => {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(2)));
};
const fmtRatio = (r) => (r === null || r === undefined ? "—" : `${r.toFixed(2)}×`);
const met = (row) => (row.met === undefined ? "" : row.met ? "✅ met" : "❌ missed");

const order = (file) => {
  const i = BENCHES.findIndex((b) => file === b.name || file.startsWith(`${b.name}-`));
  return i < 0 ? BENCHES.length : i;
};
const resultFiles = existsSync(resultsDir)
  ? readdirSync(resultsDir).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
  : [];
const results = resultFiles.map((name) => {
  const file = join(resultsDir, `${name}.json`);
  return { name, measured: statSync(file).mtime, ...JSON.parse(readFileSync(file, "utf8")) };
});

const out = [];
out.push("# thingwire benchmarks", "");
out.push(`Written by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. ` +
  "Every figure sits beside its baseline, measured in the same run on the same machine; ratio = thingwire ÷ baseline. " +
  "Benchmarks never run in `npm test`; the size budget does (test/node/size-budget.test.ts).", "");
out.push("## Machine and versions", "");
out.push("| | |", "|---|---|");
out.push(`| CPU | ${cpuModel}, ${os.cpus().length} cores |`);
out.push(`| Memory | ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB |`);
out.push(`| OS | ${osName}, Linux ${os.release()} |`);
out.push(`| Load average when the run started | ${loadAtStart.map((x) => x.toFixed(2)).join(", ")} (1, 5, 15 min) |`);
out.push(`| Node | ${sh(node, ["--version"])} |`);
out.push(`| Deno | ${sh(deno, ["--version"]).split("\n")[0]?.replace(/^deno /, "") ?? "?"} |`);
out.push(`| mqtt.js | ${pkgVersion(join(root, "node_modules/mqtt"))} |`);
out.push(`| Mosquitto | ${(sh(process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto", ["-h"]).match(/mosquitto version (\S+)/) ?? [])[1] ?? "?"} |`);
out.push(`| esbuild | ${pkgVersion(join(root, "node_modules/esbuild"))} |`);
out.push(`| aws-iot-device-sdk-v2 | ${pkgVersion(join(benchDir, ".work/node_modules/aws-iot-device-sdk-v2"))} (bench/.work, not committed) |`);
out.push("");
out.push("## Method", "");
out.push(
  "- Timed figures are the **median of at least 3 runs** (each bench says how many) after a warm-up run; sides are interleaved so drift hits each alike. Sizes are deterministic and measured once.",
  "- Brokers: each bench starts its own Mosquitto on 127.0.0.1 with raised limits (`max_connections -1`, `max_queued_messages 0`, `ulimit -n` raised) and stops it.",
  "- The machine has 2 cores shared by the broker, the client under test and the observer: absolute figures are modest and noisy; the ratios are what to read.",
  "",
);

const goalRows = results.flatMap((r) => r.rows.filter((row) => row.goal).map((row) => ({ r, row })));
if (goalRows.length) {
  out.push("## Goals at a glance", "");
  out.push("| Bench | Case | thingwire | Baseline | Ratio | Goal | |", "|---|---|---:|---:|---:|---|---|");
  for (const { r, row } of goalRows) {
    out.push(`| ${r.name} | ${row.case} | ${fmtNum(row.thingwire)} ${row.unit} | ${fmtNum(row.baseline)} ${row.unit} (${row.baselineName}) | ${fmtRatio(row.ratio)} | ${row.goal} | ${row.thingwire === null ? "not measured" : met(row)} |`);
  }
  out.push("");
}

for (const r of results) {
  out.push(`## ${r.title}`, "");
  out.push(`_bench/results/${r.name}.json, measured ${r.measured.toISOString().slice(0, 16).replace("T", " ")} UTC_`, "");
  if (r.rows.length) {
    out.push("| Case | thingwire | Baseline | Baseline is | Ratio | Goal |", "|---|---:|---:|---|---:|---|");
    for (const row of r.rows) {
      const better = row.better ? ` (${row.better} is better)` : "";
      out.push(`| ${row.case} | ${fmtNum(row.thingwire)} ${row.unit} | ${row.baseline === null ? "—" : `${fmtNum(row.baseline)} ${row.unit}`} | ${row.baselineName || "—"} | ${fmtRatio(row.ratio)}${row.ratio !== null ? better : ""} | ${row.goal ? `${row.goal} ${row.thingwire === null ? "not measured" : met(row)}` : ""} |`);
    }
    out.push("");
  }
  for (const c of r.charts ?? []) {
    if (existsSync(join(benchDir, "plots", c.file))) out.push(`![${c.title}](plots/${c.file})`, "");
  }
  if (r.notes?.length) {
    for (const n of r.notes) out.push(`- ${n}`);
    out.push("");
  }
  const base = BENCHES.find((b) => r.name === b.name || r.name.startsWith(`${b.name}-`))?.name ?? r.name;
  const lastOfGroup = results.filter((x) => x.name === base || x.name.startsWith(`${base}-`)).at(-1) === r;
  for (const f of new Set([`${r.name}.md`, ...(lastOfGroup ? [`${base}.md`] : [])])) {
    const path = join(benchDir, "notes", f);
    if (existsSync(path)) out.push(readFileSync(path, "utf8").trim(), "");
  }
}

const missing = BENCHES.filter((b) => !results.some((r) => r.name === b.name || r.name.startsWith(`${b.name}-`)));
if (missing.length || failures.length) {
  out.push("## Not measured", "");
  for (const b of missing) out.push(`- ${b.name}: no results file (bench/${b.file}).`);
  for (const f of failures) out.push(`- ${f}`);
  out.push("");
}

writeFileSync(join(benchDir, "RESULTS.md"), out.join("\n"));
console.log(`\nbench: wrote bench/RESULTS.md (${results.length} result files) in ${((Date.now() - started) / 1000).toFixed(0)} s${failures.length ? `; problems: ${failures.join("; ")}` : ""}`);
process.exit(failures.length ? 1 : 0);
