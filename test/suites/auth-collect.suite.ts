/**
 * HTTP collect with an injected `fetch` (runs in every runtime): the request it makes, how answers
 * and failures map to errors, and that the bearer token never shows in an error. The real HTTP server
 * test is test/node/collect.test.ts.
 */
import { collect, type CollectOptions } from "../../src/device/collect.ts";
import { failsSafely } from "./auth-helpers.ts";
import type { Assert, Harness } from "./harness.ts";

const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0aGluZy00MiJ9.c2lnbmF0dXJlLXNlY3JldA";
const URL_ = "https://collect.example/v1/messages?apiKey=qs-secret-123";

interface Seen {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (seen: Seen) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const f = ((input: RequestInfo | URL, init?: RequestInit) => {
    const s = { url: String(input), init: init ?? {} };
    seen.push(s);
    return Promise.resolve(answer(s));
  }) as typeof fetch;
  return { fetch: f, seen };
}

export function authCollectSuite(h: Harness): void {
  const { test, describe } = h;
  const assert: Assert = h.assert;

  describe("collect() with an injected fetch", () => {
    test("POSTs JSON with the bearer token and returns the parsed JSON answer", async () => {
      const { fetch, seen } = fakeFetch(() => new Response(JSON.stringify({ id: 7 }), { status: 201, headers: { "content-type": "application/json; charset=utf-8" } }));
      let calls = 0;
      const r = await collect({ url: URL_, token: async () => (calls++, TOKEN), body: { temp: 21.5, tags: ["a"] }, fetch, headers: { "x-thing": "thing-42", authorization: "overridden" } });
      assert.deepEqual(r, { status: 201, body: { id: 7 } });
      assert.equal(calls, 1);
      assert.equal(seen.length, 1);
      const req = seen[0]!;
      assert.equal(req.url, URL_);
      assert.equal(req.init.method, "POST");
      const headers = new Headers(req.init.headers);
      assert.equal(headers.get("authorization"), `Bearer ${TOKEN}`);
      assert.equal(headers.get("content-type"), "application/json");
      assert.equal(headers.get("x-thing"), "thing-42");
      assert.equal(req.init.body, JSON.stringify({ temp: 21.5, tags: ["a"] }));
    });

    test("a text answer stays text; an empty one is an empty string", async () => {
      const text = fakeFetch(() => new Response("accepted", { status: 202, headers: { "content-type": "text/plain" } }));
      assert.deepEqual(await collect({ url: URL_, token: TOKEN, body: 1, fetch: text.fetch }), { status: 202, body: "accepted" });
      const empty = fakeFetch(() => new Response(null, { status: 204 }));
      assert.deepEqual(await collect({ url: URL_, token: TOKEN, body: null, fetch: empty.fetch }), { status: 204, body: "" });
    });

    test("401 → HTTP_FAILED with status 401; the token is not in the message even when the server echoes it", async () => {
      const { fetch } = fakeFetch(() => new Response(`invalid token ${TOKEN}`, { status: 401, statusText: "Unauthorized" }));
      const e = await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch }), "HTTP_FAILED", [TOKEN, "qs-secret-123"]);
      assert.equal(e.status, 401);
      assert.match(e.message, /401 Unauthorized/);
      assert.match(e.message, /\[redacted\]/);
      assert.equal(e.toJSON().status, 401);
    });

    test("500 → HTTP_FAILED with status and advice to retry", async () => {
      const { fetch } = fakeFetch(() => new Response("boom", { status: 503 }));
      const e = await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch }), "HTTP_FAILED", [TOKEN]);
      assert.equal(e.status, 503);
      assert.match(e.message, /retry/);
    });

    test("a network failure → HTTP_FAILED without status", async () => {
      const f = (() => Promise.reject(new TypeError(`fetch failed for Bearer ${TOKEN}`))) as typeof fetch;
      const e = await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch: f }), "HTTP_FAILED", [TOKEN]);
      assert.equal(e.status, undefined);
    });

    test("no answer within timeoutMs → TIMEOUT; the request is aborted", async () => {
      let aborted = false;
      const f = ((_u: RequestInfo | URL, init?: RequestInit) =>
        new Promise((_, reject) => {
          init?.signal?.addEventListener("abort", () => {
            aborted = true;
            reject(new DOMException("aborted", "AbortError"));
          });
        })) as typeof fetch;
      await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch: f, timeoutMs: 30 }), "TIMEOUT", [TOKEN]);
      assert.ok(aborted);
    });

    test("a cancelled signal → HTTP_FAILED (cancelled)", async () => {
      const ctl = new AbortController();
      ctl.abort();
      const f = ((_u: RequestInfo | URL, init?: RequestInit) =>
        init?.signal?.aborted ? Promise.reject(new DOMException("aborted", "AbortError")) : Promise.resolve(new Response("{}"))) as typeof fetch;
      const e = await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch: f, signal: ctl.signal }), "HTTP_FAILED", [TOKEN]);
      assert.match(e.message, /cancelled/);
    });

    test("token provider failures → AUTH_CREDENTIALS; nothing is sent", async () => {
      const { fetch, seen } = fakeFetch(() => new Response("{}"));
      await failsSafely(assert, () => collect({ url: URL_, token: () => Promise.reject(new Error(`no key for ${TOKEN}`)), body: {}, fetch }), "AUTH_CREDENTIALS", [TOKEN]);
      await failsSafely(assert, () => collect({ url: URL_, token: async () => 5 as never, body: {}, fetch }), "AUTH_CREDENTIALS", [TOKEN]);
      await failsSafely(assert, () => collect({ url: URL_, token: "", body: {}, fetch }), "AUTH_CREDENTIALS", [TOKEN]);
      assert.equal(seen.length, 0);
    });

    const bad: Array<[string, Partial<CollectOptions>]> = [
      ["a relative url", { url: "/v1/messages" }],
      ["an ftp url", { url: "ftp://collect.example/x" }],
      ["user info in the url", { url: `https://u:${TOKEN}@collect.example/x` }],
      ["a BigInt body", { body: { n: 1n } }],
      ["an undefined body", { body: undefined }],
      ["a zero timeout", { timeoutMs: 0 }],
      ["a non-function fetch", { fetch: "nope" as never }],
    ];
    for (const [name, patch] of bad) {
      test(`rejects ${name} with OPTIONS_INVALID`, async () => {
        const { fetch, seen } = fakeFetch(() => new Response("{}"));
        await failsSafely(assert, () => collect({ url: URL_, token: TOKEN, body: {}, fetch, ...patch }), "OPTIONS_INVALID", [TOKEN]);
        assert.equal(seen.length, 0);
      });
    }
  });
}
