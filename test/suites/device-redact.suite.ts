/** The redactor keeps secrets (raw and URL-encoded) and URL query strings out of text, errors and log values. */
import { isThingwireError, ThingwireError } from "../../src/errors.ts";
import { createRedactor } from "../../src/device/redact.ts";
import type { Assert, Harness } from "./harness.ts";

export function deviceRedactSuite(h: Harness): void {
  const assert: Assert = h.assert;
  h.describe("device redact", () => {
    h.test("known secrets are masked raw, URL-encoded and form-encoded", () => {
      const r = createRedactor();
      const secret = "p@ss word/+=";
      r.add([secret, ""]);
      const out = r.text(`a ${secret} b ${encodeURIComponent(secret)} c ${encodeURIComponent(secret).replace(/%20/g, "+")}`);
      assert.equal(out, "a [redacted] b [redacted] c [redacted]");
    });

    h.test("URL query strings are always cut; signed URL values are learned as secrets", () => {
      const r = createRedactor();
      const url = "wss://x.iot.us-east-1.amazonaws.com/mqtt?X-Amz-Signature=0123456789abcdef&X-Amz-Security-Token=FQoGZXIvYXdzEJr%2Ftoken";
      r.addUrl(url);
      const out = r.text(`failed: ${url} (sig 0123456789abcdef, token FQoGZXIvYXdzEJr/token)`);
      assert.ok(!out.includes("0123456789abcdef"), out);
      assert.ok(!out.includes("FQoGZXIvYXdzEJr"), out);
      assert.ok(out.includes("wss://x.iot.us-east-1.amazonaws.com/mqtt?[redacted]"), out);
    });

    h.test("the longest secret wins when one contains another", () => {
      const r = createRedactor();
      r.add(["abcd", "abcdefgh"]);
      assert.equal(r.text("xabcdefghx abcd"), "x[redacted]x [redacted]");
    });

    h.test("errors are wrapped with a scrubbed message and no raw cause", () => {
      const r = createRedactor();
      r.add(["hunter2-secret"]);
      const e = r.error(new Error("bad password hunter2-secret"), "AUTH_CREDENTIALS", "preparing failed");
      assert.ok(isThingwireError(e, "AUTH_CREDENTIALS"));
      assert.equal(e.message, "preparing failed: bad password [redacted]");
      assert.equal(e.cause, undefined);
    });

    h.test("log values are walked: strings, nested objects, arrays and Error objects", () => {
      const r = createRedactor();
      r.add(["tok-123456"]);
      const v = r.value({ a: "x tok-123456", b: [{ c: "tok-123456" }], err: new Error("tok-123456 expired"), n: 3, bytes: new Uint8Array([1]) });
      const s = JSON.stringify(v);
      assert.ok(!s.includes("tok-123456"), s);
      assert.equal(v.n, 3);
      assert.ok(v.bytes instanceof Uint8Array);
      const te = new ThingwireError("TIMEOUT", "x");
      assert.equal(r.value({ te }).te, te, "ThingwireErrors pass (scrubbed where they were made)");
    });

    h.test("old secrets are forgotten after 128 newer ones, the newest always kept", () => {
      const r = createRedactor();
      for (let i = 0; i < 200; i++) r.add([`secret-number-${i}-xyz`]);
      assert.equal(r.text("secret-number-199-xyz"), "[redacted]");
      assert.equal(r.text("secret-number-100-xyz"), "[redacted]");
      assert.equal(r.text("secret-number-0-xyz"), "secret-number-0-xyz");
    });
  });
}
