/**
 * The inbox: every received message is stored (with an expiry) before any subscriber sees it, and
 * before mqtt.js acknowledges it, so a crash between the two loses nothing. Redeliveries — the
 * same `tw-id`, or a DUP-flagged copy of a message seen within the dedupe window — are not handed
 * to subscribers again. Each subscription has its own queue, so a slow or stuck handler delays
 * only itself, never the connection, the outbox or other subscriptions.
 */
import type { IPublishPacket } from "mqtt";
import { ThingwireError } from "../errors.ts";
import type { InboxEntry, InboxRecord, Store } from "../store/store.ts";
import type { Session } from "./connection.ts";
import type { Emitter } from "./emitter.ts";
import type { ResolvedOptions } from "./options.ts";
import { assertTopicFilter, topicMatches } from "./topics.ts";
import type { DeviceEvents, LogEntry, MessageHandler, ReceivedMessage } from "./types.ts";
import { contentKey, MESSAGE_ID_PROPERTY, newMessageId } from "./wire.ts";

/** Messages one subscription may be behind before further ones are only kept in the inbox. */
const MAX_QUEUE = 10_000;
const MAX_RECENT = 10_000;

interface Sub {
  filter: string;
  qos: 0 | 1;
  handler: MessageHandler;
  queue: ReceivedMessage[];
  running: boolean;
  active: boolean;
}

export interface InboxContext {
  store: Store;
  o: ResolvedOptions;
  emit: Emitter<DeviceEvents>["emit"];
  log(level: LogEntry["level"], msg: string, fields?: Record<string, unknown>): void;
}

export interface Inbox {
  /** Stores a received PUBLISH and hands it to matching subscriptions (not awaited). */
  receive(packet: IPublishPacket): Promise<void>;
  subscribe(filter: string, handler: MessageHandler, qos: 0 | 1): Promise<() => Promise<void>>;
  /** Resubscribes every filter; resolves once the broker answered (or the session ended). */
  attach(session: Session): Promise<void>;
  detach(): void;
  close(): void;
}

const bytesOf = (p: string | Uint8Array): Uint8Array =>
  typeof p === "string" ? new TextEncoder().encode(p) : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);

export function createInbox(ctx: InboxContext): Inbox {
  const { store, o, emit, log } = ctx;
  const subs = new Set<Sub>();
  const recent = new Map<string, { key: string; at: number }>();
  let session: Session | undefined;
  let detached = new Set<() => void>(); // pending SUBACK waits, released when the session ends
  let closed = false;

  function dedupeKey(packet: IPublishPacket, topic: string, payload: Uint8Array, at: number): string {
    const prop = packet.properties?.userProperties?.[MESSAGE_ID_PROPERTY];
    const id = Array.isArray(prop) ? prop[0] : prop;
    if (typeof id === "string" && id.length > 0) return `tw:${id}`;
    if (packet.qos === 0) return `u:${newMessageId()}`; // QoS 0 is never redelivered
    const h = contentKey(topic, payload);
    const windowMs = o.inbox.dedupeWindowSec * 1000;
    const prev = recent.get(h);
    if (packet.dup && prev !== undefined && at - prev.at <= windowMs) return prev.key;
    const key = `c:${h}:${newMessageId()}`;
    recent.delete(h);
    recent.set(h, { key, at });
    for (const [k, v] of recent) {
      if (recent.size <= MAX_RECENT && at - v.at <= windowMs) break;
      recent.delete(k);
    }
    return key;
  }

  function pump(sub: Sub): void {
    if (sub.running) return;
    sub.running = true;
    void (async () => {
      while (sub.active && sub.queue.length > 0) {
        const msg = sub.queue.shift()!;
        try {
          await sub.handler(msg);
        } catch (error) {
          emit("handler-error", { topic: msg.topic, seq: msg.seq, error });
        }
      }
      sub.running = false;
    })();
  }

  function dispatch(rec: InboxRecord, payload: Uint8Array): void {
    for (const sub of subs) {
      if (!topicMatches(sub.filter, rec.topic)) continue;
      if (sub.queue.length >= MAX_QUEUE) {
        emit("handler-error", {
          topic: rec.topic,
          seq: rec.seq,
          error: new ThingwireError("TIMEOUT", `the handler for ${JSON.stringify(sub.filter)} is ${MAX_QUEUE} messages behind; message ${rec.seq} was not handed to it and stays in the inbox`),
        });
        continue;
      }
      sub.queue.push({ topic: rec.topic, payload, qos: rec.qos, seq: rec.seq, receivedAt: rec.receivedAt });
      pump(sub);
    }
  }

  /** Calls `start` with a callback; resolves with its result, or undefined if the session ends first. */
  function untilAck<T>(start: (done: (v: T | undefined) => void) => void): Promise<T | undefined> {
    return new Promise((resolve) => {
      const release = () => resolve(undefined);
      detached.add(release);
      try {
        start((v) => {
          detached.delete(release);
          resolve(v);
        });
      } catch (e) {
        detached.delete(release);
        log("warn", "the MQTT client refused the request", { error: e });
        resolve(undefined);
      }
    });
  }
  /** SUBSCRIBE; resolves with the granted QoS per filter, or undefined if the session ended first. */
  const subscribeOn = (s: Session, map: Record<string, { qos: 0 | 1 }>) =>
    untilAck<number[]>((done) => s.client.subscribe(map, (err, granted) => done(err || !granted ? undefined : granted.map((g) => g.qos))));

  const filters = () => {
    const map: Record<string, { qos: 0 | 1 }> = {};
    for (const s of subs) map[s.filter] = { qos: Math.max(map[s.filter]?.qos ?? 0, s.qos) as 0 | 1 };
    return map;
  };

  const purge = () =>
    store.inbox.purge({ expiredAt: Date.now() }).catch((e) => log("warn", "purging expired inbox messages failed", { error: e }));
  const purgeTimer = setInterval(() => void purge(), o.inbox.purgeIntervalSec * 1000);
  void purge();

  return {
    async receive(packet) {
      const topic = packet.topic;
      const payload = bytesOf(packet.payload);
      const receivedAt = Date.now();
      const entry: InboxEntry = { topic, payload, qos: packet.qos, receivedAt, dedupeKey: dedupeKey(packet, topic, payload, receivedAt) };
      if (o.inbox.expireSeconds > 0) entry.expiresAt = receivedAt + o.inbox.expireSeconds * 1000;
      let put: { record: InboxRecord; duplicate: boolean };
      try {
        put = await store.inbox.put(entry);
      } catch (e) {
        log("error", "storing a received message failed; it is not acknowledged, so the broker sends it again", { error: e, topic });
        throw e;
      }
      if (put.duplicate) {
        log("debug", "dropped a redelivered message", { topic, seq: put.record.seq });
        return;
      }
      if (!closed) dispatch(put.record, payload);
    },

    async subscribe(filter, handler, qos) {
      if (closed) throw new ThingwireError("DEVICE_CLOSED", "the device is closed");
      assertTopicFilter(filter);
      if (typeof handler !== "function") throw new ThingwireError("OPTIONS_INVALID", "subscribe needs a handler function.", { path: "handler" });
      if (qos !== 0 && qos !== 1) throw new ThingwireError("OPTIONS_INVALID", `qos must be 0 or 1, got ${String(qos)}.`, { path: "qos" });
      const sub: Sub = { filter, qos, handler, queue: [], running: false, active: true };
      subs.add(sub);
      const s = session;
      if (s !== undefined) {
        const granted = await subscribeOn(s, { [filter]: { qos } });
        if (granted !== undefined && (granted[0] ?? 128) >= 128) {
          subs.delete(sub);
          throw new ThingwireError("SUBSCRIBE_REFUSED", `the broker refused the subscription to ${JSON.stringify(filter)} (SUBACK ${granted[0]}); check the device's policy or ACL`);
        }
      }
      return async () => {
        if (!sub.active) return;
        sub.active = false;
        sub.queue = [];
        subs.delete(sub);
        const cur = session;
        if (cur !== undefined && ![...subs].some((x) => x.filter === filter)) {
          await untilAck<true>((done) => cur.client.unsubscribe(filter, () => done(true)));
        }
      };
    },

    async attach(s) {
      session = s;
      const map = filters();
      if (Object.keys(map).length === 0) return;
      const granted = await subscribeOn(s, map);
      Object.keys(map).forEach((f, i) => {
        const g = granted?.[i];
        if (g !== undefined && g >= 128) log("error", `the broker refused the subscription to ${JSON.stringify(f)} after a reconnect (SUBACK ${g})`);
      });
    },
    detach() {
      session = undefined;
      const waits = detached;
      detached = new Set();
      for (const release of waits) release();
    },
    close() {
      closed = true;
      clearInterval(purgeTimer);
      for (const s of subs) (s.active = false), (s.queue = []);
      subs.clear();
    },
  };
}
