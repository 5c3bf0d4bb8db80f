/**
 * `thingwire service` under Node and Deno: the unit passes `systemd-analyze verify`, has absolute
 * paths, restart and hardening, and — the real proof — its ExecStart line, run as it is (Deno with
 * exactly the permission flags the unit grants), starts `thingwire run`, connects, and stops
 * cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startBroker, type EmbeddedBroker } from "../../src/cli/broker.ts";
import { makeCerts } from "../helpers/certs.ts";
import { runCli, type Runtime } from "../helpers/cli.ts";

function systemdAnalyze(): string {
  const r = spawnSync("sh", ["-c", "command -v systemd-analyze"], { encoding: "utf8" });
  const p = r.stdout.trim();
  if (!p) throw new Error("systemd-analyze not found: install it with `apt-get install -y systemd` (the unit test verifies the generated unit with it)");
  return p;
}

/** Splits an ExecStart value (our test paths need no quoting). */
function execArgs(unit: string): string[] {
  const line = unit.split("\n").find((l) => l.startsWith("ExecStart="));
  assert.ok(line, "an ExecStart line");
  const v = line.slice("ExecStart=".length);
  assert.doesNotMatch(v, /["']/, "no quoting needed for these paths");
  return v.split(" ");
}

let dir: string;
let broker: EmbeddedBroker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tw-service-"));
  broker = await startBroker({ wsPort: 0 });
  const certs = makeCerts();
  mkdirSync(join(dir, "keys"));
  writeFileSync(join(dir, "keys/thing.key"), certs.client.key, { mode: 0o600 });
  writeFileSync(join(dir, "keys/thing.pem"), certs.client.cert);
  writeFileSync(join(dir, "cert.yml"), `id: thing-1
broker: mqtts://127.0.0.1:8883
auth: { type: cert, key: keys/thing.key, cert: keys/thing.pem }
store: state/thing.db
collect: { url: "https://collect.example:8443/things/{thingId}", jwt: { privateKey: keys/thing.key } }
`);
  writeFileSync(join(dir, "ws.yml"), `id: thing-ws
broker: { url: "${broker.wsUrl}", protocolVersion: 4 }
topics: { ingress: "ingress/{thingId}" }
store: state/ws.db
`);
});

afterAll(async () => {
  await broker?.close();
});

describe.each(["node", "deno"] as Runtime[])("thingwire service (%s)", (runtime) => {
  const denoFlags = () => [`--allow-read=${dir}`, "--allow-env"];

  test("the unit passes systemd-analyze verify and is hardened", async () => {
    const analyze = systemdAnalyze();
    const r = await runCli(runtime, ["service", "--config", join(dir, "cert.yml"), "--runtime", runtime, "--user", "thingwire"], { denoFlags: denoFlags() });
    assert.equal(r.code, 0, r.stderr);
    const unit = r.stdout;
    const file = join(dir, `thingwire-${runtime}.service`);
    writeFileSync(file, unit);
    const v = spawnSync(analyze, ["verify", file], { encoding: "utf8" });
    assert.equal(v.status, 0, `systemd-analyze verify failed:\n${v.stderr}\n${unit}`);
    assert.equal(v.stderr.split("\n").filter((l) => l.includes(file)).join("\n"), "", "no warning about the unit");
    const args = execArgs(unit);
    assert.ok(args[0]!.startsWith("/"), "absolute runtime path");
    assert.ok(args.every((a) => !a.endsWith(".ts") || a.startsWith("/")), "absolute entry");
    assert.deepEqual(args.slice(-3), ["run", "--config", join(dir, "cert.yml")]);
    for (const line of ["Restart=on-failure", "RestartSec=5", "User=thingwire", "NoNewPrivileges=yes", "ProtectSystem=strict", `ReadWritePaths=${join(dir, "state")}`, "WantedBy=multi-user.target"]) {
      assert.ok(unit.split("\n").includes(line), `missing ${line}`);
    }
    if (runtime === "deno") {
      assert.ok(args.includes(`--allow-read=${join(dir, "cert.yml")},${join(dir, "keys/thing.key")},${join(dir, "keys/thing.pem")},${join(dir, "state")}`), args.join(" "));
      assert.ok(args.includes(`--allow-write=${join(dir, "state")}`));
      assert.ok(args.includes("--allow-net=127.0.0.1:8883,collect.example:8443"));
      assert.ok(!args.some((a) => a === "--allow-all" || a === "-A" || a === "--allow-run" || a === "--allow-ffi"));
    }
  });

  test("verify fails for a unit whose runtime does not exist (the check is real)", async () => {
    const analyze = systemdAnalyze();
    const r = await runCli(runtime, ["service", "--config", join(dir, "cert.yml"), "--exec", join(dir, "no-such-runtime")], { denoFlags: denoFlags() });
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, `broken-${runtime}.service`);
    writeFileSync(file, r.stdout);
    const v = spawnSync(analyze, ["verify", file], { encoding: "utf8" });
    assert.notEqual(v.status, 0);
    assert.match(v.stderr, /no-such-runtime/);
  });

  test("the ExecStart line runs `thingwire run`, which connects and stops cleanly on SIGTERM", async () => {
    const r = await runCli(runtime, ["service", "--config", join(dir, "ws.yml"), "--runtime", runtime, "--json"], { denoFlags: denoFlags() });
    assert.equal(r.code, 0, r.stderr);
    const { unit, runtime: rt } = JSON.parse(r.stdout) as { unit: string; runtime: string };
    assert.equal(rt, runtime);
    const [cmd, ...args] = execArgs(unit);
    const child = spawn(cmd!, args, { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((res) => child.once("close", (c) => res(c)));
    const deadline = Date.now() + 20_000;
    while (!err.includes('"state":"online"') && Date.now() < deadline && child.exitCode === null) await new Promise((res) => setTimeout(res, 50));
    assert.match(err, /"state":"online"/, err);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, err);
    assert.match(err, /"msg":"stopped"/);
    assert.doesNotMatch(err, /NotCapable|Requires .* access/);
  });

  test("usage errors exit 2", async () => {
    const r = await runCli(runtime, ["service", "--config", join(dir, "cert.yml"), "--runtime", "python"], { denoFlags: denoFlags() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--runtime: expected node or deno, got "python"/);
  });
});

test("makeCerts and systemd are present (setup sanity)", () => {
  assert.ok(execFileSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" }).trim());
});
