/** Where WebCrypto is missing (a browser page on plain http://), signing fails with AUTH_UNSUPPORTED, not a TypeError. */
import assert from "node:assert/strict";
import { afterEach, test, vi } from "vitest";
import { deviceJwt } from "../../src/auth/jwt.ts";
import { presignMqttUrl, sigv4 } from "../../src/auth/sigv4.ts";
import { makeKeyPair } from "../suites/auth-helpers.ts";
import { ThingwireError } from "../../src/errors.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

test("presignMqttUrl, sigv4().prepare and deviceJwt without crypto.subtle → AUTH_UNSUPPORTED", async () => {
  const k = await makeKeyPair("ES256");
  vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => a });
  const credentials = { accessKeyId: "AK", secretAccessKey: "s3cr3t-value" };
  const check = (e: unknown) => e instanceof ThingwireError && e.code === "AUTH_UNSUPPORTED" && /https/.test(e.message) && !e.message.includes("s3cr3t-value");
  await assert.rejects(presignMqttUrl({ host: "h", region: "r", credentials }), check);
  await assert.rejects(deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "t" })(), check);
  await assert.rejects(sigv4({ region: "r", credentials }).prepare({ url: "wss://h/mqtt", clientId: "c" }, new Date()), check);
});
