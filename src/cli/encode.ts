/**
 * `thingwire encode --format json|json+gzip|can|can+gzip [FILE] [--level N]`: the inverse of
 * `decode`. Reads JSON (a file or standard input): the message itself (telemetry for the JSON
 * formats; `{token, points}` with hex data for CAN), or what `thingwire decode` prints
 * (`{"format", "message"}`, whose format is used when `--format` is absent). Writes the payload
 * bytes to standard output.
 *
 * @example
 * ```sh
 * thingwire encode --format can+gzip frames.json > payload.bin
 * thingwire decode payload.bin | thingwire encode > same-format.bin
 * ```
 */
import { ThingwireError } from "../errors.ts";
import { encodeCan } from "../codec/can.ts";
import { encodeCompressed } from "../codec/compressed.ts";
import type { GzipLevel } from "../codec/compressed.ts";
import type { PayloadFormat } from "../codec/detect.ts";
import { jsonText, parseJson } from "../codec/json-text.ts";
import type { Telemetry } from "../codec/telemetry.ts";
import { encodeTelemetry } from "../codec/telemetry.ts";
import type { Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { flag, parseCommandArgs, str } from "./args.ts";
import { canMessageFromJson, readInput, reportCodecError } from "./codec-io.ts";

const FORMATS: readonly PayloadFormat[] = ["json", "json+gzip", "can", "can+gzip"];

const usage = `Usage: thingwire encode [--format json|json+gzip|can|can+gzip] [FILE] [--level N]

Reads JSON from FILE (or standard input, also with "-") and writes the payload bytes to
standard output:
  json, json+gzip   a telemetry object {device_id, token, tags, points}
  can, can+gzip     a CAN message {token, points: [{timestamp, readings: [{canId, bus, dlc, data}]}]},
                    data as hex; dlc may be left out (it follows from the data length)
The output of "thingwire decode" ({"format", "message"}) is accepted too; its format is used
when --format is not given.

Options:
      --format F   the payload format (required unless the input names one)
      --level N    gzip level for json+gzip and can+gzip, 0-9 (default 6)
      --json       errors as JSON on standard output
  -h, --help       this text

Exit codes: 0 written, 2 bad input (the message names the field path) or usage.
`;

const command: Command = {
  name: "encode",
  summary: "turn JSON into a payload: json, json+gzip, can, can+gzip",
  usage,
  async run(argv, io) {
    let json = argv.includes("--json");
    try {
      const args = parseCommandArgs(argv, { format: { type: "string", short: "f" }, level: { type: "string" }, json: { type: "boolean" } }, true);
      json = flag(args, "json");
      if (args.positionals.length > 1) throw new ThingwireError("CLI_USAGE", "encode takes at most one FILE");
      let format = str(args, "format") as PayloadFormat | undefined;
      if (format !== undefined && !FORMATS.includes(format)) {
        throw new ThingwireError("CLI_USAGE", `--format must be one of ${FORMATS.join(", ")}, not "${format.slice(0, 20)}"`);
      }
      const levelText = str(args, "level");
      const level = levelText === undefined ? 6 : Number(levelText);
      if (!Number.isInteger(level) || level < 0 || level > 9 || levelText?.trim() === "") {
        throw new ThingwireError("CLI_USAGE", `--level must be a whole number from 0 to 9, not "${String(levelText).slice(0, 20)}"`);
      }
      const input = await readInput(args.positionals[0], io);
      let value = parseJson(jsonText(input, "the JSON input"), input, "the JSON input");
      // The output of `thingwire decode`: {"format", "message"}.
      if (typeof value === "object" && value !== null && "format" in value && "message" in value) {
        const named = (value as { format: unknown }).format;
        if (!FORMATS.includes(named as PayloadFormat)) {
          throw new ThingwireError("CODEC_SCHEMA", `format: expected one of ${FORMATS.join(", ")}`, { path: "format" });
        }
        format ??= named as PayloadFormat;
        value = (value as { message: unknown }).message;
      }
      if (format === undefined) throw new ThingwireError("CLI_USAGE", `--format is required: one of ${FORMATS.join(", ")}`);
      const gzipLevel = level as GzipLevel;
      let out: Uint8Array;
      if (format === "json") out = encodeTelemetry(value as Telemetry);
      else if (format === "json+gzip") out = encodeCompressed(value as Telemetry, { level: gzipLevel });
      else out = encodeCan(canMessageFromJson(value), { compress: format === "can+gzip", level: gzipLevel });
      io.stdout(out);
      return EXIT.OK;
    } catch (e) {
      return reportCodecError(io, "encode", e, json);
    }
  },
};

export default command;
