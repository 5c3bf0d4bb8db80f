/**
 * A Mosquitto for benchmarks, with the limits raised: no connection cap (`max_connections -1`),
 * no queue cap (`max_queued_messages 0`, the default 1000 silently drops bursts), file
 * descriptors raised with `ulimit -n` in the launching shell. One TCP listener (Mosquitto refuses
 * to start with WebSocket listeners only) and one WebSocket listener, both on 127.0.0.1.
 * Works under Node and Deno (node:child_process, node:net).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto";

/**
 * Each running bench broker leaves its pid here (file name = pid) while it runs, so bench/run.mjs
 * can stop, by pid, a broker whose bench was killed (time limit) before it could stop it.
 */
export const PID_DIR = new URL("../.work/pids/", import.meta.url).pathname;

export interface BenchBroker {
  wsUrl: string;
  tcpUrl: string;
  wsPort: number;
  tcpPort: number;
  readonly pid: number;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports; resolves once the WebSocket port accepts. */
  start(): Promise<void>;
  /** The log so far (errors and notices). */
  log(): string;
  /** Stops it and removes its temporary folder. */
  dispose(): Promise<void>;
}

export function mosquittoVersion(): string {
  const r = spawnSync(MOSQUITTO, ["-h"], { encoding: "utf8" });
  const m = /mosquitto version (\S+)/.exec(`${r.stdout}${r.stderr}`);
  return m?.[1] ?? "unknown";
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () =>
    new Promise<import("node:net").Server>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a Mosquitto with raised limits; `extraConfig` lines are appended to the config. */
export async function startBenchBroker(options: { extraConfig?: string[] } = {}): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), "tw-bench-mosq-"));
  const [tcpPort, wsPort] = (await freePorts(2)) as [number, number];
  const logFile = join(dir, "mosquitto.log");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, [
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence false",
    "user root",
    "max_queued_messages 0",
    `log_dest file ${logFile}`,
    "log_type error",
    "log_type warning",
    "log_type notice",
    "connection_messages false",
    `listener ${tcpPort} 127.0.0.1`,
    "max_connections -1",
    `listener ${wsPort} 127.0.0.1`,
    "protocol websockets",
    "socket_domain ipv4",
    "max_connections -1",
    ...(options.extraConfig ?? []),
    "",
  ].join("\n"));

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    // Raise the descriptor limit in the launching shell; root may lift the hard limit too.
    const script = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${MOSQUITTO}" -c "${conf}"`;
    const c = spawn("/bin/sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr?.on("data", (d) => (stderr += String(d)));
    child = c;
    exited = new Promise((resolve) => c.once("exit", () => resolve()));
    // A bench that crashes must not leave its broker behind.
    const onExit = () => c.kill("SIGKILL");
    process.once("exit", onExit);
    const pidFile = join(PID_DIR, String(c.pid));
    mkdirSync(PID_DIR, { recursive: true });
    writeFileSync(pidFile, `${conf}\n`);
    c.once("exit", () => {
      process.off("exit", onExit);
      rmSync(pidFile, { force: true });
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited at start: ${stderr}\n${readLog()}`);
      if (await accepts(wsPort) && await accepts(tcpPort)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen within 10 s: ${stderr}\n${readLog()}`);
      await sleep(20);
    }
  };
  const readLog = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    tcpUrl: `mqtt://127.0.0.1:${tcpPort}`,
    wsPort,
    tcpPort,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    start,
    log: readLog,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
