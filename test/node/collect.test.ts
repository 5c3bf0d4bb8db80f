/**
 * HTTP collect against a real local node:http server that verifies the device JWT with the device's
 * public key (jose jwtVerify): a good token is accepted, a token from another key gets 401, which
 * collect reports as HTTP_FAILED with status 401 and no token in the message.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, test } from "vitest";
import { deviceJwt } from "../../src/auth/jwt.ts";
import { collect } from "../../src/device/collect.ts";
import { ThingwireError } from "../../src/errors.ts";
import { makeKeyPair, type KeyPairPem } from "../suites/auth-helpers.ts";

let server: Server;
let url: string;
let device: KeyPairPem;
const received: Array<{ sub: unknown; body: unknown }> = [];

beforeAll(async () => {
  device = await makeKeyPair("ES256");
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer (.+)$/.exec(auth);
    try {
      if (req.method !== "POST" || !m) throw new Error("no bearer token");
      if (req.headers["content-type"] !== "application/json") throw new Error("not JSON");
      const { payload } = await jwtVerify(m[1]!, device.publicKey, { issuer: "thing-42", audience: "collect" });
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      received.push({ sub: payload.sub, body });
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ stored: received.length }));
    } catch (e) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: (e as Error).message }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/collect`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

test("a device JWT from the right key is accepted (2xx) and the body arrives", async () => {
  const token = deviceJwt({ privateKey: device.pem, alg: "ES256", thingId: "thing-42", audience: "collect" });
  const r = await collect({ url, token, body: { temp: 21.5, at: 1_700_000_000_000 } });
  assert.equal(r.status, 201);
  assert.deepEqual(r.body, { stored: 1 });
  assert.deepEqual(received.at(-1), { sub: "thing-42", body: { temp: 21.5, at: 1_700_000_000_000 } });
});

test("a JWT signed with another key gets 401 → HTTP_FAILED with status, no token in the message", async () => {
  const other = await makeKeyPair("ES256");
  const mint = deviceJwt({ privateKey: other.pem, alg: "ES256", thingId: "thing-42", audience: "collect" });
  const token = await mint();
  const before = received.length;
  await assert.rejects(collect({ url, token, body: { temp: 1 } }), (e: unknown) => {
    assert.ok(e instanceof ThingwireError);
    assert.equal(e.code, "HTTP_FAILED");
    assert.equal(e.status, 401);
    assert.match(e.message, /401/);
    assert.match(e.message, /device key/);
    assert.ok(!e.message.includes(token) && !JSON.stringify(e.toJSON()).includes(token));
    return true;
  });
  assert.equal(received.length, before);
});

test("a wrong audience is refused too", async () => {
  const token = deviceJwt({ privateKey: device.pem, alg: "ES256", thingId: "thing-42", audience: "someone-else" });
  await assert.rejects(collect({ url, token, body: {} }), { code: "HTTP_FAILED", status: 401 });
});

test("an unreachable endpoint → HTTP_FAILED without status", async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(collect({ url: `http://127.0.0.1:${port}/x`, token: "t0ken-value", body: {} }), (e: unknown) => {
    assert.ok(e instanceof ThingwireError && e.code === "HTTP_FAILED" && e.status === undefined);
    assert.ok(!e.message.includes("t0ken-value"));
    return true;
  });
});

test("a server that never answers → TIMEOUT", async () => {
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (silent.address() as AddressInfo).port;
    await assert.rejects(collect({ url: `http://127.0.0.1:${port}/x`, token: "t0ken-value", body: {}, timeoutMs: 200 }), { code: "TIMEOUT" });
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
