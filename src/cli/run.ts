/**
 * `thingwire run`: the long-running device service (FlashLex app.py). Creates the device from the
 * config with its SQLite store, subscribes to the ingress topic (every message lands in the inbox
 * before anything else), drains the outbox (what `thingwire send` queued included), passes ingress
 * messages through the configured handlers (acknowledged in the inbox once all succeeded), and logs
 * one JSON line per status change, message and error on standard error, secrets scrubbed. SIGINT or
 * SIGTERM stops it cleanly: the outbox is flushed for up to `--flush-timeout` seconds, then exit 0.
 *
 * @example
 * ```sh
 * thingwire run --config thing.yml
 * {"ts":"…","level":"info","msg":"status","state":"online","reason":"connected"}
 * ```
 */
import type { Device } from "../device/types.ts";
import { createDevice } from "../device/device.ts";
import { ThingwireError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { configOptions, configOptionsHelp, describeError, exitCodeFor, flag, parseCommandArgs, requireConfig, secondsOption, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { loadConfig, type ThingConfig } from "./config.ts";
import { deviceOptionsFor, openConfiguredStore, Secrets, thingEndpoint } from "./device-from-config.ts";
import { Dispatcher } from "./handlers/dispatcher.ts";
import { createHandlers } from "./handlers/handler.ts";
import { createJsonLogger, type LogFn, safeUrl } from "./log.ts";

const usage = `thingwire run: the device service — connect, store the inbox, drain the outbox, run handlers

Usage: thingwire run --config FILE [--keys DIR] [--data DIR] [--flush-timeout SEC] [--log-level LEVEL]

Connects to the broker in the config and stays connected (reconnecting with backoff), subscribes to
topics.ingress and stores every message in the inbox (see \`thingwire inbox\`), sends what the outbox
holds (messages queued by \`thingwire send\` too), and passes each ingress message to the handlers
configured under \`handlers:\` (acknowledging it once all succeeded). Logs one JSON object per line
on standard error; handler output (the stdout handler) goes to standard output.

Options:
${configOptionsHelp}
      --flush-timeout SEC  on SIGINT/SIGTERM, keep sending for up to SEC seconds (default 5)
      --log-level LEVEL    debug, info (default), warn or error

Exit codes: 0 stopped cleanly, 1 failed to start (store, handlers), 2 usage or config error.
`;

/** Wires the device events into the log. */
export function logDeviceEvents(device: Device, log: LogFn, extra: Record<string, unknown> = {}): void {
  device.on("status", (s) =>
    log({
      level: s.state === "offline" && s.error ? "warn" : "info",
      msg: "status",
      ...extra,
      state: s.state,
      reason: s.reason,
      attempt: s.attempt,
      ...(s.retryInMs !== undefined ? { retryInMs: s.retryInMs } : {}),
      ...(s.error ? { error: s.error.toJSON() } : {}),
    }));
  device.on("dropped", (d) => log({ level: "warn", msg: "outbox dropped messages", ...extra, reason: d.reason, count: d.records.length, seqs: d.records.slice(0, 20).map((r) => r.seq) }));
  device.on("deadletter", (d) => log({ level: "error", msg: "the broker refused a message for good (dead letter)", ...extra, seq: d.seq, topic: d.topic, reason: d.reason }));
  device.on("handler-error", (h) => log({ level: "error", msg: "subscriber failed", ...extra, topic: h.topic, seq: h.seq, error: h.error }));
}

/**
 * The device's own log lines, minus those that repeat a status change (the "status" line already
 * carries the reason), tagged `source: "device"`.
 */
export function deviceLogger(log: LogFn): LogFn {
  return (e) => {
    // The connection loop logs each failed attempt with its code and retry delay; the status event
    // that follows says the same.
    if ("retryInMs" in e && "code" in e) return;
    log({ ...e, source: "device" });
  };
}

const LEVELS = ["debug", "info", "warn", "error"] as const;

/** Loads the config for run/bridge; shared argument handling. */
export async function loadForService(argv: string[], io: CliIO, extra: Record<string, { type: "string" | "boolean" }> = {}) {
  const args = parseCommandArgs(argv, { ...configOptions, "flush-timeout": { type: "string" }, "log-level": { type: "string" }, ...extra });
  const file = requireConfig(args);
  const level = str(args, "log-level") ?? "info";
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new ThingwireError("CLI_USAGE", `--log-level: expected debug, info, warn or error, got "${level.slice(0, 20)}"`);
  }
  const flushMs = secondsOption(args, "flush-timeout", 5_000);
  const cfg = await loadConfig(file, {
    cwd: io.cwd,
    env: io.env,
    ...(str(args, "keys") ? { keysDir: str(args, "keys")! } : {}),
    ...(str(args, "data") ? { dataDir: str(args, "data")! } : {}),
  });
  return { args, cfg, level: level as (typeof LEVELS)[number], flushMs, json: flag(args, "json") };
}

/** Prints a start-up failure: a JSON log line and a human line, both scrubbed. */
export function startupFailure(io: CliIO, command: string, e: unknown, secrets: readonly string[]): number {
  const code = exitCodeFor(e);
  const message = describeError(e, secrets);
  const log = createJsonLogger((l) => io.stderr(l), () => secrets);
  log({ level: "error", msg: `${command} failed to start`, error: { ...(typeof e === "object" && e !== null && "code" in e ? { code: (e as { code: unknown }).code } : {}), message } });
  io.stderr(`thingwire ${command}: ${message}\n`);
  return code;
}

/** A start-up failure after the service began opening things: reports it, closes what was opened (dispatcher, device, store, in that order), and returns the exit code. */
export async function abortStartup(
  io: CliIO,
  command: string,
  e: unknown,
  secrets: readonly string[],
  opened: ReadonlyArray<{ close(): Promise<unknown> } | undefined>,
): Promise<number> {
  const code = startupFailure(io, command, e, secrets);
  for (const part of opened) await part?.close().catch(() => {});
  return code === EXIT.USAGE ? EXIT.USAGE : EXIT.FAILED;
}

const command: Command = {
  name: "run",
  summary: "the long-running device service: connect, store the inbox, drain the outbox",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    const stop = io.waitForStop();
    let cfg: ThingConfig;
    let level: (typeof LEVELS)[number];
    let flushMs: number;
    try {
      ({ cfg, level, flushMs } = await loadForService(argv, io));
    } catch (e) {
      return startupFailure(io, "run", e, []);
    }
    const secrets = new Secrets(cfg.secrets);
    const log = createJsonLogger((line) => io.stderr(line), () => secrets.list(), level);
    for (const w of cfg.warnings) log({ level: "warn", msg: "config", warning: w });

    let store: Store | undefined;
    let device: Device | undefined;
    let dispatcher: Dispatcher | undefined;
    try {
      const opts = await deviceOptionsFor(cfg, thingEndpoint(cfg), { secrets, logger: deviceLogger(log) });
      store = await openConfiguredStore(cfg);
      if (cfg.store.kind === "memory") log({ level: "warn", msg: "store is memory: the outbox and inbox are lost when the process ends" });
      const handlers = await createHandlers(cfg.handlers, { io, cfg, secrets, log });
      dispatcher = new Dispatcher(handlers, { store, retry: cfg.retry, log });
      device = createDevice({ ...opts, store });
      logDeviceEvents(device, log);
      log({
        level: "info",
        msg: "started",
        thing: cfg.id,
        clientId: cfg.clientId,
        broker: safeUrl(cfg.broker.url),
        auth: cfg.auth.type,
        store: cfg.store.kind === "sqlite" ? cfg.store.path : "memory",
        ingress: cfg.topics.ingress ?? null,
        handlers: handlers.map((h) => h.name),
        config: cfg.format,
      });
      if (cfg.topics.ingress !== undefined) {
        const d = dispatcher;
        await device.subscribe(cfg.topics.ingress, (m) => {
          log({ level: "debug", msg: "message", topic: m.topic, seq: m.seq, bytes: m.payload.byteLength, qos: m.qos });
          d.wake();
        });
      } else {
        log({ level: "warn", msg: "no topics.ingress in the config: nothing is subscribed" });
      }
      dispatcher.start();
    } catch (e) {
      return abortStartup(io, "run", e, secrets.list(), [dispatcher, device, store]);
    }

    const signal = await stop;
    log({ level: "info", msg: "stopping", signal, flushTimeoutMs: flushMs });
    const started = Date.now();
    await Promise.all([
      device.close({ flushTimeoutMs: flushMs }).catch((e) => log({ level: "warn", msg: "close failed", error: e })),
      dispatcher.idle(flushMs).catch(() => false),
    ]);
    await dispatcher.close();
    let outbox: unknown;
    try {
      const s = await store.outbox.stats();
      outbox = { count: s.count, bytes: s.bytes };
    } catch {
      outbox = null;
    }
    await store.close().catch((e) => log({ level: "warn", msg: "closing the store failed", error: e }));
    log({ level: "info", msg: "stopped", signal, outbox, ms: Date.now() - started, handled: dispatcher.acked });
    return EXIT.OK;
  },
};

export default command;
