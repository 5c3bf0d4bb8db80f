/**
 * `thingwire simulate`: a simulated edge device (a truck) for the demo and the end-to-end tests. It
 * steps a small vehicle model, packs its values into CAN frames through a DBC file's layout, and
 * publishes them as Flexconnect binary CAN messages (every few compressed), plus JSON telemetry (every
 * other one in the gzip+base64 envelope), all through the durable outbox (SQLite with `--store`).
 * It subscribes to its ingress topic, applies the operator's commands, prints them and acknowledges
 * each on its egress topic.
 *
 * Topics (prefix `devices/<thing>` unless `--prefix`): `<prefix>/can`, `<prefix>/telemetry`,
 * `<prefix>/ingress` (commands in), `<prefix>/egress` (acknowledgements out).
 *
 * @example
 * ```sh
 * thingwire simulate --url ws://127.0.0.1:8080 --thing truck-1 --dbc web-demo/public/vehicle.dbc --store truck-1.db --mqtt 4
 * ```
 */
import { readFile } from "node:fs/promises";
import type { DeviceAuth } from "../auth/auth.ts";
import { clientCert, tokenAuth } from "../auth/credentials.ts";
import { encodeCan } from "../codec/can.ts";
import { encodeCompressed } from "../codec/compressed.ts";
import { parseDbc } from "../codec/dbc.ts";
import { encodeTelemetry } from "../codec/telemetry.ts";
import { createDevice } from "../device/device.ts";
import type { Device, ReceivedMessage } from "../device/types.ts";
import { ThingwireError } from "../errors.ts";
import { memoryStore } from "../store/memory.ts";
import type { Store } from "../store/store.ts";
import { describeError, flag, parseCommandArgs, reportError, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { dbcLayout, type ScheduledMessage, schedule } from "./simulate-layout.ts";
import { Truck } from "./simulate-vehicle.ts";

const usage = `Usage: thingwire simulate --url URL --dbc FILE [options]

A simulated truck: CAN frames packed through the DBC and JSON telemetry, published through the
durable outbox; operator commands from the ingress topic are applied, printed and acknowledged.

Options:
  --url URL            broker: ws://, wss://, mqtt://, mqtts:// (required)
  --dbc FILE           the DBC file that lays out the CAN frames (required)
  --thing ID           thing id, also the MQTT client id (default truck-1)
  --prefix TOPIC       topic prefix (default devices/<thing>)
  --store FILE         SQLite outbox and inbox (default: in memory, lost on exit)
  --interval MS        model step and CAN publish period (default 100)
  --telemetry-every N  one JSON telemetry message every N steps (default 10)
  --compress-every N   every Nth CAN message compressed (0xFC + gzip), 0 = never (default 5)
  --count N            stop after N steps, flushing the outbox (default: run until Ctrl-C)
  --token TEXT         Flexconnect token written into each message (default demo-token)
  --mqtt 4|5           MQTT version (default 5; the embedded aedes broker needs 4)
  --username NAME      token sign-in: username
  --password TEXT      token sign-in: password (or THINGWIRE_PASSWORD in the environment)
  --cert FILE --key FILE [--ca FILE]   client certificate (mTLS, wss:// or mqtts://)
  --insecure           do not verify the broker's certificate (test brokers only)
  --seed N             seed of the vehicle model (default 1)
  --json               one JSON object per line instead of human output
  -q, --quiet          print commands and errors only
`;

const options = {
  url: { type: "string" },
  dbc: { type: "string" },
  thing: { type: "string" },
  prefix: { type: "string" },
  store: { type: "string" },
  interval: { type: "string" },
  "telemetry-every": { type: "string" },
  "compress-every": { type: "string" },
  count: { type: "string" },
  token: { type: "string" },
  mqtt: { type: "string" },
  username: { type: "string" },
  password: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  seed: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
} as const;

function intOption(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ThingwireError("CLI_USAGE", `--${name}: expected a whole number from ${min} to ${max}, got "${value.slice(0, 40)}"`);
  }
  return n;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new ThingwireError("CONFIG_NOT_FOUND", `cannot read the ${what} ${path}: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/** A command as the kiosk sends it. */
interface OperatorCommand {
  id: string;
  command: string;
  value?: string;
}

function parseCommand(payload: Uint8Array): OperatorCommand {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    throw new ThingwireError("CODEC_JSON", "a command must be JSON like {\"id\":\"…\",\"command\":\"lock\"}", { cause: e });
  }
  const o = body as Record<string, unknown>;
  if (typeof o !== "object" || o === null || typeof o.id !== "string" || typeof o.command !== "string") {
    throw new ThingwireError("CODEC_SCHEMA", "a command needs a string id and a string command", { path: typeof o?.id === "string" ? "command" : "id" });
  }
  return { id: o.id.slice(0, 100), command: o.command.slice(0, 40), value: typeof o.value === "string" ? o.value.slice(0, 200) : undefined };
}

const simulate: Command = {
  name: "simulate",
  summary: "a simulated edge device publishing CAN frames and JSON telemetry (the demo)",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    let json = argv.includes("--json");
    const secrets: string[] = [];
    let store: Store | undefined;
    let device: Device | undefined;
    try {
      const args = parseCommandArgs(argv, options as never);
      json = flag(args, "json");
      const quiet = flag(args, "quiet");
      const url = str(args, "url");
      const dbcPath = str(args, "dbc");
      if (!url) throw new ThingwireError("CLI_USAGE", "missing --url URL: the broker to publish to (ws://127.0.0.1:8080 for `thingwire broker`)");
      if (!dbcPath) throw new ThingwireError("CLI_USAGE", "missing --dbc FILE: the DBC file that lays out the CAN frames");
      const thing = str(args, "thing") ?? "truck-1";
      const prefix = str(args, "prefix") ?? `devices/${thing}`;
      const intervalMs = intOption(str(args, "interval"), "interval", 100, 10, 60_000);
      const telemetryEvery = intOption(str(args, "telemetry-every"), "telemetry-every", 10, 1, 1_000_000);
      const compressEvery = intOption(str(args, "compress-every"), "compress-every", 5, 0, 1_000_000);
      const count = str(args, "count") === undefined ? Infinity : intOption(str(args, "count"), "count", 0, 1, 1_000_000_000);
      const seed = intOption(str(args, "seed"), "seed", 1, 0, 2 ** 31);
      const mqttVersion = intOption(str(args, "mqtt"), "mqtt", 5, 4, 5);
      if (mqttVersion !== 4 && mqttVersion !== 5) throw new ThingwireError("CLI_USAGE", "--mqtt: 4 (MQTT 3.1.1) or 5");
      const token = str(args, "token") ?? "demo-token";

      const out = (event: Record<string, unknown>, human: string, always = false) => {
        if (json) io.stdout(JSON.stringify({ ts: new Date().toISOString(), ...event }) + "\n");
        else if (always || !quiet) io.stdout(human + "\n");
      };

      // auth
      let auth: DeviceAuth | undefined;
      const password = str(args, "password") ?? io.env.THINGWIRE_PASSWORD;
      const username = str(args, "username");
      if (password) secrets.push(password);
      const certPath = str(args, "cert");
      const keyPath = str(args, "key");
      const caPath = str(args, "ca");
      if (certPath || keyPath) {
        if (!certPath || !keyPath) throw new ThingwireError("CLI_USAGE", "a client certificate needs both --cert FILE and --key FILE");
        const key = await readText(keyPath, "private key");
        secrets.push(key);
        auth = clientCert({
          cert: await readText(certPath, "certificate"),
          key,
          ...(caPath ? { ca: await readText(caPath, "CA certificate") } : {}),
          ...(flag(args, "insecure") ? { rejectUnauthorized: false } : {}),
        });
      } else if (username || password) {
        auth = tokenAuth({
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
          ...(caPath || flag(args, "insecure")
            ? { tls: { ...(caPath ? { ca: await readText(caPath, "CA certificate") } : {}), ...(flag(args, "insecure") ? { rejectUnauthorized: false } : {}) } }
            : {}),
        });
      }

      // the DBC and the frames it lays out
      const dbcText = await readText(dbcPath, "DBC file");
      const layout = dbcLayout(parseDbc(dbcText));
      const plan: ScheduledMessage[] = schedule(layout);

      // the store: SQLite when asked (durable), memory otherwise
      const storePath = str(args, "store");
      if (storePath) {
        const { openSqliteStore } = await import("../store/sqlite.ts");
        store = await openSqliteStore(storePath);
      } else {
        store = memoryStore();
        out({ event: "warning", msg: "no --store: the outbox is in memory and lost on exit" }, "simulate: no --store given: the outbox lives in memory and is lost on exit");
      }

      const truck = new Truck(seed);
      device = createDevice({
        url,
        clientId: thing,
        ...(auth ? { auth } : {}),
        store,
        protocolVersion: mqttVersion,
        clean: false,
        reconnect: { baseMs: 500, maxMs: 5_000, stableMs: 10_000 },
        outbox: { maxMessages: 50_000, whenFull: "drop-oldest", ttlMs: 15 * 60_000 },
      });
      const dev = device;
      dev.on("status", (s) => {
        out({ event: "status", state: s.state, reason: s.reason, attempt: s.attempt }, `simulate: ${s.state}: ${s.reason}`, s.state === "online");
      });
      dev.on("dropped", (d) => out({ event: "dropped", reason: d.reason, count: d.records.length }, `simulate: dropped ${d.records.length} queued message(s): ${d.reason}`));
      dev.on("deadletter", (d) => out({ event: "deadletter", topic: d.topic, reason: d.reason }, `simulate: the broker refused a message on ${d.topic} for good: ${d.reason}`, true));

      // operator commands
      const handled = new Set<string>();
      const received = { count: 0 };
      await dev.subscribe(`${prefix}/ingress`, async (msg: ReceivedMessage) => {
        let cmd: OperatorCommand;
        try {
          cmd = parseCommand(msg.payload);
        } catch (e) {
          out({ event: "command-error", error: describeError(e) }, `simulate: ignored a malformed command: ${describeError(e)}`, true);
          await dev.inbox.ack(msg.seq);
          return;
        }
        if (handled.has(cmd.id)) {
          out({ event: "command-duplicate", id: cmd.id }, `simulate: command ${cmd.id} seen before, not applied again`, true);
          await dev.inbox.ack(msg.seq);
          return;
        }
        handled.add(cmd.id);
        if (handled.size > 10_000) handled.delete(handled.values().next().value!);
        received.count++;
        let ok = true;
        let result: string;
        try {
          result = truck.command(cmd.command, cmd.value);
        } catch (e) {
          ok = false;
          result = (e as Error).message;
        }
        out(
          { event: "command", id: cmd.id, command: cmd.command, value: cmd.value, ok, result },
          `simulate: command ${cmd.command}${cmd.value ? ` ${cmd.value}` : ""} (${cmd.id}): ${ok ? result : `refused: ${result}`}`,
          true,
        );
        const ack = { ack: cmd.id, command: cmd.command, ok, ...(ok ? { result } : { error: result }), at: Date.now() };
        await dev.publish(`${prefix}/egress`, JSON.stringify(ack), { qos: 1 });
        await dev.inbox.ack(msg.seq);
      }, { qos: 1 });

      out(
        { event: "start", url, thing, prefix, store: storePath ?? "memory", messages: layout.length, intervalMs },
        `simulate: ${thing} → ${url} (topics ${prefix}/can, /telemetry; commands on ${prefix}/ingress), ${layout.length} CAN messages from ${dbcPath}, store ${storePath ?? "memory"}`,
        true,
      );

      // the publish loop: fixed steps, drift-free
      const sent = { can: 0, telemetry: 0, errors: 0 };
      let step = 0;
      let stopped = false;
      let lastReport = Date.now();
      const started = Date.now();
      const tickOnce = async () => {
        step++;
        truck.step(intervalMs / 1000);
        const values = truck.signals();
        const now = Date.now();
        const readings = plan
          .filter((m) => step % m.every === 0)
          .map((m) => ({ canId: m.message.canId, bus: m.bus, dlc: m.dlc, data: m.pack(values) }));
        try {
          if (readings.length > 0) {
            const message = { token, points: [{ timestamp: now, readings }] };
            const compress = compressEvery > 0 && step % compressEvery === 0;
            await dev.publish(`${prefix}/can`, encodeCan(message, { compress }), { qos: 1 });
            sent.can++;
          }
          if (step % telemetryEvery === 0) {
            const telemetry = {
              device_id: thing,
              token,
              tags: [{ fleet: "demo" }],
              points: [{ timestamp: now, tags: [{ source: "telematics" }], fields: truck.telemetryFields() }],
            };
            const payload = sent.telemetry % 2 === 1 ? encodeCompressed(telemetry) : encodeTelemetry(telemetry);
            await dev.publish(`${prefix}/telemetry`, payload, { qos: 1 });
            sent.telemetry++;
          }
        } catch (e) {
          sent.errors++;
          out({ event: "publish-error", error: describeError(e, secrets) }, `simulate: publish failed: ${describeError(e, secrets)}`, true);
        }
        if (now - lastReport >= 10_000) {
          lastReport = now;
          const stats = await dev.outbox.stats();
          out(
            { event: "stats", can: sent.can, telemetry: sent.telemetry, commands: received.count, outbox: stats.count, state: dev.status.state },
            `simulate: ${sent.can} CAN + ${sent.telemetry} telemetry messages published, ${received.count} commands, outbox ${stats.count}, ${dev.status.state}`,
          );
        }
      };

      const loop = (async () => {
        while (!stopped && step < count) {
          await tickOnce();
          const next = started + step * intervalMs;
          const wait = next - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      })();
      const stopSignal = count === Infinity ? io.waitForStop() : new Promise<string>(() => {});
      const why = await Promise.race([stopSignal, loop.then(() => "count")]);
      stopped = true;
      await loop;
      const flushMs = why === "count" ? 10_000 : 2_000;
      const stats = await dev.outbox.stats();
      out({ event: "stopping", reason: why, outbox: stats.count }, `simulate: stopping (${why}); ${stats.count} message(s) in the outbox${stats.count > 0 && storePath ? " stay in the store for the next run" : ""}`, true);
      await dev.close({ flushTimeoutMs: flushMs });
      device = undefined;
      await store.close();
      store = undefined;
      return sent.errors > 0 && why === "count" ? EXIT.FAILED : EXIT.OK;
    } catch (e) {
      await device?.close().catch(() => {});
      await store?.close().catch(() => {});
      return reportError(io, "simulate", e, json, secrets);
    }
  },
};

export default simulate;
