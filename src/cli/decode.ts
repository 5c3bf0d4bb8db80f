/**
 * `thingwire decode [FILE] [--dbc FILE] [--json] [--max-bytes N]`: reads a raw payload (a file or
 * standard input), detects its format and prints `{"format": "...", "message": {...}}` as JSON,
 * CAN data as lowercase hex. With `--dbc`, each reading whose id the DBC defines also gets
 * `name`, `signals` (physical values by signal name) and, where they apply, `labels` (value-table
 * names of raw values) and `missing` (signals the frame is too short for).
 *
 * @example
 * ```sh
 * thingwire decode payload.bin --dbc vehicle.dbc
 * mosquitto_sub -t 'telemetry/#' -C 1 | thingwire decode --json
 * ```
 */
import { ThingwireError } from "../errors.ts";
import { parseDbc } from "../codec/dbc.ts";
import type { Dbc } from "../codec/dbc.ts";
import { decodeDbcMessage, findDbcMessage } from "../codec/dbc-decode.ts";
import { decodePayload } from "../codec/detect.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { flag, parseCommandArgs, str } from "./args.ts";
import { canMessageToJson, dbcText, readAll, readInput, reportCodecError } from "./codec-io.ts";

const usage = `Usage: thingwire decode [FILE] [--dbc FILE] [--json] [--max-bytes N]

Reads a payload from FILE (or standard input, also with "-"), detects its format (json,
json+gzip, can, can+gzip) and prints {"format": ..., "message": ...} as JSON. CAN data is
lowercase hex.

Options:
      --dbc FILE       decode CAN readings with this DBC: each reading the DBC knows gets
                       "name", "signals" (physical values) and "labels" (value tables)
      --max-bytes N    cap on the decompressed size (default 16777216)
      --json           one line of JSON; errors as JSON too
  -h, --help           this text

Exit codes: 0 decoded, 2 bad input (the message names the byte offset, field path or DBC
line and column) or usage.
`;

async function loadDbc(path: string, io: CliIO): Promise<Dbc> {
  try {
    return parseDbc(dbcText(await readAll(path, io)));
  } catch (e) {
    if (e instanceof ThingwireError && e.code.startsWith("DBC_")) {
      const details: { file: string; line?: number; column?: number } = { file: path };
      if (e.line !== undefined) details.line = e.line;
      if (e.column !== undefined) details.column = e.column;
      throw new ThingwireError(e.code, `${path}: ${e.message}`, details);
    }
    throw e;
  }
}

function maxBytesOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw new ThingwireError("CLI_USAGE", `--max-bytes: expected a whole number of bytes, got "${value.slice(0, 40)}"`);
  }
  return n;
}

const command: Command = {
  name: "decode",
  summary: "detect a payload's format and print it as JSON (with --dbc: signal values)",
  usage,
  async run(argv, io) {
    let json = argv.includes("--json");
    try {
      const args = parseCommandArgs(argv, { dbc: { type: "string" }, json: { type: "boolean" }, "max-bytes": { type: "string" } }, true);
      json = flag(args, "json");
      if (args.positionals.length > 1) throw new ThingwireError("CLI_USAGE", "decode takes at most one FILE");
      const maxBytes = maxBytesOption(str(args, "max-bytes"));
      const dbcPath = str(args, "dbc");
      const dbc = dbcPath === undefined ? undefined : await loadDbc(dbcPath, io);
      const input = await readInput(args.positionals[0], io);
      const decoded = decodePayload(input, maxBytes === undefined ? {} : { maxBytes });
      let message: unknown = decoded.message;
      if (decoded.format === "can" || decoded.format === "can+gzip") {
        const out = canMessageToJson(decoded.message);
        if (dbc) {
          decoded.message.points.forEach((p, i) => {
            p.readings.forEach((r, j) => {
              const m = findDbcMessage(dbc, r.canId);
              if (!m) return;
              const d = decodeDbcMessage(m, r.data);
              const target = out.points[i]!.readings[j]!;
              target.name = d.name;
              target.signals = d.signals;
              if (Object.keys(d.labels).length) target.labels = d.labels;
              if (d.missing) target.missing = d.missing;
            });
          });
        }
        message = out;
      }
      const result = { format: decoded.format, message };
      io.stdout((json ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + "\n");
      return EXIT.OK;
    } catch (e) {
      return reportCodecError(io, "decode", e, json);
    }
  },
};

export default command;
