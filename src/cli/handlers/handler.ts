/**
 * Message handlers for `thingwire run` and `thingwire bridge` (the flespi-receiver pattern): each
 * received message passes through every handler; a handler that throws is retried with backoff
 * and the message stays in the inbox until all handlers succeeded. A handler is a small interface
 * anyone can implement — in a module named by the config:
 *
 * ```yaml
 * handlers:
 *   - type: module
 *     path: ./my-handler.ts        # default-exports (options, context) => Handler
 *     options: { table: telemetry }
 * ```
 *
 * @example
 * ```ts
 * // my-handler.ts
 * import type { Handler, HandlerFactory } from "thingwire/src/cli/handlers/handler.ts";
 * const factory: HandlerFactory = (options) => ({
 *   name: "count",
 *   async handle(msg) { console.error(msg.topic, msg.payload.byteLength); },
 * });
 * export default factory;
 * ```
 */
import { pathToFileURL } from "node:url";
import { ThingwireError } from "../../errors.ts";
import type { CliIO } from "../command.ts";
import type { HandlerConfig, ThingConfig } from "../config-schema.ts";
import type { Secrets } from "../device-from-config.ts";
import type { LogFn } from "../log.ts";
import { httpHandler } from "./http.ts";
import { mqttHandler } from "./mqtt.ts";
import { stdoutHandler } from "./stdout.ts";

/** A received message, as handlers see it (it is in the inbox under `seq`). */
export interface HandlerMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  /** Inbox seq. */
  seq: number;
  /** ms since epoch. */
  receivedAt: number;
}

/** Does something with each message. Throwing means "not done, retry later". */
export interface Handler {
  readonly name: string;
  /** Resolves once the message is handled for good (written, forwarded and acknowledged, posted …). */
  handle(message: HandlerMessage): Promise<void>;
  /** Releases connections; called once when the command stops. */
  close?(): Promise<void>;
}

/** What a handler factory gets besides its options. */
export interface HandlerContext {
  io: CliIO;
  cfg: ThingConfig;
  secrets: Secrets;
  log: LogFn;
}

/** Makes a handler from its options (a module handler's default export). */
export type HandlerFactory = (options: unknown, context: HandlerContext) => Handler | Promise<Handler>;

async function moduleHandler(c: Extract<HandlerConfig, { type: "module" }>, ctx: HandlerContext): Promise<Handler> {
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(c.path).href) as { default?: unknown };
  } catch (e) {
    throw new ThingwireError("CONFIG_INVALID", `${ctx.cfg.displayFile}: handler "${c.name}": cannot load ${c.path} (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`, {
      file: c.path,
      cause: e,
    });
  }
  if (typeof mod.default !== "function") {
    throw new ThingwireError("CONFIG_INVALID", `${ctx.cfg.displayFile}: handler "${c.name}": ${c.path} must default-export a function (options, context) => Handler`, { file: c.path });
  }
  const h = await (mod.default as HandlerFactory)(c.options, ctx);
  if (typeof h !== "object" || h === null || typeof h.handle !== "function") {
    throw new ThingwireError("CONFIG_INVALID", `${ctx.cfg.displayFile}: handler "${c.name}": the factory in ${c.path} must return { name, handle(message) }`, { file: c.path });
  }
  return { name: c.name, handle: (m) => h.handle(m), ...(h.close ? { close: () => h.close!() } : {}) };
}

/** Builds the configured handlers, in order. */
export async function createHandlers(configs: readonly HandlerConfig[], ctx: HandlerContext): Promise<Handler[]> {
  const out: Handler[] = [];
  try {
    for (const c of configs) {
      switch (c.type) {
        case "stdout":
          out.push(stdoutHandler(c.name, ctx.io));
          break;
        case "http":
          out.push(httpHandler(c, ctx));
          break;
        case "mqtt":
          out.push(await mqttHandler(c, ctx));
          break;
        case "module":
          out.push(await moduleHandler(c, ctx));
          break;
      }
    }
  } catch (e) {
    await Promise.all(out.map((h) => h.close?.().catch(() => {})));
    throw e;
  }
  return out;
}
