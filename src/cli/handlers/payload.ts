/**
 * How handlers render a message as JSON: payload as text when it is printable UTF-8, else base64.
 *
 * @example
 * ```ts
 * messageJson({ topic: "t", payload: new TextEncoder().encode("hi"), qos: 1, seq: 3, receivedAt: 0 });
 * // { seq: 3, topic: "t", qos: 1, receivedAt: "1970-01-01T00:00:00.000Z", bytes: 2, payload: "hi" }
 * ```
 */
import type { HandlerMessage } from "./handler.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The payload as text when it is printable UTF-8 (newlines and tabs allowed), else undefined. */
export function printableText(p: Uint8Array): string | undefined {
  try {
    const s = decoder.decode(p);
    // deno-lint-ignore no-control-regex
    return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s) ? undefined : s;
  } catch {
    return undefined;
  }
}

/** Standard base64 of bytes. */
export function base64(p: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < p.length; i += 0x8000) bin += String.fromCharCode(...p.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A message as a JSON object. */
export function messageJson(m: HandlerMessage): Record<string, unknown> {
  const t = printableText(m.payload);
  return {
    seq: m.seq,
    topic: m.topic,
    qos: m.qos,
    receivedAt: new Date(m.receivedAt).toISOString(),
    bytes: m.payload.byteLength,
    ...(t !== undefined ? { payload: t } : { payloadBase64: base64(m.payload) }),
  };
}
