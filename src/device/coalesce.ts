/**
 * One WebSocket frame per tick instead of one per chunk.
 *
 * mqtt.js serializes a packet with mqtt-packet, which writes the fixed header, topic, each
 * property and the payload as separate chunks, corking the stream around them. The Duplex that
 * mqtt.js wraps around the `ws` socket on Node and Deno has no `_writev`, so on uncork each chunk
 * becomes its own WebSocket frame (two socket writes each: 7–12 per PUBLISH). Giving that stream a
 * `_writev` lets the corked chunks (every packet written in the same tick) leave as one frame.
 * MQTT over WebSocket allows a frame to carry several packets or parts of one (MQTT 5.0 §6).
 * Streams that already gather writes — TCP and TLS sockets, mqtt.js's browser stream — are left alone.
 */

import { concatBytes } from "../codec/concat.ts";

/** The part of a Node-style Writable that this touches. */
interface WritableLike {
  _write?: (chunk: Uint8Array, encoding: string, cb: (e?: Error | null) => void) => void;
  _writev?: (chunks: { chunk: Uint8Array | string }[], cb: (e?: Error | null) => void) => void;
}

const encoder = new TextEncoder();

/** Joins chunks into one buffer (strings as UTF-8, which is how the stream would have sent them). */
export function joinChunks(chunks: readonly { chunk: Uint8Array | string }[]): Uint8Array {
  return concatBytes(chunks.map((c) => (typeof c.chunk === "string" ? encoder.encode(c.chunk) : c.chunk)));
}

/**
 * Adds a `_writev` to a stream that writes chunk by chunk, so buffered chunks go out in one
 * `_write`. No-op for anything without `_write` or with its own `_writev`. Returns whether it did.
 */
export function coalesceWrites(stream: unknown): boolean {
  const s = stream as WritableLike | null | undefined;
  if (s === null || typeof s !== "object" || typeof s._write !== "function" || typeof s._writev === "function") return false;
  const write = s._write;
  s._writev = function (this: WritableLike, chunks, cb) {
    write.call(this, joinChunks(chunks), "buffer", cb);
  };
  return true;
}
