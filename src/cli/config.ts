/**
 * Loads a thing config: one YAML or JSON file, in the thingwire shape (config-native.ts) or a
 * FlashLex `config.yml` as it is (config-flashlex.ts, recognized by its keys). Relative key paths
 * resolve against `--keys` (default: the config file's directory), as in FlashLex; a relative store
 * path against `--data`. Every problem is a `ThingwireError`: `CONFIG_NOT_FOUND` when the file
 * cannot be read, `CONFIG_INVALID` naming the file, the key path, the line and what is expected:
 *
 *   config.yml: thing.mqtt.port: expected an integer 1-65535, got "abc" (line 23)
 *
 * Whatever the file holds (random bytes, deep nesting, alias bombs), the result is a config or one
 * of these errors: never another exception.
 *
 * @example
 * ```ts
 * const cfg = await loadConfig("thing.yml", { cwd: process.cwd(), env: process.env });
 * console.log(cfg.broker.url, cfg.topics.ingress);
 * ```
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { isCollection, isPair, LineCounter, parseDocument, visit } from "yaml";
import { isThingwireError, ThingwireError } from "../errors.ts";
import { isFlashLexShape, parseFlashLexConfig } from "./config-flashlex.ts";
import { type BuildContext, parseNativeConfig } from "./config-native.ts";
import { At, type ConfigPath, type ConfigSource, type ThingConfig } from "./config-schema.ts";

export type { ThingConfig } from "./config-schema.ts";

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Relative paths (config, --keys, --data) resolve against this directory. */
  cwd: string;
  /** The environment, for secrets given by variable name. */
  env: Record<string, string | undefined>;
  /** `--keys DIR`: where relative key paths resolve (default: the config's directory). */
  keysDir?: string;
  /** `--data DIR`: where a relative store path resolves (default: the config's directory; FlashLex: `<config dir>/data`). */
  dataDir?: string;
}

/** Largest config file read, bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads and validates the config file at `file`. */
export async function loadConfig(file: string, options: LoadConfigOptions): Promise<ThingConfig> {
  const abs = isAbsolute(file) ? file : resolve(options.cwd, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(abs);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file; check the --config path"
      : code === "EACCES" || code === "EPERM"
      ? "permission denied; run as a user who can read it"
      : code === "EISDIR"
      ? "it is a directory; --config takes the config file itself"
      : `cannot read it (${code ?? "I/O error"})`;
    throw new ThingwireError("CONFIG_NOT_FOUND", `${file}: ${why}`, { file: abs });
  }
  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    throw new ThingwireError("CONFIG_INVALID", `${file}: the file is larger than 1 MiB; a thing config is a few lines of YAML or JSON`, { file: abs });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ThingwireError("CONFIG_INVALID", `${file}: the file is not UTF-8 text; expected YAML or JSON`, { file: abs });
  }
  return parseConfigText(text, { displayFile: file, file: abs }, options);
}

/**
 * Validates config text (YAML, or JSON when the file name ends in .json) as if read from `source`.
 * Exposed for tests and for tools that hold the text already.
 */
export function parseConfigText(text: string, source: { displayFile: string; file: string }, options: LoadConfigOptions): ThingConfig {
  try {
    return parseUnchecked(text, source, options);
  } catch (e) {
    if (isThingwireError(e)) throw e;
    // A bug of ours must still not reach the user as a stack trace.
    throw new ThingwireError(
      "CONFIG_INVALID",
      `${source.displayFile}: internal error while reading the config (${e instanceof Error ? e.name : typeof e}); please report it with the file`,
      { file: source.file, cause: e },
    );
  }
}

function parseUnchecked(text: string, source: { displayFile: string; file: string }, options: LoadConfigOptions): ThingConfig {
  const { doc, locate } = parseDocumentText(text, source);
  const src: ConfigSource = { ...source, locate };
  if (doc === undefined || doc === null || (typeof doc === "string" && doc.trim() === "")) {
    throw new ThingwireError(
      "CONFIG_INVALID",
      `${source.displayFile}: the file is empty; expected a mapping with id and broker (thingwire) or a FlashLex config.yml`,
      { file: source.file },
    );
  }
  const configDir = dirname(source.file);
  const keysDir = options.keysDir === undefined ? configDir : resolve(options.cwd, options.keysDir);
  const dataDir = options.dataDir === undefined ? configDir : resolve(options.cwd, options.dataDir);
  const ctx: BuildContext = {
    env: options.env,
    keysDir,
    dataDir,
    configDir,
    dataDirGiven: options.dataDir !== undefined,
    secrets: [],
    envNames: [],
    keyFiles: [],
    warnings: [],
    vars: {},
  };
  const root = new At(src, doc, []);
  const body = isFlashLexShape(doc) ? parseFlashLexConfig(root, ctx) : parseNativeConfig(root, ctx);
  return { ...body, file: source.file, displayFile: source.displayFile, keysDir };
}

interface Parsed {
  doc: unknown;
  locate: (path: ConfigPath) => { line: number; column: number } | undefined;
}

function parseDocumentText(text: string, source: { displayFile: string; file: string }): Parsed {
  const lineCounter = new LineCounter();
  const isJson = /\.json$/i.test(source.file);
  const yamlDoc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, strict: true, keepSourceTokens: false });
  const locate = (path: ConfigPath) => {
    for (let n = path.length; n >= 0; n--) {
      const node = yamlDoc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && Array.isArray(node.range)) {
        const p = lineCounter.linePos(node.range[0]);
        return { line: p.line, column: p.col };
      }
    }
    return undefined;
  };
  if (isJson) {
    try {
      return { doc: JSON.parse(text), locate };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const m = /position (\d+)/.exec(msg);
      const pos = m ? lineCounter.linePos(Number(m[1])) : undefined;
      const lc = m ? lineOf(text, Number(m[1])) : undefined;
      throw new ThingwireError(
        "CONFIG_INVALID",
        `${source.displayFile}${lc ? `:${lc.line}:${lc.column}` : ""}: not valid JSON (${msg.replace(/\s*in JSON at position \d+.*$/s, "").slice(0, 120)})`,
        { file: source.file, ...(lc ? { line: lc.line, column: lc.column } : pos ? { line: pos.line, column: pos.col } : {}) },
      );
    }
  }
  const err = yamlDoc.errors[0];
  if (err) {
    const lp = err.linePos?.[0];
    let first = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "").slice(0, 160);
    if (/Maximum call stack size exceeded|too much recursion/i.test(first)) first = "it is nested too deeply (a thing config is a few levels deep)";
    throw new ThingwireError(
      "CONFIG_INVALID",
      `${source.displayFile}${lp ? `:${lp.line}:${lp.col}` : ""}: not valid YAML: ${first}`,
      { file: source.file, ...(lp ? { line: lp.line, column: lp.col } : {}) },
    );
  }
  // A mapping key that is itself a list or mapping has no meaning here (and yaml would warn on stderr).
  let complexKey: { line: number; col: number } | undefined;
  visit(yamlDoc, {
    Pair(_, pair) {
      if (isPair(pair) && isCollection(pair.key)) {
        const r = (pair.key as { range?: [number, number, number] }).range;
        complexKey = r ? lineCounter.linePos(r[0]) : { line: 0, col: 0 };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (complexKey) {
    const at = complexKey.line > 0 ? `:${complexKey.line}:${complexKey.col}` : "";
    throw new ThingwireError("CONFIG_INVALID", `${source.displayFile}${at}: a key is a list or a mapping; keys must be plain words`, {
      file: source.file,
      ...(complexKey.line > 0 ? { line: complexKey.line, column: complexKey.col } : {}),
    });
  }
  let doc: unknown;
  try {
    doc = yamlDoc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ThingwireError(
      "CONFIG_INVALID",
      `${source.displayFile}: not usable YAML (${e instanceof Error ? e.message.split("\n")[0]!.slice(0, 120) : "bad document"})`,
      { file: source.file },
    );
  }
  return { doc, locate };
}

function lineOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** The config file's name without directories, for short messages. */
export function configName(cfg: ThingConfig): string {
  return basename(cfg.file);
}
