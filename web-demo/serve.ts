/**
 * A dependency-free static server for the kiosk (node:http): `web-demo/` and `web-demo/public/` at the
 * root, the SDK's browser bundle at `/lib/thingwire.js`. Used by `npm run demo` and the e2e tests; Vite
 * (`npx vite web-demo`) is for development only.
 *
 * @example
 * ```ts
 * const kiosk = await startKioskServer({ port: 5173 });
 * console.log(kiosk.url); // http://127.0.0.1:5173/
 * await kiosk.close();
 * ```
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = resolve(here, "..");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".dbc": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface KioskServerOptions {
  /** Port; 0 = a free one. Default 0. When the port is busy and `fallbackToFree`, a free one is used. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Try a free port when `port` is in use. Default false. */
  fallbackToFree?: boolean;
  /** The kiosk's folder. Default: this folder (web-demo/). */
  root?: string;
  /** Where thingwire.js / thingwire.min.js are. Default: <repo>/dist/browser. */
  bundleDir?: string;
  /** Serve the minified bundle as /lib/thingwire.js (default true; the unminified one when false or absent). */
  minified?: boolean;
  /** Extra files by URL path (for tests): served before anything else. */
  extra?: Record<string, string | Uint8Array>;
  /** Called for each request: method, path, status. */
  log?: (line: string) => void;
}

export interface KioskServer {
  url: string;
  port: number;
  /** Which bundle file /lib/thingwire.js serves. */
  bundlePath: string;
  close(): Promise<void>;
}

/** The browser bundle the kiosk loads; throws with the build command when it is missing. */
export function bundleFile(bundleDir = join(repo, "dist/browser"), minified = true): string {
  const min = join(bundleDir, "thingwire.min.js");
  const full = join(bundleDir, "thingwire.js");
  if (minified && existsSync(min)) return min;
  if (existsSync(full)) return full;
  throw new Error(`the browser bundle is missing (${full}); build it with "npx tsup" (or "npm run build")`);
}

export async function startKioskServer(options: KioskServerOptions = {}): Promise<KioskServer> {
  const root = resolve(options.root ?? here);
  const publicDir = join(root, "public");
  const bundleDir = options.bundleDir ?? join(repo, "dist/browser");
  const bundlePath = bundleFile(bundleDir, options.minified ?? true);
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});

  const send = (res: ServerResponse, status: number, type: string, body: string | Uint8Array) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    res.end(body);
  };

  /** A path under `dir`, or undefined when the request tries to leave it or names a dotfile. */
  const inside = (dir: string, urlPath: string): string | undefined => {
    const rel = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, "");
    if (rel.split(/[/\\]/).some((part) => part.startsWith(".") && part !== "")) return undefined;
    const full = resolve(dir, rel);
    return full === dir || full.startsWith(dir + sep) ? full : undefined;
  };

  const fileAt = async (path: string | undefined): Promise<string | undefined> => {
    if (!path) return undefined;
    try {
      const s = await stat(path);
      return s.isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://kiosk");
    let path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "GET only\n");
    if (path === "/") path = "/index.html";
    const extra = options.extra?.[path];
    if (extra !== undefined) return send(res, 200, TYPES[extname(path)] ?? "application/octet-stream", extra);
    let file: string | undefined;
    if (path === "/lib/thingwire.js") file = bundlePath;
    else if (path === "/lib/thingwire.js.map") file = await fileAt(bundlePath + ".map");
    // the chunks the entry imports on demand (jose for deviceJwt), beside it as the build wrote them
    else if (/^\/lib\/thingwire(?:\.min)?-[\w-]+\.js(?:\.map)?$/.test(path)) file = await fileAt(join(bundleDir, path.slice(5)));
    else if (path.endsWith(".ts") || path === "/serve.ts" || path.startsWith("/dist/")) file = undefined;
    else file = (await fileAt(inside(publicDir, path))) ?? (await fileAt(inside(root, path)));
    if (!file) {
      log(`${req.method} ${path} 404`);
      return send(res, 404, "text/plain; charset=utf-8", `not found: ${path}\n`);
    }
    const body = await readFile(file);
    log(`${req.method} ${path} 200`);
    send(res, 200, TYPES[extname(file)] ?? "application/octet-stream", req.method === "HEAD" ? "" : body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`${req.method} ${req.url} 500 ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
      else res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<number>((resolveListen, reject) => {
      const onError = (e: Error) => reject(e);
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        const a = server.address();
        resolveListen(typeof a === "object" && a ? a.port : port);
      });
    });

  let port: number;
  try {
    port = await listen(options.port ?? 0);
  } catch (e) {
    if ((e as { code?: string }).code === "EADDRINUSE" && options.fallbackToFree) port = await listen(0);
    else throw e;
  }
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    port,
    bundlePath,
    close() {
      closed ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
