/**
 * A small SigV4-verifying WebSocket gateway for tests, standing in for AWS IoT Core's `/mqtt`
 * endpoint: it checks the presigned query of every WebSocket handshake with its own SigV4
 * implementation (node:crypto, independent of src/auth), then relays the WebSocket byte for byte to an
 * upstream `ws://` broker (aedes or Mosquitto).
 *
 * Answers like AWS: 401 for an unknown access key, 403 for a bad, stale or expired signature, a
 * missing or wrong session token, or a wrong region/service. `rotate()` swaps the accepted
 * credentials (old ones are refused afterwards); `closeAll()` drops every live connection, as AWS does
 * when credentials expire.
 *
 * @example
 * const gw = await startSigV4Gateway({ upstream: broker.wsUrl, credentials: creds, region: "us-east-1" });
 * const url = await presignMqttUrl({ host: `127.0.0.1:${gw.port}`, protocol: "ws", region: "us-east-1", credentials: creds });
 * mqtt.connect(url);
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, STATUS_CODES } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";

export interface GatewayCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, handshakes must carry it as X-Amz-Security-Token. */
  sessionToken?: string;
}

export interface SigV4GatewayOptions {
  /** Upstream broker WebSocket URL, e.g. ws://127.0.0.1:8080. */
  upstream: string;
  /** Accepted credentials. */
  credentials: GatewayCredentials | GatewayCredentials[];
  /** Region the signature must be scoped to. */
  region: string;
  /** Default "iotdevicegateway". */
  service?: string;
  /** Largest accepted |now − X-Amz-Date|, seconds. Default 300 (AWS allows 5 minutes of skew). */
  maxSkewSec?: number;
  /** Serve wss:// with this certificate (e.g. makeCerts().server); default plain ws://. */
  tls?: { key: string; cert: string };
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Clock in ms; default Date.now. */
  now?: () => number;
}

export interface Rejection {
  status: 401 | 403 | 502;
  reason: string;
}

export interface SigV4Gateway {
  /** ws://127.0.0.1:port/mqtt (wss://localhost:port/mqtt with tls). */
  url: string;
  port: number;
  /** The host to sign for: 127.0.0.1:port (localhost:port with tls). */
  host: string;
  /** Replace the accepted credentials; live connections stay up (use closeAll to drop them). */
  rotate(credentials: GatewayCredentials | GatewayCredentials[]): void;
  /** Drop every live connection (client and upstream sides). */
  closeAll(): void;
  /** closeAll, then stop listening. Idempotent. */
  stop(): Promise<void>;
  readonly stats: { accepted: number; rejected: number; live: number };
  /** Every refusal, oldest first. */
  readonly rejections: Rejection[];
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!);
  return Number.isNaN(t) ? undefined : t;
}

type Verdict = { ok: true } | Rejection;

/** Verifies one handshake request against `accepted`. Independent SigV4 (node:crypto). */
function verify(req: IncomingMessage, accepted: GatewayCredentials[], o: Required<Pick<SigV4GatewayOptions, "region" | "service" | "maxSkewSec">>, now: number): Verdict {
  const deny = (reason: string, status: 401 | 403 = 403): Rejection => ({ status, reason });
  if (req.method !== "GET") return deny("method must be GET");
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? "" : raw.slice(q + 1);
  const params = new Map<string, string>();
  for (const piece of rawQuery.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    let k: string, v: string;
    try {
      k = decodeURIComponent(eq < 0 ? piece : piece.slice(0, eq));
      v = eq < 0 ? "" : decodeURIComponent(piece.slice(eq + 1));
    } catch {
      return deny("malformed query encoding");
    }
    if (params.has(k)) return deny(`duplicate query parameter ${k}`);
    params.set(k, v);
  }
  for (const k of ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"]) {
    if (!params.has(k)) return deny(`missing ${k}`);
  }
  if (params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return deny("unsupported algorithm");
  const cred = params.get("X-Amz-Credential")!.split("/");
  if (cred.length !== 5 || cred[4] !== "aws4_request") return deny("malformed credential scope");
  const [akid, day, region, service] = cred as [string, string, string, string];
  const entry = accepted.find((c) => c.accessKeyId === akid);
  if (!entry) return deny("unknown access key", 401);
  if (region !== o.region) return deny("wrong region in credential scope");
  if (service !== o.service) return deny("wrong service in credential scope");
  const amzDate = params.get("X-Amz-Date")!;
  const t = parseAmzDate(amzDate);
  if (t === undefined) return deny("malformed X-Amz-Date");
  if (day !== amzDate.slice(0, 8)) return deny("credential scope date differs from X-Amz-Date");
  if (Math.abs(now - t) > o.maxSkewSec * 1000) return deny("signature is stale (X-Amz-Date outside the allowed skew)");
  const expires = params.get("X-Amz-Expires");
  if (expires !== undefined) {
    if (!/^\d+$/.test(expires) || Number(expires) < 1 || Number(expires) > 604800) return deny("malformed X-Amz-Expires");
    if (now > t + Number(expires) * 1000) return deny("presigned URL expired");
  }
  const token = params.get("X-Amz-Security-Token");
  if (entry.sessionToken !== undefined) {
    if (token === undefined) return deny("missing session token");
    const a = Buffer.from(token), b = Buffer.from(entry.sessionToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return deny("wrong session token");
  } else if (token !== undefined) {
    return deny("unexpected session token");
  }

  const signedHeaders = params.get("X-Amz-SignedHeaders")!.split(";");
  if (!signedHeaders.includes("host")) return deny("host must be signed");
  const canonicalHeaders: string[] = [];
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return deny(`signed header ${name} missing`);
    canonicalHeaders.push(`${name}:${String(value).trim().replace(/\s+/g, " ")}\n`);
  }
  let canonicalPath: string;
  try {
    canonicalPath = rawPath.split("/").map((s) => rfc3986(rfc3986(decodeURIComponent(s)))).join("/");
  } catch {
    return deny("malformed path encoding");
  }
  const canonicalQuery = [...params]
    .filter(([k]) => k !== "X-Amz-Signature" && k !== "X-Amz-Security-Token") // AWS IoT: the token is not signed
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = ["GET", canonicalPath, canonicalQuery, canonicalHeaders.join(""), signedHeaders.join(";"), sha256("")].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${entry.secretAccessKey}`, day), region), service), "aws4_request");
  const expected = Buffer.from(hmac(kSigning, stringToSign).toString("hex"));
  const given = Buffer.from(params.get("X-Amz-Signature")!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return deny("signature does not match");
  return { ok: true };
}

function refuse(socket: Duplex, r: Rejection): void {
  const body = `${r.reason}\n`;
  socket.end(
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Starts a gateway on a free port. */
export async function startSigV4Gateway(options: SigV4GatewayOptions): Promise<SigV4Gateway> {
  let accepted = [options.credentials].flat();
  const checks = { region: options.region, service: options.service ?? "iotdevicegateway", maxSkewSec: options.maxSkewSec ?? 300 };
  const clock = options.now ?? Date.now;
  const stats = { accepted: 0, rejected: 0, live: 0 };
  const rejections: Rejection[] = [];
  const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();
  const pending = new Set<WebSocket>();

  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer();
  server.on("request", (_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : [...protocols][0] ?? false),
  });

  const reject = (socket: Duplex, r: Rejection) => {
    stats.rejected++;
    rejections.push(r);
    refuse(socket, r);
  };

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const verdict = verify(req, accepted, checks, clock());
    if (!("ok" in verdict)) return reject(socket, verdict);
    const offered = String(req.headers["sec-websocket-protocol"] ?? "mqtt").split(",").map((s) => s.trim()).filter(Boolean);
    const upstream = new WebSocket(options.upstream, offered);
    pending.add(upstream);
    upstream.once("error", () => {
      pending.delete(upstream);
      if (!socket.destroyed) reject(socket, { status: 502, reason: "upstream broker unreachable" });
    });
    upstream.once("open", () => {
      pending.delete(upstream);
      if (socket.destroyed) return upstream.terminate();
      wss.handleUpgrade(req, socket, head, (client) => {
        stats.accepted++;
        stats.live++;
        const pair = { client, upstream };
        pairs.add(pair);
        client.on("message", (data, isBinary) => upstream.readyState === WebSocket.OPEN && upstream.send(data, { binary: isBinary }));
        upstream.on("message", (data, isBinary) => client.readyState === WebSocket.OPEN && client.send(data, { binary: isBinary }));
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          pairs.delete(pair);
          stats.live--;
          client.terminate();
          upstream.terminate();
        };
        client.on("close", finish);
        upstream.on("close", finish);
        client.on("error", finish);
        upstream.on("error", finish);
      });
    });
  });

  const bind = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, bind, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = `${options.tls ? "localhost" : bind}:${port}`;

  const closeAll = () => {
    for (const { client, upstream } of [...pairs]) {
      client.terminate();
      upstream.terminate();
    }
  };
  let stopped: Promise<void> | undefined;
  return {
    url: `${options.tls ? "wss" : "ws"}://${host}/mqtt`,
    port,
    host,
    rotate(credentials) {
      accepted = [credentials].flat();
    },
    closeAll,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        closeAll();
        for (const u of pending) u.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      return stopped;
    },
    stats,
    rejections,
  };
}
