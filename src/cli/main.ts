/**
 * `thingwire`: the edge CLI. Runs the same under `node dist/cli.js`, `npx thingwire`,
 * `node src/cli/main.ts` (Node ≥ 22.18 strips types) and `deno run src/cli/main.ts`.
 *
 * @example
 * ```sh
 * thingwire decode payload.bin --dbc vehicle.dbc
 * ```
 */
import process from "node:process";
import { concatBytes } from "../codec/concat.ts";
import type { CliIO } from "./command.ts";
import { EXIT } from "./command.ts";
import { type CommandEntry, commands } from "./commands.ts";

function helpText(list: readonly CommandEntry[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    "thingwire: IoT device SDK command line",
    "",
    "Usage: thingwire <command> [options]   (thingwire <command> --help for details)",
    "",
    "Commands:",
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
  ].join("\n");
}

/** Runs the CLI with `argv` (without the program name); returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(helpText(commands));
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "--version") {
    io.stdout("thingwire 0.1.0\n");
    return EXIT.OK;
  }
  const found = commands.find((c) => c.name === name);
  if (!found) {
    io.stderr(`thingwire: unknown command "${name}". Run "thingwire --help" for the list.\n`);
    return EXIT.USAGE;
  }
  const command = await found.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(command.usage.endsWith("\n") ? command.usage : command.usage + "\n");
    return EXIT.OK;
  }
  return command.run(rest, io);
}

/** The real process's streams. */
export function processIO(): CliIO {
  return {
    async readStdin() {
      const chunks: Uint8Array[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Uint8Array);
      return concatBytes(chunks);
    },
    stdout: (chunk) => void process.stdout.write(chunk),
    stderr: (chunk) => void process.stderr.write(chunk),
    env: process.env,
    cwd: process.cwd(),
    waitForStop: () =>
      new Promise((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      }),
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}` || (import.meta as { main?: boolean }).main === true ||
  /[\\/](cli\.js|main\.ts|thingwire)$/.test(process.argv[1] ?? "");
if (isMain) {
  main(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`thingwire: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
