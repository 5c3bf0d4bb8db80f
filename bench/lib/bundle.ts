/**
 * Bundle weight: esbuild (minified, ESM, browser platform, es2022), then raw / gzip (level 9) /
 * brotli (quality 11) sizes from node:zlib. The same settings for thingwire and the baselines.
 */
import { build } from "esbuild";
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

/** Bundles `entry` (a file path, or `{ contents, resolveDir }` for a virtual entry) and weighs it. */
export async function bundle(
  entry: string | { contents: string; resolveDir: string },
  options: { external?: string[]; nodePaths?: string[] } = {},
): Promise<{ bytes: Uint8Array; weight: Weight; inputs: Record<string, number> }> {
  const r = await build({
    ...(typeof entry === "string" ? { entryPoints: [entry] } : { stdin: { ...entry, loader: "ts" as const } }),
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external: options.external ?? [],
    nodePaths: options.nodePaths ?? [],
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
    const key = m ? m[1]! : path.startsWith("src/") || path.includes("/src/") ? "thingwire src" : path;
    sums.set(key, (sums.get(key) ?? 0) + bytes);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}
