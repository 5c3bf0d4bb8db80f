/**
 * The http handler: a webhook. POSTs (or PUTs) each message to a URL — as JSON
 * (`{"seq","topic","qos","receivedAt","bytes","payload"|"payloadBase64"}`, the default) or as the
 * raw payload with `x-thingwire-topic` / `x-thingwire-seq` headers — and succeeds on a 2xx answer.
 * Anything else (a 5xx, a refused connection, a timeout) throws, so the message is retried with
 * backoff and stays in the inbox meanwhile. Header values are treated as secrets.
 *
 * @example
 * ```yaml
 * handlers:
 *   - type: http
 *     url: https://example.com/hooks/telemetry
 *     headers: { authorization: "Bearer …" }
 *     timeoutMs: 5000
 * ```
 */
import { ThingwireError } from "../../errors.ts";
import type { HandlerConfig } from "../config-schema.ts";
import type { Handler, HandlerContext } from "./handler.ts";
import { messageJson } from "./payload.ts";

/** A webhook handler. */
export function httpHandler(c: Extract<HandlerConfig, { type: "http" }>, ctx: HandlerContext): Handler {
  const where = (() => {
    const u = new URL(c.url);
    return `${u.origin}${u.pathname}`;
  })();
  return {
    name: c.name,
    async handle(message) {
      const headers: Record<string, string> = { ...c.headers };
      let body: BodyInit;
      if (c.body === "json") {
        headers["content-type"] = "application/json";
        body = JSON.stringify(messageJson(message));
      } else {
        headers["content-type"] = "application/octet-stream";
        headers["x-thingwire-topic"] = encodeURIComponent(message.topic);
        headers["x-thingwire-seq"] = String(message.seq);
        body = message.payload.slice();
      }
      let res: Response;
      try {
        res = await fetch(c.url, { method: c.method, headers, body, signal: AbortSignal.timeout(c.timeoutMs) });
      } catch (e) {
        const timeout = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
        throw new ThingwireError(timeout ? "TIMEOUT" : "HTTP_FAILED", timeout
          ? `${where} did not answer within ${c.timeoutMs} ms`
          : `cannot reach ${where} (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)})`);
      }
      // Drain the body so the connection can be reused; its content is not ours to log.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) {
        throw new ThingwireError("HTTP_FAILED", `${where} answered ${res.status} ${res.statusText}`.trim(), { status: res.status });
      }
      void ctx;
    },
  };
}
