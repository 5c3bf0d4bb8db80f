/**
 * A raw TCP proxy for fault tests ("network cut without a FIN"). It forwards bytes both ways, so
 * it works for mqtt://, ws://, and TLS (the handshake passes through untouched; mind the hostname).
 *
 * blackhole() stops forwarding in both directions WITHOUT closing anything: no FIN, no RST. By
 * default the proxy stops reading (sockets paused): bytes already sent wait in kernel buffers, as
 * in a real outage where TCP retransmits, and are delivered on heal(). `blackhole({ drop: true })`
 * reads and discards instead (the stream is then corrupt after heal: only for tests that expect the
 * connection to be abandoned). While blackholed, closes/errors from either side are held back too;
 * they reach the other side on heal(). New connections during a blackhole are accepted but stay
 * silent until heal().
 *
 * @example
 * const proxy = await startProxy({ target: { port: broker.ports.ws! } });
 * const client = mqtt.connect(proxy.url("ws"), { keepalive: 2 });
 * proxy.blackhole();   // keepalive must notice
 * proxy.heal();
 * await proxy.stop();
 */
import { connect, createServer, type Socket } from "node:net";

export interface ProxyOptions {
  target: { host?: string; port: number };
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on. Default 0 (a free port). */
  port?: number;
}

export interface ProxyStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connection pairs currently open. */
  active: number;
  /** Bytes forwarded client → target. */
  bytesToTarget: number;
  /** Bytes forwarded target → client. */
  bytesToClient: number;
  /** Bytes read and thrown away during a `drop` blackhole. */
  droppedBytes: number;
}

export interface TcpProxy {
  host: string;
  port: number;
  /** `${scheme}://host:port${path}`, e.g. url("ws"), url("mqtt"). */
  url(scheme?: string, path?: string): string;
  /** Stop forwarding both ways; sockets stay open (no FIN, no RST). */
  blackhole(opts?: { drop?: boolean }): void;
  /** Resume forwarding (and deliver what was held back, closes included). */
  heal(): void;
  readonly blackholed: boolean;
  /** Destroy every open connection (FIN, or RST with `reset: true`); the proxy keeps listening. */
  cutAll(opts?: { reset?: boolean }): void;
  /** Close the listener and every connection. Idempotent. */
  stop(): Promise<void>;
  readonly stats: ProxyStats;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Sockets paused by backpressure (not by the blackhole). */
  backpressured: Set<Socket>;
  /** A close/error held back during the blackhole. */
  pendingClose: boolean;
  closed: boolean;
}

/** Starts the proxy; resolves once it listens. */
export async function startProxy(opts: ProxyOptions): Promise<TcpProxy> {
  const targetHost = opts.target.host ?? "127.0.0.1";
  const host = opts.host ?? "127.0.0.1";
  const pairs = new Set<Pair>();
  const stats: ProxyStats = { accepted: 0, active: 0, bytesToTarget: 0, bytesToClient: 0, droppedBytes: 0 };
  let mode: "forward" | "pause" | "drop" = "forward";

  const destroyPair = (pair: Pair, reset = false) => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    stats.active--;
    for (const s of [pair.client, pair.upstream]) {
      if (reset && typeof s.resetAndDestroy === "function" && !s.destroyed) s.resetAndDestroy();
      else s.destroy();
    }
  };

  const applyMode = (pair: Pair) => {
    for (const s of [pair.client, pair.upstream]) {
      if (mode === "pause") s.pause();
      else if (!pair.backpressured.has(s)) s.resume();
    }
  };

  const wire = (pair: Pair, from: Socket, to: Socket, count: "bytesToTarget" | "bytesToClient") => {
    from.on("data", (chunk: Buffer) => {
      if (mode === "drop") {
        stats.droppedBytes += chunk.length;
        return;
      }
      stats[count] += chunk.length;
      if (!to.write(chunk)) {
        pair.backpressured.add(from);
        from.pause();
        to.once("drain", () => {
          pair.backpressured.delete(from);
          if (mode !== "pause") from.resume();
        });
      }
    });
    // Half-close: forward FIN. 'end' only fires after every byte was read, so a paused socket
    // holds its FIN back too.
    from.on("end", () => {
      if (mode === "forward") to.end();
      else pair.pendingClose = true;
    });
    from.on("error", () => {});
    from.on("close", () => {
      if (mode === "forward") destroyPair(pair);
      else pair.pendingClose = true;
    });
  };

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    stats.accepted++;
    const upstream = connect({ host: targetHost, port: opts.target.port, allowHalfOpen: true });
    upstream.pause();
    const pair: Pair = { client, upstream, backpressured: new Set(), pendingClose: false, closed: false };
    pairs.add(pair);
    stats.active++;
    wire(pair, client, upstream, "bytesToTarget");
    wire(pair, upstream, client, "bytesToClient");
    upstream.once("connect", () => applyMode(pair));
    upstream.once("error", () => {
      if (mode === "forward") destroyPair(pair);
      else pair.pendingClose = true;
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  let stopped = false;

  return {
    host,
    port,
    url: (scheme = "mqtt", path = "") => `${scheme}://${host}:${port}${path}`,
    blackhole(o = {}) {
      mode = o.drop ? "drop" : "pause";
      for (const pair of pairs) applyMode(pair);
    },
    heal() {
      mode = "forward";
      for (const pair of [...pairs]) {
        if (pair.pendingClose && (pair.client.destroyed || pair.upstream.destroyed)) {
          destroyPair(pair);
          continue;
        }
        if (pair.client.readableEnded && !pair.upstream.writableEnded) pair.upstream.end();
        if (pair.upstream.readableEnded && !pair.client.writableEnded) pair.client.end();
        if (pair.upstream.connecting) continue; // resumes on connect
        applyMode(pair);
      }
    },
    get blackholed() {
      return mode !== "forward";
    },
    cutAll(o = {}) {
      for (const pair of [...pairs]) destroyPair(pair, o.reset);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of [...pairs]) destroyPair(pair);
      await closed;
    },
    get stats() {
      return { ...stats };
    },
  };
}
