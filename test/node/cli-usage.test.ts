/**
 * Every edge command as a user meets it first, under Node and Deno: `--help` (exit 0), a bad command
 * line (exit 2 with what is wrong), a missing or malformed config (exit 2 naming the file and the
 * key, in human and --json form) — and never a stack trace, whatever the config file holds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { beforeAll, describe, test } from "vitest";
import { hasStackTrace, runCli, type Runtime } from "../helpers/cli.ts";

const COMMANDS = ["run", "bootstrap", "send", "inbox", "service", "bridge"];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tw-usage-"));
  writeFileSync(join(dir, "bad-port.yml"), "flashlex:\n  thing:\n    id: t1\n    endpoint: h.example\n    keys: { privateKey: k.pem, cert: c.pem }\n    mqtt:\n      port: abc\n");
  writeFileSync(join(dir, "broken.yml"), "id: [unclosed\n");
  writeFileSync(join(dir, "missing-key.yml"), "id: t1\nbroker: mqtts://127.0.0.1:1\nauth: { type: cert, key: nope.key, cert: nope.pem }\ntopics: { egress: e/1 }\n");
});

describe.each(["node", "deno"] as Runtime[])("thingwire usage (%s)", (runtime) => {
  const flags = () => [`--allow-read=${dir}`, "--allow-env"];
  const cli = (args: string[], stdin?: string) => runCli(runtime, args, { cwd: dir, denoFlags: flags(), ...(stdin !== undefined ? { stdin } : {}) });

  test("--help for every command: exit 0, usage and exit codes", async () => {
    for (const c of COMMANDS) {
      const r = await cli([c, "--help"]);
      assert.equal(r.code, 0, `${c}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^thingwire ${c}: `), c);
      assert.match(r.stdout, /Usage:\s+thingwire/, c);
      assert.match(r.stdout, /Exit codes:/, c);
    }
  });

  test("bad command lines exit 2 and say what is wrong", async () => {
    for (const c of COMMANDS) {
      const r = await cli([c, "--config", "x.yml", "--no-such-option"]);
      assert.equal(r.code, 2, `${c}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /--no-such-option/, c);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
      const m = await cli([c]);
      assert.equal(m.code, 2, c);
      assert.match(m.stderr, /missing --config FILE/, c);
    }
  });

  test("config errors name the file and the key, exit 2, in human and JSON form", async () => {
    for (const c of ["bootstrap", "send", "inbox", "service", "run", "bridge"]) {
      const r = await cli([c, "--config", "bad-port.yml"], "x");
      assert.equal(r.code, 2, `${c}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /bad-port\.yml: flashlex\.thing\.mqtt\.port: expected an integer 1-65535, got "abc" \(line 7\)/, c);
      assert.ok(!hasStackTrace(r.stdout + r.stderr), `${c}:\n${r.stderr}`);
    }
    const nf = await cli(["send", "--config", "no-such.yml"], "x");
    assert.equal(nf.code, 2);
    assert.match(nf.stderr, /^thingwire send: no-such\.yml: no such file; check the --config path$/m);
    const broken = await cli(["inbox", "--config", "broken.yml", "--json"]);
    assert.equal(broken.code, 2);
    const j = JSON.parse(broken.stdout) as { ok: boolean; error: { code: string; message: string; file: string; line: number } };
    assert.equal(j.ok, false);
    assert.equal(j.error.code, "CONFIG_INVALID");
    assert.match(j.error.message, /^broken\.yml:\d+:\d+: not valid YAML/);
    assert.equal(j.error.file, join(dir, "broken.yml"));
    const key = await cli(["send", "--config", "missing-key.yml"], "x");
    assert.equal(key.code, 2);
    assert.match(key.stderr, /missing-key\.yml: auth\.key: cannot read .*nope\.key \(no such file\); relative key paths resolve against --keys/);
  });

  test("random config files through the CLI: a clean error, never a stack trace or a runtime warning", async () => {
    const docs = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)),
        fc.dictionary(fc.constantFrom("id", "broker", "auth", "flashlex", "thing", "topics"), fc.jsonValue({ maxDepth: 2 })).map((v) => stringify(v)),
      ),
      { numRuns: 4, seed: 42 },
    );
    docs.push("a: &a [*a, *a]\nb: [*a, *a]\n", "? [k]\n: v\n", "\u0000\u0001\u0002");
    for (const [i, text] of docs.entries()) {
      writeFileSync(join(dir, `rand-${i}.yml`), text);
      const r = await cli(["bootstrap", "--config", `rand-${i}.yml`]);
      assert.ok(r.code === 2 || r.code === 3 || r.code === 1, `exit ${r.code} for ${JSON.stringify(text)}`);
      assert.ok(!hasStackTrace(r.stdout + r.stderr), `stack trace for ${JSON.stringify(text)}:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /Warning:|internal error/, r.stderr);
    }
  }, 60_000);
});
