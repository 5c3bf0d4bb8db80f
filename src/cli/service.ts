/**
 * `thingwire service`: prints a systemd unit that runs `thingwire run` for a thing, with absolute
 * paths, restart on failure, and hardening (ProtectSystem=strict with only the store directory
 * writable). For Deno the unit grants the narrowest permissions `run` needs: read the config, key
 * files and store; write the store directory; reach the broker(s) and HTTP endpoints the config
 * names; read the environment.
 *
 * @example
 * ```sh
 * thingwire service --config /etc/thingwire/thing-42.yml --runtime deno --user thingwire > thing-42.service
 * sudo cp thing-42.service /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable --now thing-42
 * ```
 */
import { accessSync, constants, realpathSync } from "node:fs";
import process from "node:process";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { ThingwireError } from "../errors.ts";
import { configOptions, configOptionsHelp, flag, parseCommandArgs, reportError, requireConfig, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { loadConfig, type ThingConfig } from "./config.ts";
import { brokerHostPort } from "./config-native.ts";
import type { EndpointConfig } from "./config-schema.ts";

const usage = `thingwire service: print a systemd unit that runs \`thingwire run\` for this thing

Usage: thingwire service --config FILE [--runtime node|deno] [--user USER] [options] > thing.service

Options:
${configOptionsHelp}
      --runtime R     node (default when running under Node) or deno (default under Deno)
      --user USER     run as this user (User=); default: systemd's default (root)
      --group GROUP   Group=
      --exec PATH     the runtime binary (default: this one, or node/deno found on PATH)
      --entry PATH    thingwire's entry script (default: the one running now)
      --name NAME     the unit's description name (default: thingwire-<thing id>)
      --env-file F    EnvironmentFile= for secrets given by environment variable (AWS keys, passwords)
      --restart-sec N RestartSec (default 5)
      --flush-timeout N   seconds \`run\` flushes the outbox when stopped (default 5)

Install:
  thingwire service --config /etc/thingwire/thing.yml > thingwire-thing.service
  sudo cp thingwire-thing.service /etc/systemd/system/
  sudo systemctl daemon-reload && sudo systemctl enable --now thingwire-thing

Exit codes: 0 printed, 2 usage or config error.
`;

/** Options of {@link serviceUnit}. */
export interface ServiceUnitOptions {
  runtime: "node" | "deno";
  /** Absolute path of the runtime binary. */
  exec: string;
  /** Absolute path of thingwire's entry script (src/cli/main.ts or dist/cli.js). */
  entry: string;
  user?: string;
  group?: string;
  name?: string;
  envFile?: string;
  restartSec?: number;
  flushTimeoutSec?: number;
  /** `--keys` / `--data` as given to this command, passed on to `run` (absolute). */
  keysDir?: string;
  dataDir?: string;
}

/** Every broker endpoint the config connects to. */
function endpoints(cfg: ThingConfig): EndpointConfig[] {
  const list: EndpointConfig[] = [{ broker: cfg.broker, auth: cfg.auth, clientId: cfg.clientId, at: "" }];
  for (const h of [...cfg.handlers, ...(cfg.bridge?.handlers ?? [])]) if (h.type === "mqtt") list.push(h.endpoint);
  if (cfg.bridge) list.push(cfg.bridge.source);
  return list;
}

function hostPort(url: string): string {
  const { host, port } = brokerHostPort(url);
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function httpHostPort(url: string): string {
  const u = new URL(url);
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return `${u.hostname}:${port}`;
}

/** The `--allow-*` flags `thingwire run` needs under Deno for this config (and nothing more). */
export function denoPermissionFlags(cfg: ThingConfig, o: { entry?: string; extraRead?: string[]; write?: boolean } = {}): string[] {
  const read = new Set<string>([cfg.file]);
  for (const k of cfg.keyFiles) read.add(k.file);
  for (const h of [...cfg.handlers, ...(cfg.bridge?.handlers ?? [])]) if (h.type === "module") read.add(h.path);
  const storeDir = cfg.store.kind === "sqlite" ? dirname(cfg.store.path) : undefined;
  if (storeDir) read.add(storeDir);
  for (const r of o.extraRead ?? []) read.add(r);
  const net = new Set<string>();
  for (const ep of endpoints(cfg)) net.add(hostPort(ep.broker.url));
  if (cfg.collect) net.add(httpHostPort(cfg.collect.url));
  for (const h of [...cfg.handlers, ...(cfg.bridge?.handlers ?? [])]) if (h.type === "http") net.add(httpHostPort(h.url));
  const flags = [`--allow-read=${[...read].join(",")}`];
  if (storeDir && o.write !== false) flags.push(`--allow-write=${storeDir}`);
  flags.push(`--allow-net=${[...net].join(",")}`);
  flags.push("--allow-env");
  return flags;
}

/** systemd quoting of one ExecStart argument. */
function q(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** The unit file text. */
export function serviceUnit(cfg: ThingConfig, o: ServiceUnitOptions): string {
  const runArgs = ["run", "--config", cfg.file];
  if (o.keysDir) runArgs.push("--keys", o.keysDir);
  if (o.dataDir) runArgs.push("--data", o.dataDir);
  if (o.flushTimeoutSec !== undefined) runArgs.push("--flush-timeout", String(o.flushTimeoutSec));
  const exec = o.runtime === "deno"
    ? [o.exec, "run", "--no-prompt", ...denoPermissionFlags(cfg), o.entry, ...runArgs]
    : [o.exec, o.entry, ...runArgs];
  const storeDir = cfg.store.kind === "sqlite" ? dirname(cfg.store.path) : undefined;
  const name = o.name ?? `thingwire-${cfg.id}`;
  const paths = [cfg.file, o.entry, o.exec, ...(storeDir ? [storeDir] : []), ...cfg.keyFiles.map((k) => k.file)];
  const underHome = paths.some((p) => /^\/(home|root|run\/user)(\/|$)/.test(p));
  // PrivateTmp hides /tmp and /var/tmp: only when nothing the service needs lives there.
  const underTmp = paths.some((p) => /^\/(var\/)?tmp(\/|$)/.test(p));
  const flush = o.flushTimeoutSec ?? 5;
  const lines = [
    "# Generated by `thingwire service`. Install: sudo cp <this file> /etc/systemd/system/" + name + ".service",
    "#   sudo systemctl daemon-reload && sudo systemctl enable --now " + name,
    "[Unit]",
    `Description=thingwire device service for thing ${cfg.id}${cfg.name !== cfg.id ? ` (${cfg.name})` : ""}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "StartLimitIntervalSec=300",
    "StartLimitBurst=10",
    "",
    "[Service]",
    "Type=simple",
    ...(o.user ? [`User=${o.user}`] : []),
    ...(o.group ? [`Group=${o.group}`] : []),
    `WorkingDirectory=${dirname(cfg.file)}`,
    `ExecStart=${exec.map(q).join(" ")}`,
    ...(o.envFile ? [`EnvironmentFile=${o.envFile}`] : cfg.envNames.length > 0
      ? [`# The config reads ${[...new Set(cfg.envNames)].join(", ")} from the environment: put them in a root-only file and add`, "# EnvironmentFile=/etc/thingwire/" + cfg.id + ".env"]
      : []),
    "Restart=on-failure",
    `RestartSec=${o.restartSec ?? 5}`,
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${flush + 10}`,
    "# Hardening: a read-only system; only the store directory is writable.",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    ...(storeDir ? [`ReadWritePaths=${storeDir}`] : []),
    `ProtectHome=${underHome ? "read-only" : "yes"}`,
    ...(underTmp ? ["# PrivateTmp is off: the config, keys or store live under /tmp"] : ["PrivateTmp=yes"]),
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
    "UMask=0077",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}

function findOnPath(name: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return realpathSafe(p);
    } catch {
      // not here
    }
  }
  return undefined;
}

function realpathSafe(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

const currentRuntime = (): "node" | "deno" => ((process.versions as Record<string, string | undefined>).deno ? "deno" : "node");

const command: Command = {
  name: "service",
  summary: "print a systemd unit that runs `thingwire run`",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    let json = argv.includes("--json");
    try {
      const args = parseCommandArgs(argv, {
        ...configOptions,
        runtime: { type: "string" },
        user: { type: "string" },
        group: { type: "string" },
        exec: { type: "string" },
        entry: { type: "string" },
        name: { type: "string" },
        "env-file": { type: "string" },
        "restart-sec": { type: "string" },
        "flush-timeout": { type: "string" },
      });
      json = flag(args, "json");
      const file = requireConfig(args);
      const runtimeArg = str(args, "runtime");
      if (runtimeArg !== undefined && runtimeArg !== "node" && runtimeArg !== "deno") {
        throw new ThingwireError("CLI_USAGE", `--runtime: expected node or deno, got "${runtimeArg.slice(0, 40)}"`);
      }
      const runtime = (runtimeArg ?? currentRuntime()) as "node" | "deno";
      for (const k of ["user", "group"] as const) {
        const v = str(args, k);
        if (v !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(v)) throw new ThingwireError("CLI_USAGE", `--${k}: "${v.slice(0, 40)}" is not a valid user or group name`);
      }
      const name = str(args, "name");
      if (name !== undefined && !/^[A-Za-z0-9:_.@-]+$/.test(name)) throw new ThingwireError("CLI_USAGE", `--name: use letters, digits and :_.@- only`);
      const intOpt = (k: string): number | undefined => {
        const v = str(args, k);
        if (v === undefined) return undefined;
        if (!/^\d{1,6}$/.test(v)) throw new ThingwireError("CLI_USAGE", `--${k}: expected a whole number of seconds, got "${v.slice(0, 40)}"`);
        return Number(v);
      };
      const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(io.cwd, p));
      const keysDir = abs(str(args, "keys"));
      const dataDir = abs(str(args, "data"));
      const cfg = await loadConfig(file, {
        cwd: io.cwd,
        env: io.env,
        ...(keysDir ? { keysDir } : {}),
        ...(dataDir ? { dataDir } : {}),
      });

      let exec = abs(str(args, "exec"));
      if (exec === undefined) {
        exec = runtime === currentRuntime() ? realpathSafe(process.execPath) : findOnPath(runtime, io.env);
        if (exec === undefined) {
          throw new ThingwireError("CLI_USAGE", `cannot find ${runtime} on PATH; pass --exec /path/to/${runtime}`);
        }
      }
      const entry = abs(str(args, "entry")) ?? (process.argv[1] ? realpathSafe(resolve(io.cwd, process.argv[1])) : undefined);
      if (entry === undefined) throw new ThingwireError("CLI_USAGE", "cannot tell where thingwire is installed; pass --entry /path/to/thingwire/dist/cli.js");
      const envFile = abs(str(args, "env-file"));
      const restartSec = intOpt("restart-sec");
      const flushTimeoutSec = intOpt("flush-timeout");
      const unit = serviceUnit(cfg, {
        runtime,
        exec,
        entry,
        ...(str(args, "user") ? { user: str(args, "user")! } : {}),
        ...(str(args, "group") ? { group: str(args, "group")! } : {}),
        ...(name ? { name } : {}),
        ...(envFile ? { envFile } : {}),
        ...(restartSec !== undefined ? { restartSec } : {}),
        ...(flushTimeoutSec !== undefined ? { flushTimeoutSec } : {}),
        ...(keysDir ? { keysDir } : {}),
        ...(dataDir ? { dataDir } : {}),
      });
      if (json) io.stdout(JSON.stringify({ ok: true, name: name ?? `thingwire-${cfg.id}`, runtime, unit }) + "\n");
      else io.stdout(unit);
      for (const w of cfg.warnings) io.stderr(`thingwire service: warning: ${w}\n`);
      return EXIT.OK;
    } catch (e) {
      return reportError(io, "service", e, json);
    }
  },
};

export default command;
