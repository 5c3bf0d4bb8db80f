/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, top N.
 *   node bench/lib/cpuprofile.ts bench/.work/prof/x.cpuprofile [20]
 * Used to find what limits thingwire where it misses a goal (see bench/notes/).
 */
import { readFileSync } from "node:fs";
import process from "node:process";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function summarize(profile: Profile, top = 20): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const file = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, "$1/") || `(${n.callFrame.functionName || "native"})`;
    const fn = `${n.callFrame.functionName || "(anonymous)"} ${file}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + t);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
  }
  const fmt = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`).join("\n");
  return `total sampled ${(total / 1000).toFixed(0)} ms\n\nby package/file:\n${fmt(byFile)}\n\nby function:\n${fmt(byFn)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: cpuprofile.ts FILE.cpuprofile [TOP]\n");
    process.exit(2);
  }
  process.stdout.write(summarize(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(top ?? 20)));
}
