/**
 * The connection: thingwire's own reconnect loop around mqtt.js. Every attempt calls
 * `auth.prepare()` afresh (SigV4 URLs re-signed, tokens re-minted) and opens a new mqtt.js
 * client with `reconnectPeriod: 0`; when the attempt fails or the session ends, the loop waits a
 * backoff delay (exponential, full jitter) and tries again, until `close()`.
 *
 * Status: connecting → online → offline (reason, error, retryInMs) → connecting … → closed.
 */
import mqtt from "mqtt";
import type { IClientOptions, IConnackPacket, IPublishPacket, MqttClient } from "mqtt";
import type { DeviceAuth, PreparedConnection, TlsMaterial } from "../auth/auth.ts";
import { isThingwireError, ThingwireError } from "../errors.ts";
import { createBackoff } from "./backoff.ts";
import { coalesceWrites } from "./coalesce.ts";
import { classifyConnectError, connectionLost, safeUrl } from "./connect-errors.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Redactor } from "./redact.ts";
import type { DeviceStatus, LogEntry } from "./types.ts";

/** One established (or establishing) MQTT session: what the outbox and inbox work with. */
export interface Session {
  readonly id: number;
  readonly client: MqttClient;
  readonly protocolVersion: 4 | 5;
  /** The broker's MQTT 5 Maximum Packet Size, when its CONNACK said. */
  maximumPacketSize: number | undefined;
  /** The broker's MQTT 5 Receive Maximum, when its CONNACK said. */
  receiveMaximum: number | undefined;
}

export interface ConnectionHooks {
  status(s: DeviceStatus): void;
  /** CONNACK received; what it returns (the resubscriptions) is awaited before status "online". */
  online(session: Session): void | Promise<void>;
  offline(session: Session): void;
  /** Each received PUBLISH, before mqtt.js acknowledges it; a rejection withholds the PUBACK. */
  message(session: Session, packet: IPublishPacket): Promise<void>;
  log(level: LogEntry["level"], msg: string, fields?: Record<string, unknown>): void;
}

export interface Connection {
  readonly status: DeviceStatus;
  /** The session while online. */
  readonly session: Session | undefined;
  start(): void;
  /** Disconnects (DISCONNECT when nothing is in flight), stops the loop, emits "closed". Idempotent. */
  close(): Promise<void>;
}

const decoder = new TextDecoder();
const pem = (v: string | Uint8Array): string => (typeof v === "string" ? v : decoder.decode(v));

/** mqtt.js options for one attempt. TLS material goes where mqtt.js reads it (mqtts and wss on Node/Deno). */
export function clientOptions(o: ResolvedOptions, p: PreparedConnection): IClientOptions {
  const opts: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: o.protocolVersion,
    keepalive: o.keepaliveSec,
    connectTimeout: o.connectTimeoutMs,
    clean: o.clean,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    timerVariant: o.timerVariant,
  };
  if (o.protocolVersion === 5) opts.properties = { sessionExpiryInterval: o.clean ? 0 : o.sessionExpirySec };
  if (p.username !== undefined) opts.username = p.username;
  if (p.password !== undefined) opts.password = p.password;
  const tls: TlsMaterial | undefined = p.tls;
  if (tls !== undefined) {
    if (tls.key !== undefined) opts.key = pem(tls.key);
    if (tls.cert !== undefined) opts.cert = pem(tls.cert);
    if (tls.ca !== undefined) opts.ca = Array.isArray(tls.ca) ? tls.ca.map(pem) : pem(tls.ca);
    if (tls.rejectUnauthorized !== undefined) opts.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.servername !== undefined) {
      opts.servername = tls.servername;
      opts.wsOptions = { servername: tls.servername } as IClientOptions["wsOptions"];
    }
  }
  return opts;
}

/** Creates the connection; `start()` begins the loop. */
export function createConnection(
  o: ResolvedOptions,
  auth: DeviceAuth,
  redactor: Redactor,
  hooks: ConnectionHooks,
  random?: () => number,
): Connection {
  const backoff = createBackoff(o.reconnect, random);
  const where = safeUrl(o.url);
  let status: DeviceStatus = { state: "connecting", reason: "starting", at: Date.now(), attempt: 0 };
  let closed = false;
  let started = false;
  let sessions = 0;
  /** Attempts since the last stable connection (the one under way included). */
  let attemptNo = 0;
  let current: { client: MqttClient; session: Session; online: boolean; finish(e: ThingwireError): void } | undefined;
  let wake: (() => void) | undefined;
  let signalClosed!: () => void;
  const closedSignal = new Promise<never>((_, reject) => {
    signalClosed = () => reject(new ThingwireError("DEVICE_CLOSED", "closed by the application"));
  });
  closedSignal.catch(() => {}); // only ever raced
  let loopDone: Promise<void> = Promise.resolve();

  const setStatus = (s: Omit<DeviceStatus, "at">) => {
    status = { ...s, at: Date.now() };
    hooks.status(status);
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  async function prepare(): Promise<PreparedConnection | ThingwireError> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ThingwireError("AUTH_CREDENTIALS", `the auth provider did not prepare the connection within ${o.connectTimeoutMs} ms`)),
          o.connectTimeoutMs,
        );
      });
      const p = await Promise.race([auth.prepare({ url: o.url, clientId: o.clientId }, new Date()), timeout, closedSignal]);
      redactor.add(p.secrets ?? []);
      redactor.addUrl(p.url);
      if (p.password) redactor.add([p.password]);
      return p;
    } catch (e) {
      if (isThingwireError(e)) return new ThingwireError(e.code, redactor.text(e.message), e.path === undefined ? {} : { path: e.path });
      return redactor.error(e, "AUTH_CREDENTIALS", "preparing the credentials failed");
    } finally {
      clearTimeout(timer);
    }
  }

  function attempt(p: PreparedConnection): Promise<ThingwireError> {
    let client: MqttClient;
    try {
      client = mqtt.connect(p.url, clientOptions(o, p));
      coalesceWrites(client.stream);
    } catch (e) {
      return Promise.resolve(redactor.error(e, "CONNECT_FAILED", `cannot open ${where}`));
    }
    const session: Session = { id: ++sessions, client, protocolVersion: o.protocolVersion, maximumPacketSize: undefined, receiveMaximum: undefined };
    return new Promise((resolve) => {
      let online = false;
      let done = false;
      let lastError: unknown;
      let streamError: unknown;
      let serverDisconnect: string | undefined;
      let stableTimer: ReturnType<typeof setTimeout> | undefined;
      const finish = (err: ThingwireError) => {
        if (done) return;
        done = true;
        clearTimeout(stableTimer);
        current = undefined;
        // Our handlers are guarded by `done`; removing every listener would also remove
        // mqtt.js's own, which clear its connack timer and would keep the process alive.
        client.end(true);
        if (online) hooks.offline(session);
        resolve(err);
      };
      current = { client, session, online, finish };
      // Store before acknowledging: mqtt.js sends the PUBACK when this calls back.
      client.handleMessage = (packet, cb) => {
        hooks.message(session, packet).then(() => cb(), (e: unknown) => cb(e instanceof Error ? e : new ThingwireError("STORE_IO", String(e))));
      };
      client.stream?.on?.("error", (e: unknown) => {
        streamError = e;
      });
      client.on("error", (e) => {
        lastError = e;
        if (!online) finish(classifyConnectError(e, o, redactor));
      });
      client.on("disconnect", (packet) => {
        serverDisconnect = `the broker sent DISCONNECT (reason code ${packet.reasonCode ?? 0}${packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : ""})`;
      });
      client.on("connect", (connack: IConnackPacket) => {
        if (done) return;
        online = true;
        if (current?.client === client) current.online = true;
        session.maximumPacketSize = connack.properties?.maximumPacketSize;
        session.receiveMaximum = connack.properties?.receiveMaximum;
        stableTimer = setTimeout(() => {
          backoff.reset();
          attemptNo = 0;
        }, o.reconnect.stableMs);
        // "online" once the subscriptions are back in place (their SUBACKs), so a listener that
        // publishes a request on "online" also gets the reply; not if the session ended meanwhile.
        const announce = () => {
          if (done || current?.client !== client) return;
          setStatus({ state: "online", reason: `connected to ${where} (MQTT ${o.protocolVersion === 5 ? "5" : "3.1.1"})`, attempt: attemptNo });
        };
        const ready = hooks.online(session);
        if (ready === undefined) announce();
        else ready.then(announce, announce);
      });
      client.on("close", () => {
        if (online) finish(connectionLost(serverDisconnect, lastError ?? streamError, redactor));
        else finish(classifyConnectError(lastError ?? streamError, o, redactor));
      });
    });
  }

  async function loop(): Promise<void> {
    while (!closed) {
      const n = ++attemptNo;
      setStatus({ state: "connecting", reason: n === 1 ? `connecting to ${where}` : `reconnecting to ${where} (attempt ${n})`, attempt: n });
      const prepared = await prepare();
      if (closed) break;
      let error: ThingwireError;
      if (prepared instanceof ThingwireError) error = prepared;
      else if (!o.tlsKeyMaterial && (prepared.tls?.key !== undefined || prepared.tls?.cert !== undefined)) {
        error = new ThingwireError(
          "AUTH_UNSUPPORTED",
          "this transport cannot present a client certificate from key material (a browser presents its own); install the certificate in the browser and drop key/cert from the auth options",
        );
      } else error = await attempt(prepared);
      if (closed) break;
      const delay = backoff.next();
      hooks.log(error.code === "CONNECTION_LOST" ? "warn" : "info", error.message, { code: error.code, retryInMs: delay });
      setStatus({ state: "offline", reason: error.message, error, retryInMs: delay, attempt: n });
      await sleep(delay);
    }
  }

  return {
    get status() {
      return status;
    },
    get session() {
      return current?.online ? current.session : undefined;
    },
    start() {
      if (started || closed) return;
      started = true;
      loopDone = loop().catch((e: unknown) => hooks.log("error", "connection loop failed", { error: e }));
    },
    async close() {
      if (closed) return;
      closed = true;
      signalClosed();
      wake?.();
      const c = current;
      if (c !== undefined) await endGracefully(c.client);
      c?.finish(new ThingwireError("DEVICE_CLOSED", "closed by the application"));
      await loopDone;
      setStatus({ state: "closed", reason: "closed by the application", attempt: status.attempt });
    },
  };
}

/** Sends DISCONNECT when connected and nothing is in flight (waits ≤ 1 s for that), else drops the socket. */
function endGracefully(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    const safety = setTimeout(resolve, 2_000);
    const end = () => {
      client.end(!client.connected || Object.keys(client.outgoing).length > 0, () => {
        clearTimeout(safety);
        resolve();
      });
    };
    if (client.connected && Object.keys(client.outgoing).length > 0) {
      const t = setTimeout(end, 1_000);
      client.once("outgoingEmpty", () => {
        clearTimeout(t);
        end();
      });
    } else end();
  });
}
