/**
 * `thingwire bridge`: the flespi-receiver pattern. Subscribes to topics on a source broker and
 * passes every message through the configured handlers — `stdout` (a JSON line), `mqtt` (forward to
 * a second broker with its own auth), `http` (a webhook POST), or your own module. Each message is
 * stored in the bridge's inbox (SQLite) before the source broker gets its acknowledgement, and is
 * acknowledged in the inbox only once every handler succeeded; a failing handler retries with
 * backoff. A restart resumes with what is still unacknowledged, so no message is lost.
 *
 * @example
 * ```yaml
 * bridge:
 *   source: { url: "mqtts://flespi.io:8883", auth: { type: token, username: "FlespiToken …" }, topics: ["flespi/message/gw/devices/#"] }
 *   handlers:
 *     - { type: stdout }
 *     - { type: mqtt, url: "wss://aws-endpoint/mqtt", auth: { type: sigv4, region: us-east-1 }, topic: "fleet/{topic}" }
 *     - { type: http, url: "https://example.com/hook" }
 * ```
 */
import { createDevice } from "../device/device.ts";
import type { Device } from "../device/types.ts";
import { ThingwireError } from "../errors.ts";
import { memoryStore } from "../store/memory.ts";
import type { Store } from "../store/store.ts";
import { configOptionsHelp } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import type { ThingConfig } from "./config.ts";
import { deviceOptionsFor, openConfiguredStore, Secrets } from "./device-from-config.ts";
import { Dispatcher } from "./handlers/dispatcher.ts";
import { createHandlers } from "./handlers/handler.ts";
import { createJsonLogger, safeUrl } from "./log.ts";
import { abortStartup, deviceLogger, loadForService, logDeviceEvents, startupFailure } from "./run.ts";

const usage = `thingwire bridge: forward messages from a broker through handlers (stdout, mqtt, http)

Usage: thingwire bridge --config FILE [--keys DIR] [--data DIR] [--flush-timeout SEC] [--log-level LEVEL]

Subscribes to bridge.source.topics on the source broker (default: the thing's broker and
topics.ingress) and passes every message through bridge.handlers, in order per handler:
  stdout   one JSON line per message on standard output
  mqtt     forward to a second broker (url, auth, topic template with {topic})
  http     POST to a webhook (url, headers, body json|raw)
  module   your own: a module default-exporting (options, context) => { name, handle(msg) }
A message stays in the bridge's inbox (bridge.store) until every handler succeeded; a failing
handler retries with backoff (bridge.retry) and never loses it. Logs are JSON lines on standard error.

Options:
${configOptionsHelp}
      --flush-timeout SEC  on SIGINT/SIGTERM, let handlers catch up for up to SEC seconds (default 5)
      --log-level LEVEL    debug, info (default), warn or error

Exit codes: 0 stopped cleanly, 1 failed to start, 2 usage or config error.
`;

const PURGE_ACKED_MS = 60_000;

async function openBridgeStore(cfg: ThingConfig): Promise<Store> {
  const s = cfg.bridge!.store;
  if (s.kind === "memory") return memoryStore();
  return openConfiguredStore({ ...cfg, store: s });
}

const command: Command = {
  name: "bridge",
  summary: "forward messages from one broker through handlers (stdout, mqtt, http)",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    const stop = io.waitForStop();
    let loaded: Awaited<ReturnType<typeof loadForService>>;
    try {
      loaded = await loadForService(argv, io);
      if (!loaded.cfg.bridge) {
        throw new ThingwireError("CONFIG_INVALID", `${loaded.cfg.displayFile}: bridge: missing: expected a mapping with source and handlers (see thingwire bridge --help)`, {
          path: "bridge",
          file: loaded.cfg.file,
        });
      }
    } catch (e) {
      return startupFailure(io, "bridge", e, []);
    }
    const { cfg, level, flushMs } = loaded;
    const bridge = cfg.bridge!;
    const secrets = new Secrets(cfg.secrets);
    const log = createJsonLogger((line) => io.stderr(line), () => secrets.list(), level);
    for (const w of cfg.warnings) log({ level: "warn", msg: "config", warning: w });

    let store: Store | undefined;
    let device: Device | undefined;
    let dispatcher: Dispatcher | undefined;
    let purgeTimer: ReturnType<typeof setInterval> | undefined;
    try {
      const opts = await deviceOptionsFor(cfg, bridge.source, { secrets });
      store = await openBridgeStore(cfg);
      if (bridge.store.kind === "memory") log({ level: "warn", msg: "bridge.store is memory: messages not yet handled are lost if the process ends" });
      const handlers = await createHandlers(bridge.handlers, { io, cfg, secrets, log });
      dispatcher = new Dispatcher(handlers, { store, retry: bridge.retry, log });
      // Unhandled messages never expire here: they leave the inbox once every handler succeeded.
      device = createDevice({ ...opts, store, logger: deviceLogger(log), inbox: { ...opts.inbox, expireSeconds: 0 } });
      logDeviceEvents(device, log, { connection: "source" });
      log({
        level: "info",
        msg: "started",
        source: safeUrl(bridge.source.broker.url),
        clientId: bridge.source.clientId,
        topics: bridge.source.topics,
        handlers: handlers.map((h) => h.name),
        store: bridge.store.kind === "sqlite" ? bridge.store.path : "memory",
      });
      const d = dispatcher;
      for (const topic of bridge.source.topics) {
        await device.subscribe(topic, (m) => {
          log({ level: "debug", msg: "message", topic: m.topic, seq: m.seq, bytes: m.payload.byteLength, qos: m.qos });
          d.wake();
        }, { qos: bridge.source.qos });
      }
      dispatcher.start();
      const s = store;
      const purge = () => void s.inbox.purge({ acked: true }).catch((e) => log({ level: "warn", msg: "purging handled messages failed", error: e }));
      purge();
      purgeTimer = setInterval(purge, PURGE_ACKED_MS);
    } catch (e) {
      return abortStartup(io, "bridge", e, secrets.list(), [dispatcher, device, store]);
    }

    const signal = await stop;
    clearInterval(purgeTimer);
    log({ level: "info", msg: "stopping", signal, flushTimeoutMs: flushMs });
    const caughtUp = await dispatcher.idle(flushMs).catch(() => false);
    await dispatcher.close();
    await device.close().catch((e) => log({ level: "warn", msg: "close failed", error: e }));
    let pending = 0;
    try {
      pending = (await store.inbox.list({ limit: 100_000 })).length;
    } catch {
      // store failing: reported below as unknown
    }
    await store.close().catch((e) => log({ level: "warn", msg: "closing the store failed", error: e }));
    log({ level: "info", msg: "stopped", signal, handled: dispatcher.acked, caughtUp, pending });
    return EXIT.OK;
  },
};

export default command;
