/**
 * `createDevice()`: a thing, connected through one MQTT client at a time. A thin composition of
 * the connection (own reconnect loop, connection.ts), the durable outbox (outbox.ts, drain.ts)
 * and the inbox (inbox.ts) over a Store.
 */
import { noAuth } from "../auth/auth.ts";
import { ThingwireError } from "../errors.ts";
import { memoryStore } from "../store/memory.ts";
import { createConnection } from "./connection.ts";
import { createEmitter } from "./emitter.ts";
import { createInbox } from "./inbox.ts";
import { resolveOptions } from "./options.ts";
import { createOutbox } from "./outbox.ts";
import { createRedactor } from "./redact.ts";
import type { Device, DeviceEvents, DeviceOptions, LogEntry } from "./types.ts";

export { assertPublishTopic, assertTopicFilter, topicFor, topicMatches } from "./topics.ts";

/**
 * Creates a device and starts connecting (on the next microtask, so listeners added right away
 * see the first status). Options are checked first: a bad one throws `OPTIONS_INVALID`.
 *
 * - `publish()` resolves once the message is in the store; the outbox sends it, in order, when
 *   online, and keeps QoS 1 messages until the broker acknowledges them (at-least-once).
 * - `subscribe()` handlers get messages after they are stored in the inbox; a handler that
 *   throws emits `handler-error`.
 * - `status` events carry every change of state with its reason; secrets never appear in them.
 * - `close()` does not close a store you passed in (it may be shared); it closes the default
 *   in-memory store it created itself.
 *
 * @example
 * ```ts
 * const device = createDevice({ url: "ws://127.0.0.1:8080", clientId: "thing-42", store: memoryStore() });
 * device.on("status", (s) => console.log(s.state, s.reason));
 * await device.subscribe("ingress/thing-42", (m) => console.log(m.topic, m.payload));
 * await device.publish("telemetry/thing-42", JSON.stringify({ t: 21.5 }));
 * await device.flush({ timeoutMs: 10_000 });
 * await device.close();
 * ```
 */
export function createDevice(options: DeviceOptions): Device {
  const o = resolveOptions(options);
  const ownStore = options.store === undefined;
  const store = options.store ?? memoryStore();
  const redactor = createRedactor();
  const sink = options.logger;
  const log = (level: LogEntry["level"], msg: string, fields: Record<string, unknown> = {}) => {
    if (sink === undefined) return;
    try {
      sink({ ...redactor.value(fields), level, msg: redactor.text(msg) });
    } catch {
      // a failing logger must not break the device
    }
  };
  const events = createEmitter<DeviceEvents>((event, error) => log("error", `a "${String(event)}" listener threw`, { error }));
  const emit = events.emit;
  const outbox = createOutbox({ store, o, emit, log });
  const inbox = createInbox({ store, o, emit, log });
  const connection = createConnection(o, options.auth ?? noAuth(), redactor, {
    status: (s) => emit("status", s),
    online(session) {
      outbox.attach(session);
      return inbox.attach(session);
    },
    offline() {
      outbox.detach();
      inbox.detach();
    },
    message: (_session, packet) => inbox.receive(packet),
    log,
  });
  queueMicrotask(() => connection.start());

  let closing: Promise<void> | undefined;
  const closedError = () => new ThingwireError("DEVICE_CLOSED", "the device is closed; create a new one");

  return {
    clientId: o.clientId,
    get status() {
      return connection.status;
    },
    on: (event, listener) => events.on(event, listener),
    publish: (topic, payload, opts) => outbox.publish(topic, payload, opts),
    subscribe: (filter, handler, opts) => inbox.subscribe(filter, handler, opts?.qos ?? 1),
    flush: (opts) => (closing ? Promise.reject(closedError()) : outbox.flush(opts?.timeoutMs)),
    inbox: {
      list: (opts) => store.inbox.list(opts),
      ack: (seqs) => store.inbox.ack(typeof seqs === "number" ? [seqs] : [...seqs], Date.now()),
      purge: (opts) => store.inbox.purge(opts),
    },
    outbox: {
      stats: () => outbox.stats(),
      deadLetters: (limit) => store.deadLetters.list(limit),
    },
    close(opts) {
      closing ??= (async () => {
        const wait = opts?.flushTimeoutMs ?? 0;
        if (wait > 0) await outbox.flush(wait).catch((e) => log("warn", "close: the outbox was not flushed", { error: e }));
        outbox.close();
        inbox.close();
        await connection.close();
        if (ownStore) await store.close().catch(() => {});
      })();
      return closing;
    },
  };
}
