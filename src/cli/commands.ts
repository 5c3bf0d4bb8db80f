/**
 * The sub-commands, in `--help` order. Each lives in its own file that default-exports a
 * `Command`, loaded only when invoked so `thingwire decode` does not load mqtt.js.
 */
import type { Command } from "./command.ts";

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const entry = (name: string, summary: string, load: () => Promise<{ default: Command }>): CommandEntry => ({
  name,
  summary,
  load: async () => (await load()).default,
});

export const commands: CommandEntry[] = [
  entry("broker", "run the embedded MQTT broker (aedes) on localhost: ws, optional tcp and tls", () => import("./broker-command.ts")),
  entry("run", "the long-running device service: connect, store the inbox, drain the outbox", () => import("./run.ts")),
  entry("bootstrap", "check a thing's config, keys and broker, step by step, with what to fix", () => import("./bootstrap.ts")),
  entry("send", "send a message from stdin through the durable outbox, or to HTTP collect", () => import("./send.ts")),
  entry("inbox", "list, acknowledge or purge the local message database", () => import("./inbox.ts")),
  entry("service", "print a systemd unit that runs `thingwire run`", () => import("./service.ts")),
  entry("bridge", "forward messages from one broker through handlers (stdout, mqtt, http)", () => import("./bridge.ts")),
  entry("simulate", "a simulated edge device publishing CAN frames and JSON telemetry (the demo)", () => import("./simulate.ts")),
  entry("decode", "detect a payload's format and print it as JSON (with --dbc: signal values)", () => import("./decode.ts")),
  entry("encode", "turn JSON into a payload: json, json+gzip, can, can+gzip", () => import("./encode.ts")),
];
