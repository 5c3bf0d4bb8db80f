/**
 * Public types of a device: options, status, messages. The implementation is `createDevice`
 * in device.ts.
 */
import type { DeviceAuth } from "../auth/auth.ts";
import type { ThingwireError } from "../errors.ts";
import type { DeadLetterRecord, InboxListOptions, InboxPurgeOptions, InboxRecord, OutboxRecord, Store } from "../store/store.ts";

/** Reconnect backoff: exponential with full jitter, reset after a connection stayed up `stableMs`. */
export interface ReconnectOptions {
  /** First delay ceiling, ms. Default 1,000 (FlashLex baseReconnectQuietTimeSecond). */
  baseMs?: number;
  /** Largest delay ceiling, ms. Default 30,000 (maxReconnectQuietTimeSecond). */
  maxMs?: number;
  /** A connection that stays up this long resets the backoff, ms. Default 10,000 (stableConnectionTimeSecond). */
  stableMs?: number;
}

/** Outbox limits and pacing. */
export interface OutboxOptions {
  /** Most messages held. Default 100,000. */
  maxMessages?: number;
  /** Most bytes held (payload + topic). Default 64 MiB. */
  maxBytes?: number;
  /** When full: reject `publish()` with `STORE_FULL` (default), or drop the oldest with a `dropped` event. */
  whenFull?: "reject" | "drop-oldest";
  /** Most unacknowledged messages on the wire. Default 64. */
  inFlight?: number;
  /** Most messages sent per second while draining (FlashLex drainingFrequency); default unlimited. */
  drainRatePerSec?: number;
  /** Default time to live of a queued message, ms; default none. */
  ttlMs?: number;
  /** Largest payload accepted by `publish()`, bytes. Default 128 KiB (AWS IoT's limit). */
  maxMessageBytes?: number;
}

/** Inbox retention. */
export interface InboxOptions {
  /** Received messages expire after this many seconds (FlashLex app.db.expireSeconds). Default 86,400. */
  expireSeconds?: number;
  /**
   * Redeliveries of a message without a `tw-id` user property (an MQTT 3.1.1 or non-thingwire
   * sender) are recognised by content when the broker marks them DUP within this many seconds of
   * the original, in this process. Default 600. Messages with a `tw-id` are recognised while stored.
   */
  dedupeWindowSec?: number;
  /** How often expired inbox messages are purged, seconds. Default 60. */
  purgeIntervalSec?: number;
}

/** What the socket under mqtt.js can do in this runtime. */
export interface TransportOptions {
  /**
   * Whether TLS key material from `auth` (a client certificate's key and cert) can be handed to
   * the socket. True on Node and Deno (default). Set false in browsers, where the browser presents
   * client certificates itself: key material then fails the attempt with `AUTH_UNSUPPORTED`.
   */
  tlsKeyMaterial?: boolean;
}

/** Options of `createDevice`. */
export interface DeviceOptions {
  /** Broker URL: `ws://`, `wss://` everywhere; `mqtt://`, `mqtts://` on Node and Deno. */
  url: string;
  /** MQTT client id, usually the thing id. */
  clientId: string;
  /** How to sign in; default none. */
  auth?: DeviceAuth;
  /** Where the outbox and inbox live; default `memoryStore()` (lost on exit). */
  store?: Store;
  /** 5 (default) or 4 (MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** Keepalive interval, seconds. Default 30. */
  keepaliveSec?: number;
  /** Time allowed from opening the socket to CONNACK, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Start with a clean session. Default false, so the broker keeps QoS 1 messages for an offline device. */
  clean?: boolean;
  /** MQTT 5 session expiry, seconds, when `clean` is false. Default 3,600. */
  sessionExpirySec?: number;
  reconnect?: ReconnectOptions;
  outbox?: OutboxOptions;
  inbox?: InboxOptions;
  /** mqtt.js timers: "worker" keeps keepalive alive in background tabs; default "auto". */
  timerVariant?: "auto" | "worker" | "native";
  /** What the transport can do; default: a Node/Deno socket that accepts TLS key material. */
  transport?: TransportOptions;
  /** Structured log sink; secrets are scrubbed before it sees anything. */
  logger?: (entry: LogEntry) => void;
}

/** One structured log line. */
export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  [key: string]: unknown;
}

/**
 * Connection state. "online": connected, and the subscriptions made with `subscribe()` are in
 * place again (the broker answered their SUBSCRIBE), so a reply to a request sent now arrives.
 */
export type DeviceState = "connecting" | "online" | "offline" | "closed";

/** A change of state, with why. */
export interface DeviceStatus {
  state: DeviceState;
  /** Human-readable reason; never contains a secret or a signed URL. */
  reason: string;
  /** ms since epoch. */
  at: number;
  /** Connection attempt number since the last stable connection. */
  attempt: number;
  /** Delay before the next attempt, when state is "offline" and one is scheduled. */
  retryInMs?: number;
  /** The error behind an "offline" state, when there was one. */
  error?: ThingwireError;
}

/** Options of `publish`. */
export interface PublishOptions {
  /** 0 or 1 (default 1). */
  qos?: 0 | 1;
  retain?: boolean;
  /** Drop instead of sending after this many ms in the outbox. */
  ttlMs?: number;
}

/** What `publish` resolves to once the message is stored. */
export interface PublishReceipt {
  seq: number;
  messageId: string;
}

/** A message handed to a subscriber, after it was stored in the inbox. */
export interface ReceivedMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  /** Inbox seq: pass it to `device.inbox.ack()`. */
  seq: number;
  receivedAt: number;
}

export type MessageHandler = (message: ReceivedMessage) => void | Promise<void>;

/** Events a device emits. */
export interface DeviceEvents {
  status: DeviceStatus;
  /** Messages removed from the outbox without being sent: expired, or dropped by "drop-oldest". */
  dropped: { reason: "expired" | "overflow"; records: OutboxRecord[] };
  /** A message the broker refused for good was moved to the dead letters. */
  deadletter: DeadLetterRecord;
  /** A subscriber handler threw; the message stays in the inbox. */
  "handler-error": { topic: string; seq: number; error: unknown };
}

/** A thing, connected through one MQTT client. */
export interface Device {
  readonly clientId: string;
  /** The latest status. */
  readonly status: DeviceStatus;
  on<E extends keyof DeviceEvents>(event: E, listener: (value: DeviceEvents[E]) => void): () => void;
  /** Stores the message in the outbox; resolves once stored, not once sent. */
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): Promise<PublishReceipt>;
  /** Subscribes now and after every reconnect; returns an unsubscribe function. */
  subscribe(filter: string, handler: MessageHandler, options?: { qos?: 0 | 1 }): Promise<() => Promise<void>>;
  /** Resolves once everything queued so far is acknowledged; rejects with `TIMEOUT` after `timeoutMs`. */
  flush(options?: { timeoutMs?: number }): Promise<void>;
  /** The local message database of received messages. */
  readonly inbox: {
    list(options?: InboxListOptions): Promise<InboxRecord[]>;
    ack(seqs: number | readonly number[]): Promise<number>;
    purge(options: InboxPurgeOptions): Promise<number>;
  };
  /** The outbox as it stands. */
  readonly outbox: {
    stats(): Promise<{ count: number; bytes: number; inFlight: number }>;
    deadLetters(limit?: number): Promise<DeadLetterRecord[]>;
  };
  /** Disconnects cleanly (after trying to flush for `flushTimeoutMs`, default 0). Idempotent. */
  close(options?: { flushTimeoutMs?: number }): Promise<void>;
}
