/**
 * Runs the `thingwire` CLI as a user would: a child process under Node 24 (type stripping,
 * `node src/cli/main.ts …`) or under `deno run` with explicit permission flags. Collects stdout
 * and stderr; long-running commands can be watched line by line and stopped with a signal.
 *
 * @example
 * const r = await runCli("node", ["bootstrap", "--config", cfg]);
 * const svc = startCli("deno", ["run", "--config", cfg], { denoFlags: ["--allow-read=/tmp/x"] });
 * await svc.waitForLine((l) => l.includes('"state":"online"'));
 * const done = await svc.stop("SIGTERM");
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const repoRoot = new URL("../../", import.meta.url).pathname;
export const nodeBin = join(repoRoot, "node_modules/.bin/node");
export const denoBin = join(repoRoot, "node_modules/.bin/deno");
export const mainTs = join(repoRoot, "src/cli/main.ts");

export type Runtime = "node" | "deno";

export interface CliOptions {
  cwd?: string;
  /** Environment (default: this process's, minus NODE_OPTIONS). */
  env?: Record<string, string | undefined>;
  stdin?: string | Uint8Array;
  /** Deno permission flags (default: none, i.e. everything denied). */
  denoFlags?: string[];
  /** Kill after this many ms (default 30 s) and fail. */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The argv to spawn for `runtime`. */
export function cliCommand(runtime: Runtime, args: string[], denoFlags: string[] = []): [string, string[]] {
  return runtime === "node"
    ? [nodeBin, ["--no-warnings", mainTs, ...args]]
    : [denoBin, ["run", "--no-prompt", "--quiet", ...denoFlags, mainTs, ...args]];
}

function baseEnv(extra?: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra ?? process.env)) if (v !== undefined && k !== "NODE_OPTIONS") env[k] = v;
  env.NO_COLOR = "1";
  return env;
}

/** A running CLI process. */
export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stderr and stdout lines parsed as JSON where they are JSON. */
  jsonLines(): Array<Record<string, unknown>>;
  /** Resolves with the first line (stdout or stderr) matching; rejects on exit or timeout. */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
  /** Sends `signal` and waits for exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/** Starts the CLI and returns at once. */
export function startCli(runtime: Runtime, args: string[], o: CliOptions = {}): CliProcess {
  const [cmd, argv] = cliCommand(runtime, args, o.denoFlags);
  const proc = spawn(cmd, argv, { cwd: o.cwd ?? repoRoot, env: baseEnv(o.env), stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const watchers = new Set<() => void>();
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (const w of [...watchers]) w();
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    for (const w of [...watchers]) w();
  });
  if (o.stdin !== undefined) proc.stdin!.end(o.stdin);
  else proc.stdin!.end();
  const done = new Promise<CliResult>((resolve) => {
    proc.once("close", (code, signal) => {
      resolve({ code, signal, stdout: out, stderr: err });
      for (const w of [...watchers]) w();
    });
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 60_000);
  void done.then(() => clearTimeout(killer));
  let exited = false;
  void done.then(() => (exited = true));
  const lines = () => (out + "\n" + err).split("\n");
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    jsonLines: () =>
      lines().flatMap((l) => {
        if (!l.startsWith("{")) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    waitForLine(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines().find(pred);
          if (hit !== undefined) {
            cleanup();
            resolve(hit);
          } else if (exited) {
            cleanup();
            reject(new Error(`the CLI exited before the expected line.\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching line within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    done,
    async stop(signal = "SIGTERM") {
      if (!exited) proc.kill(signal);
      return done;
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(runtime: Runtime, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const p = startCli(runtime, args, { timeoutMs: 30_000, ...o });
  const r = await p.done;
  if (r.signal === "SIGKILL") throw new Error(`thingwire ${args.join(" ")} (${runtime}) timed out.\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** True when the text shows a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>)$/m.test(text) || /\n\s+at (async )?[\w.<>]+ \(/.test(text);
}
