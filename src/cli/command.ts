/**
 * The shape of a `thingwire` sub-command. Each command lives in its own file in src/cli/,
 * parses its own arguments with `node:util` parseArgs (which Deno provides too) and returns
 * an exit code: 0 ok, 1 the operation failed, 2 usage or config error, 3 could not connect.
 */

/** Standard streams and the process environment, passed in so tests can call commands directly. */
export interface CliIO {
  /** Reads all of standard input. */
  readStdin(): Promise<Uint8Array>;
  stdout(chunk: string | Uint8Array): void;
  stderr(chunk: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * Resolves with the signal name when SIGINT or SIGTERM arrives. Only long-running commands call
   * it: once called, those signals no longer end the process by themselves.
   */
  waitForStop(): Promise<string>;
}

export interface Command {
  name: string;
  /** One line for `thingwire --help`. */
  summary: string;
  /** Full `--help` text. */
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 } as const;
