#!/usr/bin/env node
/**
 * `npm test`: the whole matrix, in order, with one summary at the end.
 *   1. type check: tsc (core with no Node types; everything else), deno check
 *   2. build (tsup): the browser bundle and the CLI are tested as built
 *   3. Node 24: Vitest project "node" (unit + integration, real Mosquitto / aedes / SQLite)
 *   4. Deno: deno test test/deno/ (the shared suites through thin runners)
 *   5. Chromium: Vitest project "browser" (IndexedDB, browser bundle)
 *   6. Chromium: Playwright e2e (web-demo against a real broker)
 * Options: --only=typecheck,node,deno,browser,e2e (comma list) runs a subset; the build always runs
 * before browser and e2e. The last line is "N passed, N failed".
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules/.bin", name);
const reports = join(root, "test-results");
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice(7).split(",")) : null;
const want = (stage) => !only || only.has(stage);

const results = [];
function run(label, cmd, args, opts = {}) {
  console.log(`\n━━ ${label}: ${[cmd.replace(root, ""), ...args].join(" ")}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? ["ignore", "pipe", "inherit"] : "inherit", env: { ...process.env, ...opts.env }, maxBuffer: 256 * 1024 * 1024 });
  if (opts.capture) process.stdout.write(r.stdout);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return { status: r.status ?? 1, stdout: r.stdout?.toString() ?? "", seconds };
}

function hasFiles(dir, re) {
  if (!existsSync(join(root, dir))) return false;
  const walk = (d) => readdirSync(d, { withFileTypes: true }).some((e) => (e.isDirectory() ? walk(join(d, e.name)) : re.test(e.name)));
  return walk(join(root, dir));
}

function record(stage, passed, failed, status, seconds, note = "") {
  // A runner that exits non-zero with no failed test still fails the stage.
  if (status !== 0 && failed === 0) failed = 1, note ||= `exit code ${status}`;
  results.push({ stage, passed, failed, seconds, note });
}

if (want("typecheck")) {
  const steps = [
    ["tsc core (no Node types)", bin("tsc"), ["-p", "tsconfig.core.json"]],
    ["tsc all", bin("tsc"), ["-p", "tsconfig.json"]],
    ["deno check", bin("deno"), ["check", "src/mod.ts", "src/browser.ts", "src/store/sqlite.ts", "src/store/indexeddb.ts", "src/cli/main.ts", "test/deno/"]],
  ];
  for (const [label, cmd, args] of steps) {
    const r = run(label, cmd, args);
    record(label, r.status === 0 ? 1 : 0, r.status === 0 ? 0 : 1, r.status, r.seconds);
  }
}

if (want("browser") || want("e2e") || want("node") || want("deno")) {
  const r = run("build", bin("tsup"), []);
  record("build", r.status === 0 ? 1 : 0, r.status === 0 ? 0 : 1, r.status, r.seconds);
}

function vitest(project) {
  const out = join(reports, `vitest-${project}.json`);
  const r = run(`vitest ${project}`, bin("vitest"), ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
  let passed = 0, failed = 0;
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, "utf8"));
    passed = j.numPassedTests;
    failed = j.numFailedTests;
    if (j.numTotalTests === 0) failed = 1;
  }
  record(`${project} (vitest)`, passed, failed, r.status, r.seconds, passed + failed === 0 ? "no test ran" : "");
}

if (want("node")) vitest("node");

if (want("deno")) {
  if (!hasFiles("test/deno", /\.test\.ts$/)) record("deno", 0, 1, 1, "0", "no test file in test/deno");
  else {
    const r = run("deno test", bin("deno"), ["test", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-run", "--allow-sys", "test/deno/"], { capture: true, env: { NO_COLOR: "1" } });
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, "");
    const m = plain.match(/(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/);
    record("deno (deno test)", m ? +m[2] : 0, m ? +m[3] : 0, r.status, r.seconds);
  }
}

if (want("browser")) vitest("browser");

if (want("e2e")) {
  if (!hasFiles("e2e", /\.spec\.ts$/)) record("e2e", 0, 1, 1, "0", "no spec in e2e/");
  else {
    const out = join(reports, "playwright.json");
    const r = run("playwright e2e", bin("playwright"), ["test", "-c", "e2e/playwright.config.ts"], { env: { PLAYWRIGHT_JSON_OUTPUT_NAME: out } });
    let passed = 0, failed = 0;
    if (existsSync(out)) {
      const s = JSON.parse(readFileSync(out, "utf8")).stats;
      passed = s.expected + s.flaky;
      failed = s.unexpected;
    }
    record("e2e (playwright)", passed, failed, r.status, r.seconds);
  }
}

console.log("\n━━ summary");
let passed = 0, failed = 0;
for (const r of results) {
  passed += r.passed;
  failed += r.failed;
  console.log(`  ${r.failed ? "✗" : "✓"} ${r.stage.padEnd(28)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed  ${r.seconds}s ${r.note}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
