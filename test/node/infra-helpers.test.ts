/** The small test helpers: certs.ts (what openssl made), ports.ts, wait.ts. */
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { makeCerts } from "../helpers/certs.ts";
import { freePort, freePorts } from "../helpers/ports.ts";
import { canConnect, connectOutcome, sleep, waitFor, waitForEvent, waitForPort, waitForPortClosed, withTimeout } from "../helpers/wait.ts";

describe("makeCerts", () => {
  const certs = makeCerts();
  const x = (pem: string) => new X509Certificate(pem);

  test("is cached per process and per directory", () => {
    expect(makeCerts()).toBe(certs);
    expect(certs.makeClient("thing-9")).toBe(certs.makeClient("thing-9"));
  });

  test("server: SAN localhost + 127.0.0.1, signed by the CA, serverAuth", () => {
    const server = x(certs.server.cert);
    expect(server.subjectAltName).toContain("DNS:localhost");
    expect(server.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(server.checkIssued(x(certs.ca.cert))).toBe(true);
    expect(server.verify(x(certs.ca.cert).publicKey)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x(certs.ca.cert).ca).toBe(true);
  });

  test("clients: CN = thing id, clientAuth, signed by the right CA; keys match", () => {
    for (const [pair, issuer] of [[certs.client, certs.ca], [certs.makeClient("thing-7"), certs.ca], [certs.foreignClient, certs.otherCa]] as const) {
      const c = x(pair.cert);
      expect(c.subject).toBe(`CN=${pair.cn}`);
      expect(c.keyUsage).toContain("1.3.6.1.5.5.7.3.2"); // id-kp-clientAuth
      expect(c.verify(x(issuer.cert).publicKey)).toBe(true);
      expect(c.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    }
    expect(certs.client.cn).toBe("thing-1");
    expect(x(certs.foreignClient.cert).verify(x(certs.ca.cert).publicKey)).toBe(false);
  });

  test("expiredClient is expired now (openssl verify says so) but otherwise valid", () => {
    const c = x(certs.expiredClient.cert);
    expect(new Date(c.validTo).getTime()).toBeLessThan(Date.now());
    expect(c.verify(x(certs.ca.cert).publicKey)).toBe(true);
    let out = "";
    try {
      execFileSync("openssl", ["verify", "-CAfile", certs.ca.certPath, certs.expiredClient.certPath], { stdio: "pipe" });
    } catch (e) {
      out = String((e as { stdout?: Buffer }).stdout) + String((e as { stderr?: Buffer }).stderr);
    }
    expect(out).toMatch(/certificate has expired/);
    expect(execFileSync("openssl", ["verify", "-CAfile", certs.ca.certPath, certs.client.certPath]).toString()).toMatch(/OK/);
  });
});

describe("ports and waiting", () => {
  test("freePort returns a bindable port; freePorts distinct ones", async () => {
    const port = await freePort();
    const s = createServer();
    await new Promise<void>((r) => s.listen(port, "127.0.0.1", () => r()));
    await waitForPort(port);
    expect(await canConnect(port)).toBe(true);
    await new Promise<void>((r) => s.close(() => r()));
    await waitForPortClosed(port);
    const many = await freePorts(5);
    expect(new Set(many).size).toBe(5);
  });

  test("waitFor returns the truthy value, or rejects with the message and the last error", async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? `n=${n}` : 0), { intervalMs: 1 })).toBe("n=3");
    const err = await waitFor(() => {
      throw new Error("not yet");
    }, { timeoutMs: 50, message: "the thing" }).catch((e: Error) => e);
    expect(err.message).toBe("waitFor: the thing within 50 ms");
    expect((err.cause as Error).message).toBe("not yet");
  });

  test("waitForEvent, withTimeout, connectOutcome", async () => {
    const e = new EventEmitter();
    setTimeout(() => e.emit("x", 1, 2), 5);
    expect(await waitForEvent(e, "x")).toEqual([1, 2]);
    await expect(waitForEvent(e, "never", 20)).rejects.toThrow(/no "never"/);
    await expect(withTimeout(sleep(1_000), 10, "sleeping")).rejects.toThrow(/sleeping did not finish within 10 ms/);
    expect(await withTimeout(Promise.resolve(7), 100)).toBe(7);
    setTimeout(() => e.emit("close"), 5);
    expect(await connectOutcome(e)).toEqual({ outcome: "close" });
    expect(await connectOutcome(e, 10)).toEqual({ outcome: "timeout" });
    expect(e.listenerCount("connect") + e.listenerCount("error") + e.listenerCount("close")).toBe(0);
  });
});
