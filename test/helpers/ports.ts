/** Free TCP ports on 127.0.0.1 for tests that start their own servers. */
import { createServer } from "node:net";

/**
 * Returns a port that was free a moment ago (listen on 0, read it, close). Another process can
 * take it in between; prefer port 0 where the server accepts it.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("freePort: no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** `n` distinct free ports (held open together while choosing, so they differ). */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<import("node:net").Server>((resolve, reject) => {
        const s = createServer();
        s.unref();
        s.once("error", reject);
        s.listen(0, host, () => resolve(s));
      })),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
