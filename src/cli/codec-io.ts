/**
 * What `thingwire decode` and `thingwire encode` share: reading the input (a file or standard
 * input), the JSON shape of a CAN message (data as lowercase hex, as in the golden vectors'
 * README), and error reporting where bad input exits 2.
 *
 * @example
 * ```ts
 * const bytes = await readInput(positionals[0], io);
 * io.stdout(JSON.stringify(canMessageToJson(decodeCan(bytes))));
 * ```
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { isThingwireError, ThingwireError } from "../errors.ts";
import type { CanMessage, CanReading } from "../codec/can.ts";
import { lengthToDlc } from "../codec/can.ts";
import { fromHex, toHex } from "../codec/hex.ts";
import type { CliIO } from "./command.ts";
import { EXIT } from "./command.ts";
import { describeError, exitCodeFor } from "./args.ts";

/** A reading in JSON: data as lowercase hex, plus what a DBC adds. */
export interface CanReadingJson {
  canId: number;
  bus: number;
  dlc: number;
  data: string;
  name?: string;
  signals?: Record<string, number>;
  labels?: Record<string, string>;
  missing?: string[];
}

/** A CAN message in JSON. */
export interface CanMessageJson {
  token: string;
  points: { timestamp: number; readings: CanReadingJson[] }[];
}

/** Reads FILE, or standard input when there is none or it is "-". */
export async function readInput(path: string | undefined, io: CliIO): Promise<Uint8Array> {
  if (path === undefined || path === "-") return io.readStdin();
  return readAll(path, io);
}

/** Reads a file relative to the working directory; a missing or unreadable one is `CONFIG_NOT_FOUND`. */
export async function readAll(path: string, io: CliIO): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(io.cwd, path)));
  } catch (e) {
    const why = (e as { code?: string }).code === "ENOENT" ? "no such file" : e instanceof Error ? e.message : String(e);
    throw new ThingwireError("CONFIG_NOT_FOUND", `cannot read ${path}: ${why}`, { file: path });
  }
}

/** Text of a DBC file: UTF-8 when it is valid UTF-8, else Windows-1252 (what CANdb++ writes). */
export function dbcText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** A decoded CAN message as JSON-ready objects. */
export function canMessageToJson(m: CanMessage): CanMessageJson {
  return {
    token: m.token,
    points: m.points.map((p) => ({
      timestamp: p.timestamp,
      readings: p.readings.map((r) => ({ canId: r.canId, bus: r.bus, dlc: r.dlc, data: toHex(r.data) })),
    })),
  };
}

function schema(path: string, expected: string): ThingwireError {
  return new ThingwireError("CODEC_SCHEMA", `${path || "(root)"}: ${expected}`, { path });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A CAN message from its JSON shape. `dlc` may be left out (it follows from the data length);
 * `name`, `signals`, `labels` and `missing` (what `decode --dbc` adds) are ignored.
 */
export function canMessageFromJson(v: unknown): CanMessage {
  if (!isObject(v)) throw schema("", "expected a CAN message {token, points}");
  if (!Array.isArray(v.points)) throw schema("points", "expected an array of points");
  return {
    token: v.token as string,
    points: v.points.map((p: unknown, i: number) => {
      if (!isObject(p)) throw schema(`points[${i}]`, "expected a point {timestamp, readings}");
      if (!Array.isArray(p.readings)) throw schema(`points[${i}].readings`, "expected an array of readings");
      return {
        timestamp: p.timestamp as number,
        readings: p.readings.map((r: unknown, j: number): CanReading => {
          const at = `points[${i}].readings[${j}]`;
          if (!isObject(r)) throw schema(at, "expected a reading {canId, bus, dlc, data}");
          if (typeof r.data !== "string") throw schema(`${at}.data`, "expected the data as a hex string");
          const data = fromHex(r.data, `${at}.data`);
          let dlc = r.dlc as number;
          if (dlc === undefined) {
            const derived = lengthToDlc(data.length);
            if (derived === undefined) {
              throw new ThingwireError("CODEC_LENGTH_MISMATCH", `${at}.data: ${data.length} bytes is not a CAN FD length (0-8, 12, 16, 20, 24, 32, 48, 64)`, {
                path: `${at}.data`,
              });
            }
            dlc = derived;
          }
          return { canId: r.canId as number, bus: r.bus as number, dlc, data };
        }),
      };
    }),
  };
}

/**
 * Reports an error as every command does (`thingwire <cmd>: message` on stderr, or with `--json`
 * `{"ok":false,"exitCode":…,"error":{code,message,offset|path|line|column}}` on stdout) and returns
 * the exit code: bad input (a codec or DBC error) exits 2, like a usage error.
 */
export function reportCodecError(io: CliIO, command: string, e: unknown, json: boolean): number {
  const badInput = isThingwireError(e) && (e.code.startsWith("CODEC_") || e.code.startsWith("DBC_"));
  const exitCode = badInput ? EXIT.USAGE : exitCodeFor(e);
  const message = describeError(e);
  if (json) {
    const error = isThingwireError(e) ? { ...e.toJSON(), message } : { code: "FAILED", message };
    io.stdout(JSON.stringify({ ok: false, exitCode, error }) + "\n");
  } else {
    io.stderr(`thingwire ${command}: ${message}\n`);
    if (isThingwireError(e, "CLI_USAGE")) io.stderr(`Run "thingwire ${command} --help" for the options.\n`);
  }
  return exitCode;
}
