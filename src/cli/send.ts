/**
 * `thingwire send`: egress one message from standard input (FlashLex collectmessage.py). Over MQTT
 * the message goes through the durable outbox in the config's SQLite store and is flushed for up
 * to `--timeout` seconds: either the broker acknowledged it (exit 0), or it stays queued — not lost
 * — for `thingwire run` (or the next send) to deliver (exit 1, saying so). With `--http` the JSON on
 * stdin is POSTed to the collect endpoint with a device JWT as bearer token.
 *
 * @example
 * ```sh
 * echo '{"foo":"bar"}' | thingwire send --config thing.yml
 * echo '{"foo":"bar"}' | thingwire send --config thing.yml --http
 * ```
 */
import { collect } from "../device/collect.ts";
import { createDevice } from "../device/device.ts";
import type { Device } from "../device/types.ts";
import { isThingwireError, ThingwireError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { configOptions, configOptionsHelp, flag, parseCommandArgs, reportError, requireConfig, secondsOption, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { loadConfig, type ThingConfig } from "./config.ts";
import { deviceOptionsFor, jwtProvider, openConfiguredStore, Secrets, thingEndpoint } from "./device-from-config.ts";
import { scrubText } from "./log.ts";

const usage = `thingwire send: send a message from standard input

Usage:
  thingwire send --config FILE [--topic T] [--qos 0|1] [--retain] [--timeout SEC]
  thingwire send --config FILE --http [--timeout SEC]

Over MQTT (default): the message is stored in the outbox (the config's SQLite store) and sent; the
command waits up to --timeout seconds for the broker's acknowledgement. If the broker cannot be
reached the message stays queued — it is not lost — and \`thingwire run\` delivers it.
With --http: standard input must be JSON; it is POSTed to collect.url with a device JWT
(Authorization: Bearer …), as FlashLex's collectmessage.py did.

Options:
${configOptionsHelp}
      --topic T       topic to publish to (default: topics.egress)
      --qos Q         0 or 1 (default 1)
      --retain        set the MQTT retain flag
      --timeout SEC   how long to wait for delivery (default: operationTimeoutMs, 10 s)
      --http          POST to the HTTP collect endpoint instead of MQTT
      --client-id ID  MQTT client id (default: <clientId>-send, so a running \`thingwire run\`
                      keeps its connection; a broker policy must allow it)

Exit codes: 0 delivered, 1 not delivered (over MQTT: still queued), 2 usage or config error,
3 the collect endpoint could not be reached (--http).
`;

function topicFor(cfg: ThingConfig, topic: string | undefined): string {
  const t = topic ?? cfg.topics.egress;
  if (t === undefined) {
    throw new ThingwireError("CLI_USAGE", `no topic: pass --topic T, or set topics.egress in ${cfg.displayFile}`);
  }
  if (t === "" || /[+#\0]/.test(t)) throw new ThingwireError("CLI_USAGE", `--topic: "${t.slice(0, 80)}" is not a topic to publish to (no + # or NUL)`);
  return t;
}

async function sendHttp(cfg: ThingConfig, body: Uint8Array, timeoutMs: number, secrets: Secrets, io: CliIO, json: boolean): Promise<number> {
  if (!cfg.collect) {
    throw new ThingwireError("CONFIG_INVALID", `${cfg.displayFile}: collect: missing: --http needs collect.url and collect.jwt in the config (FlashLex: app.api.endpoint)`, {
      path: "collect",
      file: cfg.file,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new ThingwireError("CLI_USAGE", "--http sends JSON: standard input is not a JSON document");
  }
  const token = await jwtProvider(cfg, cfg.collect.jwt, secrets);
  let result;
  try {
    result = await collect({ url: cfg.collect.url, token, body: doc, timeoutMs });
  } catch (e) {
    if (isThingwireError(e, "HTTP_FAILED") && e.status === undefined) {
      throw new ThingwireError("CONNECT_FAILED", scrubText(e.message, secrets.list()), { cause: e });
    }
    throw e;
  }
  const u = new URL(cfg.collect.url);
  if (json) io.stdout(JSON.stringify({ ok: true, delivered: true, via: "http", url: `${u.origin}${u.pathname}`, status: result.status, response: result.body }) + "\n");
  else {
    io.stdout(`collected: ${u.origin}${u.pathname} answered ${result.status}\n`);
    if (result.body !== "" && result.body !== undefined) {
      io.stdout((typeof result.body === "string" ? result.body : JSON.stringify(result.body, null, 2)) + "\n");
    }
  }
  return EXIT.OK;
}

const command: Command = {
  name: "send",
  summary: "send a message from stdin through the durable outbox, or to HTTP collect",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    let json = argv.includes("--json");
    const secrets = new Secrets();
    let store: Store | undefined;
    let device: Device | undefined;
    try {
      const args = parseCommandArgs(argv, {
        ...configOptions,
        topic: { type: "string", short: "t" },
        qos: { type: "string" },
        retain: { type: "boolean" },
        timeout: { type: "string" },
        http: { type: "boolean" },
        "client-id": { type: "string" },
      });
      json = flag(args, "json");
      const file = requireConfig(args);
      const qosArg = str(args, "qos") ?? "1";
      if (qosArg !== "0" && qosArg !== "1") throw new ThingwireError("CLI_USAGE", `--qos: expected 0 or 1, got "${qosArg.slice(0, 20)}"`);
      const http = flag(args, "http");
      if (http && (str(args, "topic") !== undefined || str(args, "qos") !== undefined || flag(args, "retain"))) {
        throw new ThingwireError("CLI_USAGE", "--http takes no --topic, --qos or --retain: the collect endpoint is in the config");
      }
      const cfg = await loadConfig(file, {
        cwd: io.cwd,
        env: io.env,
        ...(str(args, "keys") ? { keysDir: str(args, "keys")! } : {}),
        ...(str(args, "data") ? { dataDir: str(args, "data")! } : {}),
      });
      for (const s of cfg.secrets) secrets.add(s);
      for (const w of cfg.warnings) io.stderr(`thingwire send: warning: ${w}\n`);
      const timeoutMs = secondsOption(args, "timeout", cfg.operationTimeoutMs);
      const topic = http ? undefined : topicFor(cfg, str(args, "topic"));
      const body = await io.readStdin();
      if (http) return await sendHttp(cfg, body, timeoutMs, secrets, io, json);

      if (cfg.store.kind === "memory") {
        io.stderr(`thingwire send: warning: store is "memory" in ${cfg.displayFile}: a message not delivered now is lost when send exits\n`);
      }
      // Its own client id and a clean session: the same id would take over \`thingwire run\`'s
      // connection and session (and receive its ingress messages).
      const clientId = str(args, "client-id") ?? `${cfg.clientId}-send`;
      const opts = await deviceOptionsFor(cfg, { ...thingEndpoint(cfg), clientId }, { secrets });
      store = await openConfiguredStore(cfg);
      device = createDevice({ ...opts, store, clean: true });
      let lastError: string | undefined;
      device.on("status", (st) => {
        if (st.error) lastError = st.error.message;
      });
      const receipt = await device.publish(topic!, body, { qos: Number(qosArg) as 0 | 1, retain: flag(args, "retain") });
      let delivered = true;
      let why = "";
      try {
        await device.flush({ timeoutMs });
      } catch (e) {
        if (!isThingwireError(e, "TIMEOUT")) throw e;
        delivered = false;
        const s = device.status;
        why = s.error ? s.error.message : s.state === "online" ? "the broker has not acknowledged it yet" : lastError ?? s.reason;
      }
      const queued = delivered ? 0 : (await device.outbox.stats()).count;
      const storeName = cfg.store.kind === "sqlite" ? cfg.store.path : "memory";
      if (json) {
        io.stdout(JSON.stringify({
          ok: delivered,
          delivered,
          via: "mqtt",
          seq: receipt.seq,
          messageId: receipt.messageId,
          topic,
          bytes: body.byteLength,
          ...(delivered ? {} : { queued: true, queuedMessages: queued, store: storeName, reason: scrubText(why, secrets.list()) }),
        }) + "\n");
      } else if (delivered) {
        io.stdout(`delivered: seq ${receipt.seq} to ${topic} (${body.byteLength} bytes)\n`);
      } else {
        io.stderr(
          `thingwire send: not delivered within ${timeoutMs / 1000} s: ${scrubText(why, secrets.list())}\n` +
            `The message is queued as seq ${receipt.seq} in ${storeName} (${queued} message${queued === 1 ? "" : "s"} waiting); it is not lost: ` +
            `\`thingwire run --config ${file}\` delivers it once the broker is reachable.\n`,
        );
      }
      return delivered ? EXIT.OK : EXIT.FAILED;
    } catch (e) {
      return reportError(io, "send", e, json, secrets.list());
    } finally {
      await device?.close().catch(() => {});
      await store?.close().catch(() => {});
    }
  },
};

export default command;
