/**
 * Bundle weight: esbuild (minified, ESM, browser platform, es2022), then raw / gzip (level 9) /
 * brotli (quality 11) sizes from node:zlib. The same settings for thingwire and the baselines.
 * `bundleSplit` builds as tsup builds dist/browser (code splitting on): the entry file a page
 * loads first, and the chunks it imports on demand, each weighed as the file it is.
 */
import { build, type Plugin } from "esbuild";
import { basename } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

export interface Weight {
  raw: number;
  gzip: number;
  brotli: number;
}

export function weigh(bytes: Uint8Array): Weight {
  return {
    raw: bytes.byteLength,
    gzip: gzipSync(bytes, { level: 9 }).byteLength,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength,
  };
}

/** The esbuild settings every weighed bundle shares: minified browser ESM, as tsup builds dist/browser. */
const BUILD = {
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "silent",
} as const;

/** Bundles `entry` (a file path, or `{ contents, resolveDir }` for a virtual entry) and weighs it. */
export async function bundle(
  entry: string | { contents: string; resolveDir: string },
  options: { external?: string[]; nodePaths?: string[]; plugins?: Plugin[] } = {},
): Promise<{ bytes: Uint8Array; weight: Weight; inputs: Record<string, number> }> {
  const r = await build({
    ...(typeof entry === "string" ? { entryPoints: [entry] } : { stdin: { ...entry, loader: "ts" as const } }),
    ...BUILD,
    external: options.external ?? [],
    nodePaths: options.nodePaths ?? [],
    plugins: options.plugins ?? [],
    outfile: "out.js",
  });
  const out = r.outputFiles.find((f) => f.path.endsWith(".js"))!;
  const meta = r.metafile.outputs[Object.keys(r.metafile.outputs).find((k) => k.endsWith(".js"))!]!;
  const inputs: Record<string, number> = {};
  for (const [path, info] of Object.entries(meta.inputs)) inputs[path] = info.bytesInOutput;
  return { bytes: out.contents, weight: weigh(out.contents), inputs };
}

/** Bytes in the output per package (node_modules/<pkg>) or "thingwire src" for everything else. */
export function byPackage(inputs: Record<string, number>): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const [path, bytes] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1]! : path.startsWith("thingwire-mqtt:") ? "mqtt (from its sources, scripts/browser-mqtt.ts)" : path.startsWith("src/") || path.includes("/src/") ? "thingwire src" : path;
    sums.set(key, (sums.get(key) ?? 0) + bytes);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** Sum of weights: files a page downloads one by one, each compressed on its own. */
export function sumWeights(ws: Weight[]): Weight {
  return ws.reduce((a, w) => ({ raw: a.raw + w.raw, gzip: a.gzip + w.gzip, brotli: a.brotli + w.brotli }), { raw: 0, gzip: 0, brotli: 0 });
}

export interface SplitBundle {
  /** The entry file alone. */
  entry: Weight;
  /**
   * What a page loads before thingwire's code runs: the entry and every chunk it imports
   * statically (transitively). Equal to `entry` when nothing is shared with a lazy chunk.
   */
  initial: Weight;
  /** Every output file but the entry, by name, with the inputs in each; `initial` says if the page always loads it. */
  chunks: Array<{ file: string; initial: boolean; weight: Weight; inputs: Record<string, number> }>;
  /** Entry plus every chunk: what a page that uses everything downloads. */
  all: Weight;
  /** Bytes in the output per input file, all files together. */
  inputs: Record<string, number>;
}

/**
 * Bundles `entry` with code splitting, as tsup.config.ts builds dist/browser/thingwire.min.js,
 * and weighs the entry file, each chunk and their sums: files a page downloads one by one,
 * each compressed on its own.
 */
export async function bundleSplit(entry: string, options: { external?: string[]; plugins?: Plugin[] } = {}): Promise<SplitBundle> {
  const r = await build({
    entryPoints: { thingwire: entry },
    ...BUILD,
    splitting: true,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
    outdir: "out",
    chunkNames: "thingwire-[name]-[hash]",
  });
  const files = new Map(r.outputFiles.map((f) => [basename(f.path), f.contents]));
  const outputs = new Map(Object.entries(r.metafile.outputs).filter(([k]) => k.endsWith(".js")));
  const entryPath = [...outputs].find(([, o]) => o.entryPoint !== undefined)?.[0];
  if (!entryPath) throw new Error(`bundleSplit: no entry output for ${entry}`);
  // the entry's static imports, transitively: the browser fetches them before running the entry
  const initial = new Set([entryPath]);
  for (const path of initial) {
    for (const i of outputs.get(path)!.imports) if (i.kind === "import-statement" && !i.external && outputs.has(i.path)) initial.add(i.path);
  }
  const weighFile = (path: string) => {
    const bytes = files.get(basename(path));
    if (!bytes) throw new Error(`bundleSplit: ${path} not in the output`);
    return weigh(bytes);
  };
  const weights = new Map([...outputs.keys()].map((k) => [k, weighFile(k)]));
  const chunks = [...outputs].filter(([k]) => k !== entryPath).map(([k, o]) => ({
    file: basename(k),
    initial: initial.has(k),
    weight: weights.get(k)!,
    inputs: Object.fromEntries(Object.entries(o.inputs).map(([p, i]) => [p, i.bytesInOutput])),
  }));
  const inputs: Record<string, number> = {};
  for (const o of outputs.values()) for (const [p, i] of Object.entries(o.inputs)) inputs[p] = (inputs[p] ?? 0) + i.bytesInOutput;
  return {
    entry: weights.get(entryPath)!,
    initial: sumWeights([...initial].map((k) => weights.get(k)!)),
    chunks,
    all: sumWeights([...weights.values()]),
    inputs,
  };
}
