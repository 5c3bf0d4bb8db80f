/**
 * `thingwire inbox`: the local message database (FlashLex's message DB) — list the messages the
 * thing received, acknowledge them, purge them. Opens the SQLite store from the config directly;
 * no broker needed, and safe while `thingwire run` is running on the same file.
 *
 * @example
 * ```sh
 * thingwire inbox --config thing.yml list
 * thingwire inbox --config thing.yml ack 3 4
 * thingwire inbox --config thing.yml purge --acked
 * ```
 */
import { existsSync } from "node:fs";
import { ThingwireError } from "../errors.ts";
import type { InboxRecord, Store } from "../store/store.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { configOptions, configOptionsHelp, flag, parseCommandArgs, reportError, requireConfig, str } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { EXIT } from "./command.ts";
import { loadConfig, type ThingConfig } from "./config.ts";
import { messageJson, printableText } from "./handlers/payload.ts";

const usage = `thingwire inbox: the local message database of received messages

Usage:
  thingwire inbox --config FILE [list] [--all] [--limit N] [--after SEQ]
  thingwire inbox --config FILE ack SEQ [SEQ...]
  thingwire inbox --config FILE purge (--acked | --expired | --all)

  list     messages not yet acknowledged, oldest first (--all: acknowledged ones too)
  ack      mark messages as handled (they stay until purged or expired)
  purge    delete acknowledged (--acked), expired (--expired) or all (--all) messages

Options:
${configOptionsHelp}
      --all           list: include acknowledged messages; purge: delete everything
      --acked         purge acknowledged messages
      --expired       purge messages past their expiry (inbox.expireSeconds)
      --limit N       list at most N messages (default 100)
      --after SEQ     list messages after this seq

Exit codes: 0 ok, 1 a seq to ack was not found or the store failed, 2 usage or config error.
`;

/** A record as JSON: payload as text when printable, else base64. */
export function recordJson(r: InboxRecord): Record<string, unknown> {
  const { bytes, payload, payloadBase64, ...head } = messageJson(r);
  return {
    ...head,
    ...(r.expiresAt !== undefined ? { expiresAt: new Date(r.expiresAt).toISOString() } : {}),
    ...(r.ackedAt !== undefined ? { ackedAt: new Date(r.ackedAt).toISOString() } : {}),
    bytes,
    ...(payload !== undefined ? { payload } : { payloadBase64 }),
  };
}

function preview(p: Uint8Array, width: number): string {
  const t = printableText(p);
  const s = t !== undefined ? JSON.stringify(t).slice(1, -1) : `0x${Array.from(p.subarray(0, width / 2), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  return s.length > width ? s.slice(0, width - 1) + "…" : s;
}

function table(records: InboxRecord[]): string {
  const rows = records.map((r) => [
    String(r.seq),
    new Date(r.receivedAt).toISOString(),
    r.topic,
    String(r.payload.byteLength),
    r.ackedAt !== undefined ? "yes" : "",
    preview(r.payload, 60),
  ]);
  const head = ["seq", "received", "topic", "bytes", "acked", "payload"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 || i === 3 ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [fmt(head), ...rows.map(fmt)].join("\n") + "\n";
}

function storePath(cfg: ThingConfig): string {
  if (cfg.store.kind !== "sqlite") {
    throw new ThingwireError("CONFIG_INVALID", `${cfg.displayFile}: store: is "memory", which keeps no inbox after the process ends; set store to a SQLite file path`, {
      path: "store",
      file: cfg.file,
    });
  }
  return cfg.store.path;
}

function seqArg(s: string): number {
  if (!/^\d{1,15}$/.test(s) || Number(s) < 1) throw new ThingwireError("CLI_USAGE", `"${s.slice(0, 40)}" is not a message seq (a whole number from inbox list)`);
  return Number(s);
}

const command: Command = {
  name: "inbox",
  summary: "list, acknowledge or purge the local message database",
  usage,
  async run(argv: string[], io: CliIO): Promise<number> {
    let json = argv.includes("--json");
    let store: Store | undefined;
    try {
      const args = parseCommandArgs(argv, {
        ...configOptions,
        all: { type: "boolean" },
        acked: { type: "boolean" },
        expired: { type: "boolean" },
        limit: { type: "string" },
        after: { type: "string" },
      }, true);
      json = flag(args, "json");
      const file = requireConfig(args);
      const [action = "list", ...rest] = args.positionals;
      if (action !== "list" && action !== "ack" && action !== "purge") {
        throw new ThingwireError("CLI_USAGE", `unknown action "${action.slice(0, 40)}": use list, ack or purge`);
      }
      if (action !== "ack" && rest.length > 0) throw new ThingwireError("CLI_USAGE", `${action} takes no arguments, got "${rest[0]!.slice(0, 40)}"`);
      const seqs = action === "ack" ? rest.map(seqArg) : [];
      if (action === "ack" && seqs.length === 0) throw new ThingwireError("CLI_USAGE", "ack needs at least one message seq (see inbox list)");
      if (action === "purge" && !flag(args, "acked") && !flag(args, "expired") && !flag(args, "all")) {
        throw new ThingwireError("CLI_USAGE", "purge needs --acked, --expired or --all");
      }
      let limit = 100;
      if (str(args, "limit") !== undefined) {
        const l = str(args, "limit")!;
        if (!/^\d{1,7}$/.test(l) || Number(l) < 1) throw new ThingwireError("CLI_USAGE", `--limit: expected a whole number >= 1, got "${l.slice(0, 40)}"`);
        limit = Number(l);
      }
      const after = str(args, "after") === undefined ? undefined : seqArg(str(args, "after")!);

      const cfg = await loadConfig(file, {
        cwd: io.cwd,
        env: io.env,
        ...(str(args, "keys") ? { keysDir: str(args, "keys")! } : {}),
        ...(str(args, "data") ? { dataDir: str(args, "data")! } : {}),
      });
      const path = storePath(cfg);
      if (!existsSync(path)) {
        // Nothing was ever received: do not create the file just to say so.
        if (action === "list") {
          if (json) io.stdout(JSON.stringify({ ok: true, store: path, messages: [] }) + "\n");
          else io.stdout(`no messages (${path} does not exist yet; \`thingwire run\` creates it)\n`);
          return EXIT.OK;
        }
        if (action === "ack") {
          if (json) io.stdout(JSON.stringify({ ok: false, acked: 0, requested: seqs.length }) + "\n");
          else io.stderr(`thingwire inbox: no message found: ${path} does not exist yet (nothing was received)\n`);
          return EXIT.FAILED;
        }
        if (action === "purge") {
          if (json) io.stdout(JSON.stringify({ ok: true, store: path, purged: 0 }) + "\n");
          else io.stdout("purged 0 messages\n");
          return EXIT.OK;
        }
      }
      store = await openSqliteStore(path);

      if (action === "list") {
        const records = await store.inbox.list({ includeAcked: flag(args, "all"), limit, ...(after !== undefined ? { afterSeq: after } : {}) });
        if (json) io.stdout(JSON.stringify({ ok: true, store: path, messages: records.map(recordJson) }) + "\n");
        else if (records.length === 0) io.stdout(`no ${flag(args, "all") ? "" : "unacknowledged "}messages in ${path}\n`);
        else io.stdout(table(records));
        return EXIT.OK;
      }
      if (action === "ack") {
        const unique = [...new Set(seqs)];
        const found = await store.inbox.ack(unique, Date.now());
        const missing = found < unique.length;
        if (json) io.stdout(JSON.stringify({ ok: !missing, acked: found, requested: unique.length }) + "\n");
        else {
          io.stdout(`acknowledged ${found} of ${unique.length} message${unique.length === 1 ? "" : "s"}\n`);
          if (missing) io.stderr(`thingwire inbox: ${unique.length - found} seq(s) not found; see \`thingwire inbox --config ${file} list --all\`\n`);
        }
        return missing ? EXIT.FAILED : EXIT.OK;
      }
      const n = await store.inbox.purge(
        flag(args, "all") ? { all: true } : { ...(flag(args, "acked") ? { acked: true } : {}), ...(flag(args, "expired") ? { expiredAt: Date.now() } : {}) },
      );
      if (json) io.stdout(JSON.stringify({ ok: true, purged: n }) + "\n");
      else io.stdout(`purged ${n} message${n === 1 ? "" : "s"}\n`);
      return EXIT.OK;
    } catch (e) {
      return reportError(io, "inbox", e, json);
    } finally {
      await store?.close().catch(() => {});
    }
  },
};

export default command;
