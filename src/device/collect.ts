/**
 * HTTP collect: POST one JSON document to an endpoint with `Authorization: Bearer <device JWT>`,
 * the HTTP path beside MQTT (FlashLex collectmessage.py). Uses `fetch`, so it runs everywhere.
 */
import { ThingwireError } from "../errors.ts";

/**
 * Options of `collect`.
 *
 * @example
 * ```ts
 * const o: CollectOptions = { url: "https://collect.example/v1", token: deviceJwt(jwtOptions), body: { temp: 21.5 } };
 * ```
 */
export interface CollectOptions {
  /** The collect endpoint, `https://…` (or `http://` on a trusted network). */
  url: string;
  /** The bearer token, or a provider called for this request (e.g. `deviceJwt({...})`). */
  token: string | (() => string | Promise<string>);
  /** The document to send; serialized with `JSON.stringify`. */
  body: unknown;
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Whole request, headers and body, in ms; default 10,000. */
  timeoutMs?: number;
  /** Extra request headers (`authorization` and `content-type` are set by collect). */
  headers?: Record<string, string>;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * A 2xx answer.
 *
 * @example
 * ```ts
 * const { status, body }: CollectResult = await collect(options);
 * ```
 */
export interface CollectResult {
  status: number;
  /** The response body: parsed JSON when the server says it is JSON, else text ("" when empty). */
  body: unknown;
}

const bad = (message: string, path: string) => new ThingwireError("OPTIONS_INVALID", message, { path });

function redact(text: string, token: string): string {
  return token === "" ? text : text.split(token).join("[redacted]");
}

function hint(status: number): string {
  if (status === 401 || status === 403) return "the server refused the token: check the device key, and the token's audience and issuer";
  if (status === 404) return "check the collect URL";
  if (status === 413) return "the document is too large for the endpoint";
  if (status >= 500) return "the server failed; retry later";
  return "check the request the endpoint expects";
}

/**
 * POSTs `body` as JSON with `Authorization: Bearer <token>` and resolves with the 2xx answer.
 * Failures are `ThingwireError`s: `HTTP_FAILED` (with `status` for an HTTP answer outside 2xx, without
 * it for a network error), `TIMEOUT`, `AUTH_CREDENTIALS` when the token provider fails, `OPTIONS_INVALID`.
 * No message ever contains the token.
 *
 * @example
 * ```ts
 * const token = deviceJwt({ privateKey: pkcs8Pem, alg: "ES256", thingId: "thing-42", audience: "collect" });
 * const { status } = await collect({ url: "https://collect.example/v1/messages", token, body: { temp: 21.5 } });
 * ```
 */
export async function collect(options: CollectOptions): Promise<CollectResult> {
  if (typeof options !== "object" || options === null) throw bad("collect needs an options object { url, token, body }", "url");
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw bad("url must be an absolute http:// or https:// URL", "url");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw bad("url must be an http:// or https:// URL", "url");
  if (url.username !== "" || url.password !== "") throw bad("url must not carry user information; the token authenticates", "url");
  const where = `${url.origin}${url.pathname}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw bad("timeoutMs must be a positive number", "timeoutMs");
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") throw bad("no fetch in this runtime: pass options.fetch", "fetch");
  if (options.headers !== undefined && (typeof options.headers !== "object" || options.headers === null)) throw bad("headers must be an object of strings", "headers");

  let json: string | undefined;
  try {
    json = JSON.stringify(options.body);
  } catch (e) {
    throw new ThingwireError("OPTIONS_INVALID", "body cannot be serialized as JSON (a BigInt or a cycle?)", { path: "body", cause: e });
  }
  if (json === undefined) throw bad("body must be a JSON value (not undefined or a function)", "body");

  let token: unknown = options.token;
  if (typeof token === "function") {
    try {
      token = await (options.token as () => string | Promise<string>)();
    } catch (e) {
      throw new ThingwireError("AUTH_CREDENTIALS", "the token provider failed; check the device key and what the provider depends on", { path: "token", cause: e });
    }
  }
  if (typeof token !== "string" || token === "") {
    throw new ThingwireError("AUTH_CREDENTIALS", "the token must be a non-empty string (or a provider returning one)", { path: "token" });
  }
  const secret = token;

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();

  try {
    let response: Response;
    let text: string;
    try {
      response = await fetchFn(url.href, {
        method: "POST",
        headers: { accept: "application/json", ...options.headers, "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: json,
        signal: controller.signal,
      });
      text = await response.text();
    } catch (e) {
      if (timedOut) throw new ThingwireError("TIMEOUT", `HTTP collect to ${where} got no answer within ${timeoutMs} ms; check the endpoint is reachable`);
      if (options.signal?.aborted) throw new ThingwireError("HTTP_FAILED", `HTTP collect to ${where} was cancelled`);
      const why = e instanceof Error ? redact(e.message, secret) : "network error";
      throw new ThingwireError("HTTP_FAILED", `HTTP collect to ${where} failed before an answer (${why}); check the URL and the network`, { cause: e });
    }
    if (!response.ok) {
      const snippet = redact(text, secret).replace(/\s+/g, " ").trim().slice(0, 200);
      const status = `${response.status}${response.statusText ? ` ${redact(response.statusText, secret)}` : ""}`;
      throw new ThingwireError("HTTP_FAILED", `HTTP collect to ${where} answered ${status}: ${hint(response.status)}${snippet ? ` (server said: ${snippet})` : ""}`, {
        status: response.status,
      });
    }
    let body: unknown = text;
    if (text !== "" && /\bjson\b/i.test(response.headers.get("content-type") ?? "")) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, body };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
