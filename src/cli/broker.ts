/**
 * The embedded development broker: aedes (pure JavaScript, MQTT 3.1.1) on localhost with a
 * WebSocket listener (subprotocol "mqtt"), and optionally plain TCP, MQTT over TLS and secure
 * WebSockets. Used by `thingwire broker`, `npm run demo` and tests. Runs on Node and Deno.
 *
 * @example
 * ```ts
 * const broker = await startBroker({ wsPort: 8080, tcpPort: 1883 });
 * console.log(broker.wsUrl); // ws://127.0.0.1:8080
 * await broker.close();
 * ```
 */
import { Aedes, type AedesOptions } from "aedes";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import { createWebSocketStream, type WebSocket, WebSocketServer } from "ws";

export interface BrokerTlsOptions {
  /** PEM private key of the server certificate. */
  key: string | Uint8Array;
  /** PEM server certificate (chain). */
  cert: string | Uint8Array;
  /** PEM CA(s) that client certificates must chain to (with `requestCert`). */
  ca?: string | Uint8Array;
  /** Ask for a client certificate and refuse clients without a valid one. Default false. */
  requestCert?: boolean;
  /**
   * MQTT over TLS (mqtts://) port; 0 = a free port. Default: 0 when `wsPort` is not given; when only
   * `wsPort` is given there is no mqtts listener.
   */
  port?: number;
  /** Also serve secure WebSockets (wss://) on this port; 0 = a free port. Default: no wss. */
  wsPort?: number;
}

export interface BrokerOptions {
  /** Interface to bind. Default "127.0.0.1". */
  host?: string;
  /** WebSocket port; 0 = a free port. Default 0. */
  wsPort?: number;
  /** Plain MQTT over TCP port (0 = a free port). Default: no TCP listener. */
  tcpPort?: number;
  /** MQTT over TLS (and optionally wss). Default: none. */
  tls?: BrokerTlsOptions;
  /** Receives one line per client event (connect, disconnect, error). Default: silent. */
  log?: (line: string) => void;
  /** Options passed to aedes (authenticate, authorizePublish, …). */
  aedes?: AedesOptions;
}

export interface EmbeddedBroker {
  /** ws://host:port */
  wsUrl: string;
  wsPort: number;
  /** mqtt://host:port when `tcpPort` was given. */
  tcpUrl?: string;
  tcpPort?: number;
  /** mqtts://host:port when `tls` was given. */
  tlsUrl?: string;
  tlsPort?: number;
  /** wss://host:port when `tls.wsPort` was given. */
  wssUrl?: string;
  wssPort?: number;
  /** The aedes instance (for hooks and events). */
  aedes: Aedes;
  /** Closes every listener and connection, then aedes. Idempotent. */
  close(): Promise<void>;
}

/** Thrown when a port cannot be bound; `code` is the system error code (e.g. "EADDRINUSE"). */
export class BrokerListenError extends Error {
  readonly code: string;
  readonly port: number;
  constructor(what: string, host: string, port: number, cause: unknown) {
    const code = (cause as { code?: string })?.code ?? "ELISTEN";
    const why = code === "EADDRINUSE"
      ? "the port is already in use; pick another port (0 = any free port) or stop the other process"
      : code === "EACCES"
      ? "permission denied; ports below 1024 need privileges, pick a higher port"
      : String((cause as Error)?.message ?? cause);
    super(`cannot listen for ${what} on ${host}:${port}: ${why}`, { cause });
    this.name = "BrokerListenError";
    this.code = code;
    this.port = port;
  }
}

type Listening = { close(): Promise<void>; port: number };

function listen(server: NetServer | HttpServer, what: string, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(new BrokerListenError(what, host, port, e));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** Tracks sockets so close() does not wait for idle clients. */
function trackSockets(server: NetServer | HttpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  return sockets;
}

function closeServer(server: NetServer | HttpServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
}

/**
 * aedes reads with `conn.read()` once per 'readable' event and expects the whole buffer. Deno's
 * node:stream (2.9) returns only the first buffered chunk from `read()` without a size, so the
 * rest would sit unread until the next packet (an MQTT CONNECT split over WebSocket frames never
 * completes). Asking for `readableLength` bytes returns everything on both runtimes.
 */
function readWholeBuffer<T extends Readable>(stream: T): T {
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => (size === undefined || size === null ? read(stream.readableLength || undefined) : read(size));
  return stream;
}

const fmtHost = (host: string) => (host.includes(":") ? `[${host}]` : host);

/**
 * Starts aedes with the listeners asked for. Rejects with {@link BrokerListenError} when a port
 * cannot be bound (everything already opened is closed again).
 */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const aedes = await Aedes.createBroker(options.aedes);
  aedes.on("client", (c) => log(`client connected: ${c.id}`));
  aedes.on("clientDisconnect", (c) => log(`client disconnected: ${c.id}`));
  aedes.on("clientError", (c, e) => log(`client error: ${c.id}: ${e.message}`));
  aedes.on("connectionError", (_c, e) => log(`connection error: ${e.message}`));

  const opened: Listening[] = [];
  let closed = false;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(opened.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };

  const handleWs = (ws: WebSocket, req: IncomingMessage) => {
    const stream = createWebSocketStream(ws);
    stream.on("error", (e) => log(`websocket error: ${e.message}`));
    aedes.handle(readWholeBuffer(stream), req);
  };
  const wsServerFor = (http: HttpServer): { wss: WebSocketServer; clients: Set<WebSocket> } => {
    const wss = new WebSocketServer({
      server: http,
      handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : protocols.values().next().value ?? false),
    });
    const clients = new Set<WebSocket>();
    wss.on("connection", (ws, req) => {
      clients.add(ws);
      ws.once("close", () => clients.delete(ws));
      handleWs(ws, req);
    });
    wss.on("error", (e) => log(`websocket server error: ${e.message}`));
    return { wss, clients };
  };
  const openWs = async (http: HttpServer, what: string, port: number): Promise<number> => {
    const sockets = trackSockets(http);
    const bound = await listen(http, what, host, port);
    const { wss, clients } = wsServerFor(http);
    opened.push({
      port: bound,
      close: async () => {
        for (const ws of clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await closeServer(http, sockets);
      },
    });
    return bound;
  };
  const openStream = async (server: NetServer, what: string, port: number): Promise<number> => {
    const sockets = trackSockets(server);
    const bound = await listen(server, what, host, port);
    opened.push({ port: bound, close: () => closeServer(server, sockets) });
    return bound;
  };

  try {
    const broker: EmbeddedBroker = { aedes, wsUrl: "", wsPort: 0, close: closeAll };
    const http = createHttpServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain" });
      res.end("thingwire broker: connect with an MQTT client over WebSocket (subprotocol mqtt)\n");
    });
    broker.wsPort = await openWs(http, "WebSocket", options.wsPort ?? 0);
    broker.wsUrl = `ws://${fmtHost(host)}:${broker.wsPort}`;

    if (options.tcpPort !== undefined) {
      const server = createNetServer((socket) => {
        socket.on("error", (e) => log(`tcp socket error: ${e.message}`));
        aedes.handle(readWholeBuffer(socket));
      });
      broker.tcpPort = await openStream(server, "MQTT over TCP", options.tcpPort);
      broker.tcpUrl = `mqtt://${fmtHost(host)}:${broker.tcpPort}`;
    }
    if (options.tls) {
      const t = options.tls;
      const pem = (v: string | Uint8Array) => (typeof v === "string" ? v : new TextDecoder().decode(v));
      const secure = { key: pem(t.key), cert: pem(t.cert), ca: t.ca === undefined ? undefined : pem(t.ca), requestCert: t.requestCert ?? false, rejectUnauthorized: t.requestCert ?? false };
      if (t.port !== undefined || t.wsPort === undefined) {
        const server = createTlsServer(secure, (socket) => {
          socket.on("error", (e) => log(`tls socket error: ${e.message}`));
          aedes.handle(readWholeBuffer(socket));
        });
        server.on("tlsClientError", (e) => log(`tls handshake error: ${e.message}`));
        broker.tlsPort = await openStream(server, "MQTT over TLS", t.port ?? 0);
        broker.tlsUrl = `mqtts://${fmtHost(host)}:${broker.tlsPort}`;
      }
      if (t.wsPort !== undefined) {
        const https = createHttpsServer(secure, (_req, res) => {
          res.writeHead(426, { "content-type": "text/plain" });
          res.end("thingwire broker: connect with an MQTT client over WebSocket (subprotocol mqtt)\n");
        });
        https.on("tlsClientError", (e) => log(`tls handshake error: ${e.message}`));
        broker.wssPort = await openWs(https, "secure WebSocket", t.wsPort);
        broker.wssUrl = `wss://${fmtHost(host)}:${broker.wssPort}`;
      }
    }
    return broker;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
