/**
 * Small measuring helpers shared by the benches (Node and Deno): median, process memory,
 * CPU and resident memory of any process from /proc, and the runtime's name and version.
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import process from "node:process";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Median of a non-empty list (mean of the middle two when even). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of nothing");
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** "node" or "deno": which runtime runs this bench (decides the results file name). */
export const runtime: "node" | "deno" = typeof (globalThis as { Deno?: unknown }).Deno === "object" ? "deno" : "node";

export function runtimeVersion(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node ${process.version}`;
}

/** This process's memory, bytes. */
export function memory(): { rss: number; heapUsed: number; external: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Runs the garbage collector when the runtime exposes it (node --expose-gc, deno --v8-flags=--expose-gc). */
export async function gc(): Promise<void> {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return;
  for (let i = 0; i < 3; i++) {
    g();
    await sleep(10);
  }
}

let clkTck: number | undefined;
/** Clock ticks per second for /proc/<pid>/stat times. */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    clkTck = Number(r.stdout?.trim()) || 100;
  }
  return clkTck;
}

/** CPU seconds (user + system) and resident set of a process, from /proc. */
export function procSample(pid: number): { cpuSec: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15 (1-based).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSec: (utime + stime) / clockTicks(), rssBytes: rssKb * 1024 };
}

/** Peak resident set of a process so far (VmHWM), bytes. */
export function procPeakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples this process's RSS every `intervalMs` until stopped; returns the peak. */
export function rssSampler(intervalMs = 20): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** Imports a module (pass an absolute URL: `new URL("../src/x.ts", import.meta.url).href`), or returns why it cannot be imported yet. */
export async function tryImport<T>(specifier: string): Promise<{ ok: true; mod: T } | { ok: false; why: string }> {
  try {
    return { ok: true, mod: (await import(specifier)) as T };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
  }
}

export const MiB = 1024 * 1024;
export const KiB = 1024;
