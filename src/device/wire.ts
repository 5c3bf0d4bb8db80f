/**
 * Small wire facts the outbox and inbox need: message ids, PUBLISH packet sizes, PUBACK reason
 * codes, and a content hash for redelivery detection.
 */
import { utf8Length } from "../store/store.ts";

/** The MQTT 5 user property carrying a message's id, so receivers can drop redeliveries. */
export const MESSAGE_ID_PROPERTY = "tw-id";

/** A random 96-bit message id as 24 hex digits (crypto.getRandomValues works in insecure contexts too). */
export function newMessageId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

const varintSize = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/** Size in bytes of the PUBLISH packet the outbox sends for this message. */
export function publishPacketSize(topic: string, payloadBytes: number, qos: number, v5: boolean, messageId: string): number {
  let remaining = 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + payloadBytes;
  if (v5) {
    const props = 1 + 2 + MESSAGE_ID_PROPERTY.length + 2 + utf8Length(messageId);
    remaining += varintSize(props) + props;
  }
  return 1 + varintSize(remaining) + remaining;
}

/**
 * MQTT 5 PUBACK reason codes that refuse a message for good: 135 not authorized, 144 topic name
 * invalid, 149 packet too large, 153 payload format invalid, 154 retain not supported, 155 QoS
 * not supported. Anything else ≥ 0x80 (128 unspecified, 131 implementation specific, 151 quota
 * exceeded …) is taken as transient: the message stays queued and is retried after a pause.
 */
export const PERMANENT_PUBACK_REASONS: ReadonlySet<number> = new Set([135, 144, 149, 153, 154, 155]);

/** FNV-1a 64-bit hash of the topic, a NUL and the payload, as 16 hex digits: a cheap, synchronous content key. */
export function contentKey(topic: string, payload: Uint8Array): string {
  // 64-bit arithmetic in four 16-bit limbs; the prime is 2^40 + 0x1b3.
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  const mix = (byte: number) => {
    h0 ^= byte;
    let t0 = h0 * 0x1b3, t1 = h1 * 0x1b3, t2 = h2 * 0x1b3, t3 = h3 * 0x1b3;
    t2 += h0 << 8;
    t3 += h1 << 8;
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  };
  for (const b of new TextEncoder().encode(topic)) mix(b);
  mix(0);
  for (let i = 0; i < payload.length; i++) mix(payload[i]!);
  const hex = (n: number) => n.toString(16).padStart(4, "0");
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
