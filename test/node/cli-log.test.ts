/**
 * The CLI's JSON-lines logger and secret scrubbing, and the error → exit code mapping.
 */
import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { ThingwireError } from "../../src/errors.ts";
import { describeError, exitCodeFor, parseCommandArgs } from "../../src/cli/args.ts";
import { createJsonLogger, safeUrl, scrubText, scrubValue } from "../../src/cli/log.ts";

const PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgabcdefghijklmnop
qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/abcdefghijklmnop
-----END PRIVATE KEY-----
`;

describe("scrubbing", () => {
  test("known secrets, URL-encoded forms and PEM lines are replaced", () => {
    assert.equal(scrubText("pw=hunter22 and again hunter22", ["hunter22"]), "pw=*** and again ***");
    assert.equal(scrubText("token a%2Fb%2Bc%3D%3D in a URL", ["a/b+c=="]), "token *** in a URL");
    const line = PEM.split("\n")[1]!;
    assert.equal(scrubText(`leaked line: ${line}`, [PEM]), "leaked line: ***");
    assert.equal(scrubText("short ab stays", ["ab"]), "short ab stays", "secrets under 4 characters are not scrubbed (too many false hits)");
  });

  test("secret-shaped text is replaced whatever its source", () => {
    const url = "wss://h/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1&X-Amz-Signature=abc123def&X-Amz-Security-Token=FQoG%2Bxyz";
    const s = scrubText(url);
    assert.doesNotMatch(s, /abc123def|FQoG|AKID/);
    assert.match(s, /X-Amz-Signature=\*\*\*/);
    assert.equal(scrubText("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"), "Authorization: Bearer ***");
    assert.equal(scrubText("jwt eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0In0.sig_nature-x here"), "jwt *** here");
    assert.equal(scrubText(`key: ${PEM}`), "key: -----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----\n");
    assert.equal(scrubText("mqtt://user:pa55word@host:1883"), "mqtt://user:***@host:1883");
  });

  test("scrubValue: deep, keys named like secrets, errors, bytes, cycles", () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const v = scrubValue({ password: "x", nested: [{ msg: "with s3cret-1" }], err: new ThingwireError("AUTH_REJECTED", "bad s3cret-1"), bytes: new Uint8Array(3), cyc }, ["s3cret-1"]);
    assert.deepEqual(v, { password: "***", nested: [{ msg: "with ***" }], err: { code: "AUTH_REJECTED", message: "bad ***" }, bytes: "<3 bytes>", cyc: { a: 1, self: "[circular]" } });
  });

  test("createJsonLogger: one JSON object per line, level filter, secrets read at each call", () => {
    const lines: string[] = [];
    const secrets: string[] = [];
    const log = createJsonLogger((l) => lines.push(l), () => secrets, "info");
    log({ level: "debug", msg: "hidden" });
    secrets.push("minted-token-1");
    log({ level: "info", msg: "status", reason: "connected with minted-token-1" });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith("\n"));
    const o = JSON.parse(lines[0]!);
    assert.equal(o.level, "info");
    assert.equal(o.msg, "status");
    assert.equal(o.reason, "connected with ***");
    assert.match(o.ts, /^\d{4}-\d\d-\d\dT/);
  });

  test("safeUrl drops the query and credentials", () => {
    assert.equal(safeUrl("wss://u:p@h:443/mqtt?X-Amz-Signature=x"), "wss://h/mqtt");
    assert.equal(safeUrl("mqtt://127.0.0.1:1883"), "mqtt://127.0.0.1:1883");
  });
});

describe("args", () => {
  test("exit codes: usage/config 2, unreachable 3, else 1", () => {
    assert.equal(exitCodeFor(new ThingwireError("CONFIG_INVALID", "x")), 2);
    assert.equal(exitCodeFor(new ThingwireError("CONFIG_NOT_FOUND", "x")), 2);
    assert.equal(exitCodeFor(new ThingwireError("CLI_USAGE", "x")), 2);
    assert.equal(exitCodeFor(new ThingwireError("CONNECT_FAILED", "x")), 3);
    assert.equal(exitCodeFor(new ThingwireError("STORE_IO", "x")), 1);
    assert.equal(exitCodeFor(new Error("x")), 1);
  });

  test("a malformed command line is CLI_USAGE naming the option", () => {
    assert.throws(() => parseCommandArgs(["--nope"], { config: { type: "string" } }), (e: unknown) => e instanceof ThingwireError && e.code === "CLI_USAGE" && /--nope/.test(e.message));
    assert.throws(() => parseCommandArgs(["--config"], { config: { type: "string" } }), (e: unknown) => e instanceof ThingwireError && e.code === "CLI_USAGE" && /--config/.test(e.message));
    assert.equal(describeError(new RangeError("r")), "RangeError: r");
  });
});
