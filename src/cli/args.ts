/**
 * Argument parsing and error reporting shared by the `thingwire` commands: `node:util` parseArgs
 * (which Deno provides too) with usage errors turned into `CLI_USAGE`, the options every
 * config-driven command takes, and the mapping from an error to an exit code and a message.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandArgs(argv, { ...configOptions, topic: { type: "string" } });
 * ```
 */
import { parseArgs } from "node:util";
import { isThingwireError, ThingwireError } from "../errors.ts";
import type { CliIO } from "./command.ts";
import { EXIT } from "./command.ts";
import { scrubText } from "./log.ts";

/** One option as `node:util` parseArgs takes it. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
}

/** What parseArgs returns, loosely typed: commands read the values they declared. */
export interface ParsedCommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Options of every command that reads a thing config. */
export const configOptions: Record<string, OptionSpec> = {
  config: { type: "string", short: "c" },
  keys: { type: "string", short: "k" },
  data: { type: "string", short: "d" },
  json: { type: "boolean" },
};

/** Help lines for {@link configOptions}. */
export const configOptionsHelp = [
  "  -c, --config FILE   the thing's config: thingwire YAML/JSON, or a FlashLex config.yml (required)",
  "  -k, --keys DIR      where relative key paths in the config resolve (default: the config's directory)",
  "  -d, --data DIR      where a relative store path resolves (default: the config's directory;",
  "                      for a FlashLex config: <config dir>/data)",
  "      --json          machine-readable output",
].join("\n");

/** Parses `argv`; a malformed command line throws `CLI_USAGE` naming the offending option. */
export function parseCommandArgs(
  argv: string[],
  options: Record<string, OptionSpec>,
  allowPositionals = false,
): ParsedCommandArgs {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: r.values as ParsedCommandArgs["values"], positionals: r.positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ThingwireError("CLI_USAGE", msg.replace(/\. To specify .*$/s, "").replace(/\.$/, ""));
  }
}

/** The string value of an option, or undefined. */
export function str(args: ParsedCommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** The boolean value of an option (false when absent). */
export function flag(args: ParsedCommandArgs, name: string): boolean {
  return args.values[name] === true;
}

/** The required `--config` value, or `CLI_USAGE`. */
export function requireConfig(args: ParsedCommandArgs): string {
  const c = str(args, "config");
  if (c === undefined || c === "") {
    throw new ThingwireError("CLI_USAGE", "missing --config FILE: the thing's config (thingwire YAML/JSON or a FlashLex config.yml)");
  }
  return c;
}

/** A positive number option in seconds, as milliseconds; `CLI_USAGE` when malformed. */
export function secondsOption(args: ParsedCommandArgs, name: string, fallbackMs: number): number {
  const v = str(args, name);
  if (v === undefined) return fallbackMs;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || v.trim() === "") {
    throw new ThingwireError("CLI_USAGE", `--${name}: expected a number of seconds (0 or more), got "${v.slice(0, 40)}"`);
  }
  return Math.round(n * 1000);
}

const UNREACHABLE_CODES = new Set(["CONNECT_FAILED", "CONNECT_TIMEOUT", "CONNECTION_LOST"]);

/** The exit code for an error: 2 for usage and config, 3 for an unreachable broker or server, else 1. */
export function exitCodeFor(e: unknown): number {
  if (isThingwireError(e)) {
    if (e.code === "CLI_USAGE" || e.code === "CONFIG_INVALID" || e.code === "CONFIG_NOT_FOUND" || e.code === "OPTIONS_INVALID" || e.code === "TOPIC_INVALID") {
      return EXIT.USAGE;
    }
    if (UNREACHABLE_CODES.has(e.code)) return EXIT.UNREACHABLE;
  }
  return EXIT.FAILED;
}

/** A one-line description of any thrown value, secrets scrubbed; never a stack trace. */
export function describeError(e: unknown, secrets: readonly string[] = []): string {
  let text: string;
  if (e instanceof ThingwireError) text = e.message;
  else if (e instanceof Error) text = `${e.name === "Error" ? "" : e.name + ": "}${e.message}`;
  else text = String(e);
  return scrubText(text, secrets);
}

/**
 * Prints an error the way every command does (human: `thingwire <cmd>: message` on stderr;
 * `--json`: `{"ok":false,"error":{code,message,...}}` on stdout) and returns its exit code.
 */
export function reportError(io: CliIO, command: string, e: unknown, json: boolean, secrets: readonly string[] = []): number {
  const code = exitCodeFor(e);
  const message = describeError(e, secrets);
  if (json) {
    const error: Record<string, unknown> = isThingwireError(e) ? { ...e.toJSON(), message } : { code: "FAILED", message };
    io.stdout(JSON.stringify({ ok: false, exitCode: code, error }) + "\n");
  } else {
    io.stderr(`thingwire ${command}: ${message}\n`);
    if (isThingwireError(e, "CLI_USAGE")) io.stderr(`Run "thingwire ${command} --help" for the options.\n`);
  }
  return code;
}
