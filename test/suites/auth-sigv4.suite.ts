/**
 * The auth layer, runtime-agnostic (WebCrypto + jose): SigV4 presigning against committed vectors,
 * the sigv4 / tokenAuth / clientCert / browserClientCert DeviceAuths, device JWT minting, and every
 * error path checked for leaked secrets. Runs on Node (Vitest), Deno and Chromium.
 */
import { decodeProtectedHeader, jwtVerify } from "jose";
import type { DeviceAuth } from "../../src/auth/auth.ts";
import { browserClientCert, clientCert, tokenAuth } from "../../src/auth/credentials.ts";
import { EMPTY_SHA256, hmacSha256, sha256Hex, toHex } from "../../src/auth/hmac.ts";
import { deviceJwt } from "../../src/auth/jwt.ts";
import { redactSecrets } from "../../src/auth/scrub.ts";
import { presignMqttUrl, sigv4, type PresignMqttUrlOptions } from "../../src/auth/sigv4.ts";
import { assertSafeError, failsSafely, fakeCertificatePem, makeKeyPair, toPem } from "./auth-helpers.ts";
import { EXAMPLE_TOKEN, PRESIGN_VECTORS } from "./auth-sigv4-vectors.ts";
import type { Assert, Harness } from "./harness.ts";

const SECRET = "Sup3rS3cretAccessKey/with+chars=";
const TOKEN = "IQoJb3JpZ2luX2VjSESSIONTOKEN/+==";
const CREDS = { accessKeyId: "AKIDSUITE", secretAccessKey: SECRET, sessionToken: TOKEN };
const TARGET = { url: "wss://abc123-ats.iot.us-east-1.amazonaws.com/mqtt", clientId: "thing-42" };
const NOW = new Date("2025-06-01T10:20:30Z");

const query = (url: string) => new URL(url).searchParams;

export function authSigv4Suite(h: Harness): void {
  const { test, describe } = h;
  const assert: Assert = h.assert;

  describe("crypto primitives (WebCrypto)", () => {
    test("SHA-256 of the empty payload is the constant SigV4 uses", async () => {
      assert.equal(await sha256Hex(""), EMPTY_SHA256);
    });
    test("HMAC-SHA256 matches RFC 4231 test case 2", async () => {
      assert.equal(toHex(await hmacSha256("Jefe", "what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    });
  });

  describe("presignMqttUrl", () => {
    for (const v of PRESIGN_VECTORS) {
      test(`vector: ${v.name}`, async () => {
        assert.equal(await presignMqttUrl(v.input), v.expected);
      });
    }

    test("is deterministic for a fixed date and changes with date, secret and token", async () => {
      const base: PresignMqttUrlOptions = { host: "h.example", region: "us-east-1", credentials: { accessKeyId: "AK", secretAccessKey: "s1" }, date: NOW };
      const a = await presignMqttUrl(base);
      assert.equal(await presignMqttUrl(base), a);
      assert.notEqual(await presignMqttUrl({ ...base, date: new Date(NOW.getTime() + 1000) }), a);
      assert.notEqual(query(await presignMqttUrl({ ...base, credentials: { accessKeyId: "AK", secretAccessKey: "s2" } })).get("X-Amz-Signature"), query(a).get("X-Amz-Signature"));
      // The token is appended after signing: same signature with or without it.
      const withToken = await presignMqttUrl({ ...base, credentials: { accessKeyId: "AK", secretAccessKey: "s1", sessionToken: TOKEN } });
      assert.equal(withToken, `${a}&X-Amz-Security-Token=${encodeURIComponent(TOKEN)}`);
    });

    test("the query order is the AWS SDKs': Algorithm, Credential, Date, [Expires], SignedHeaders, Signature, [Security-Token]", async () => {
      const url = await presignMqttUrl({ host: "h.example", region: "us-east-1", credentials: CREDS, date: NOW, expiresSec: 60 });
      assert.deepEqual([...query(url).keys()], ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"]);
      assert.equal(query(url).get("X-Amz-SignedHeaders"), "host");
      assert.equal(query(url).get("X-Amz-Credential"), "AKIDSUITE/20250601/us-east-1/iotdevicegateway/aws4_request");
      assert.equal(query(url).get("X-Amz-Security-Token"), TOKEN);
      assert.match(url, /^wss:\/\/h\.example\/mqtt\?/);
    });

    test("host and url forms give the same URL; protocol ws is honoured", async () => {
      const creds = { accessKeyId: "AK", secretAccessKey: "s" };
      const a = await presignMqttUrl({ host: "H.Example:8883", region: "r", credentials: creds, date: NOW });
      const b = await presignMqttUrl({ url: "wss://h.example:8883/mqtt", region: "r", credentials: creds, date: NOW });
      assert.equal(a, b);
      const ws = await presignMqttUrl({ host: "127.0.0.1:9001", protocol: "ws", region: "r", credentials: creds, date: NOW });
      assert.match(ws, /^ws:\/\/127\.0\.0\.1:9001\/mqtt\?/);
    });

    const creds = { accessKeyId: "AKIDBAD", secretAccessKey: SECRET, sessionToken: TOKEN };
    const badOptions: Array<[string, unknown]> = [
      ["no options", undefined],
      ["host and url", { host: "h", url: "wss://h/mqtt", region: "r", credentials: creds }],
      ["neither host nor url", { region: "r", credentials: creds }],
      ["https url", { url: "https://h/mqtt", region: "r", credentials: creds }],
      ["url with a query", { url: "wss://h/mqtt?x=1", region: "r", credentials: creds }],
      ["url with user info", { url: `wss://user:${SECRET}@h/mqtt`, region: "r", credentials: creds }],
      ["url not a URL", { url: "not a url", region: "r", credentials: creds }],
      ["url with path option", { url: "wss://h/mqtt", path: "/x", region: "r", credentials: creds }],
      ["url with a malformed escape", { url: "wss://h/%E0%A4%A", region: "r", credentials: creds }],
      ["host with a path", { host: "h/mqtt", region: "r", credentials: creds }],
      ["host with user info", { host: "u@h", region: "r", credentials: creds }],
      ["empty host", { host: "", region: "r", credentials: creds }],
      ["bad protocol", { host: "h", protocol: "https", region: "r", credentials: creds }],
      ["relative path", { host: "h", path: "mqtt", region: "r", credentials: creds }],
      ["path with ..", { host: "h", path: "/a/../mqtt", region: "r", credentials: creds }],
      ["path with //", { host: "h", path: "//mqtt", region: "r", credentials: creds }],
      ["path with a query", { host: "h", path: "/mqtt?x", region: "r", credentials: creds }],
      ["empty region", { host: "h", region: "", credentials: creds }],
      ["region with /", { host: "h", region: "us/east", credentials: creds }],
      ["service with a control character", { host: "h", region: "r", service: "io\nt", credentials: creds }],
      ["expiresSec 0", { host: "h", region: "r", credentials: creds, expiresSec: 0 }],
      ["expiresSec above 7 days", { host: "h", region: "r", credentials: creds, expiresSec: 604_801 }],
      ["fractional expiresSec", { host: "h", region: "r", credentials: creds, expiresSec: 1.5 }],
      ["invalid date", { host: "h", region: "r", credentials: creds, date: new Date(NaN) }],
      ["date after 9999", { host: "h", region: "r", credentials: creds, date: new Date(Date.UTC(10000, 0, 1)) }],
      ["date not a Date", { host: "h", region: "r", credentials: creds, date: "2020-01-01" }],
    ];
    for (const [name, options] of badOptions) {
      test(`rejects ${name} with AUTH_INVALID_OPTIONS, no secret shown`, async () => {
        await failsSafely(assert, () => presignMqttUrl(options as PresignMqttUrlOptions), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
      });
    }

    const badCreds: Array<[string, unknown]> = [
      ["missing credentials", undefined],
      ["no secret", { accessKeyId: "AK" }],
      ["empty secret", { accessKeyId: "AK", secretAccessKey: "" }],
      ["numeric secret", { accessKeyId: "AK", secretAccessKey: 42 }],
      ["access key with /", { accessKeyId: "AK/X", secretAccessKey: SECRET }],
      ["session token not a string", { accessKeyId: "AK", secretAccessKey: SECRET, sessionToken: 7 }],
      ["secret with a lone surrogate", { accessKeyId: "AK", secretAccessKey: `${SECRET}\ud800` }],
    ];
    for (const [name, credentials] of badCreds) {
      test(`rejects ${name} with AUTH_CREDENTIALS naming the field, no secret shown`, async () => {
        const e = await failsSafely(assert, () => presignMqttUrl({ host: "h", region: "r", credentials } as PresignMqttUrlOptions), "AUTH_CREDENTIALS", [SECRET, TOKEN]);
        assert.match(e.path ?? "", /^credentials/);
      });
    }
  });

  describe("sigv4()", () => {
    test("prepare() presigns the device URL with the attempt time; secrets cover key, token, signature and URL", async () => {
      const auth = sigv4({ region: "us-east-1", credentials: CREDS });
      assert.equal(auth.kind, "sigv4");
      const p = await auth.prepare(TARGET, NOW);
      assert.equal(p.url, await presignMqttUrl({ url: TARGET.url, region: "us-east-1", credentials: CREDS, date: NOW }));
      const sig = query(p.url).get("X-Amz-Signature") ?? "";
      for (const s of [SECRET, TOKEN, encodeURIComponent(TOKEN), sig, p.url]) assert.ok(p.secrets.includes(s), "secret listed");
      assert.equal(p.username, undefined);
      assert.equal(p.password, undefined);
      assert.equal(p.tls, undefined);
    });

    test("calls the provider before every attempt and signs with what it returns", async () => {
      let n = 0;
      const auth = sigv4({ region: "eu-west-1", credentials: async () => ({ accessKeyId: `AKID${++n}`, secretAccessKey: `secret-${n}` }), expiresSec: 900 });
      const a = await auth.prepare(TARGET, NOW);
      const b = await auth.prepare(TARGET, NOW);
      assert.equal(n, 2);
      assert.match(query(a.url).get("X-Amz-Credential") ?? "", /^AKID1\//);
      assert.match(query(b.url).get("X-Amz-Credential") ?? "", /^AKID2\//);
      assert.equal(query(b.url).get("X-Amz-Expires"), "900");
      assert.ok(b.secrets.includes("secret-2") && !b.secrets.includes("secret-1"));
    });

    test("passes server TLS options through", async () => {
      const ca = fakeCertificatePem();
      const p = await sigv4({ region: "r", credentials: CREDS, tls: { ca, rejectUnauthorized: true } }).prepare(TARGET, NOW);
      assert.deepEqual(p.tls, { ca, rejectUnauthorized: true });
    });

    for (const url of ["ws://h/mqtt", "mqtts://h:8883", "mqtt://h", "not a url"]) {
      test(`refuses ${url} with AUTH_INVALID_OPTIONS (wss only)`, async () => {
        await failsSafely(assert, () => sigv4({ region: "r", credentials: CREDS }).prepare({ url, clientId: "c" }, NOW), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
      });
    }

    test("a throwing provider gives AUTH_CREDENTIALS without the secret", async () => {
      const auth = sigv4({ region: "r", credentials: () => { throw new Error(`STS refused ${SECRET}`); } });
      const e = await failsSafely(assert, () => auth.prepare(TARGET, NOW), "AUTH_CREDENTIALS", [SECRET]);
      assert.match(e.message, /provider/);
    });

    const junk: unknown[] = [null, undefined, "AKID:secret", { accessKeyId: "AK" }, { accessKeyId: 1, secretAccessKey: SECRET }, { accessKeyId: "AK", secretAccessKey: SECRET, sessionToken: {} }];
    junk.forEach((value, i) => {
      test(`a provider returning junk #${i} gives AUTH_CREDENTIALS without the secret`, async () => {
        const auth = sigv4({ region: "r", credentials: async () => value as never });
        await failsSafely(assert, () => auth.prepare(TARGET, NOW), "AUTH_CREDENTIALS", [SECRET]);
      });
    });

    test("bad options fail at construction", async () => {
      await failsSafely(assert, () => sigv4({ region: "", credentials: CREDS }), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
      await failsSafely(assert, () => sigv4({ region: "r", credentials: { accessKeyId: "AK", secretAccessKey: "" } }), "AUTH_CREDENTIALS", [SECRET]);
      await failsSafely(assert, () => sigv4({ region: "r", credentials: CREDS, tls: { key: SECRET } as never }), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
      await failsSafely(assert, () => sigv4({ region: "r", credentials: CREDS, expiresSec: -1 }), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
      await failsSafely(assert, () => sigv4(null as never), "AUTH_INVALID_OPTIONS", []);
    });

    test("a device URL with a query string is refused", async () => {
      await failsSafely(assert, () => sigv4({ region: "r", credentials: CREDS }).prepare({ url: "wss://h/mqtt?x-amz-customauthorizer-name=a", clientId: "c" }, NOW), "AUTH_INVALID_OPTIONS", [SECRET, TOKEN]);
    });
  });

  describe("tokenAuth()", () => {
    test("static username and password; the password is a secret, the username is not", async () => {
      const p = await tokenAuth({ username: "thing-42", password: "pa55word" }).prepare(TARGET, NOW);
      assert.deepEqual(p, { url: TARGET.url, username: "thing-42", password: "pa55word", secrets: ["pa55word"] });
    });

    test("providers are called at every prepare", async () => {
      let n = 0;
      const auth: DeviceAuth = tokenAuth({ username: () => "thing-42", password: async () => `token-${++n}` });
      assert.equal((await auth.prepare(TARGET, NOW)).password, "token-1");
      const p = await auth.prepare(TARGET, NOW);
      assert.equal(p.password, "token-2");
      assert.deepEqual(p.secrets, ["token-2"]);
    });

    test("flespi style: the token is the username, no password", async () => {
      const flespi = "FlespiTokenABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopq";
      const p = await tokenAuth({ username: flespi, usernameIsToken: true }).prepare({ url: "wss://mqtt.flespi.io", clientId: "c" }, NOW);
      assert.equal(p.username, flespi);
      assert.equal(p.password, undefined);
      assert.deepEqual(p.secrets, [flespi]);
    });

    test("an empty password is sent but is no secret", async () => {
      const p = await tokenAuth({ username: "u", password: "" }).prepare(TARGET, NOW);
      assert.equal(p.password, "");
      assert.deepEqual(p.secrets, []);
    });

    test("server TLS options are checked and passed through", async () => {
      const ca = fakeCertificatePem(3);
      const p = await tokenAuth({ password: "x1234", tls: { ca: [ca], servername: "broker" } }).prepare(TARGET, NOW);
      assert.deepEqual(p.tls, { ca: [ca], servername: "broker" });
      await failsSafely(assert, () => tokenAuth({ password: "x1234", tls: { ca: "not pem" } }), "AUTH_INVALID_OPTIONS", ["x1234"]);
    });

    test("a failing or junk-returning provider gives AUTH_CREDENTIALS without the token", async () => {
      const secret = "previous-token-value";
      await failsSafely(assert, () => tokenAuth({ password: () => { throw new Error(`key store locked, last ${secret}`); } }).prepare(TARGET, NOW), "AUTH_CREDENTIALS", [secret]);
      await failsSafely(assert, () => tokenAuth({ password: async () => 42 as never }).prepare(TARGET, NOW), "AUTH_CREDENTIALS", [secret]);
      await failsSafely(assert, () => tokenAuth({ username: async () => null as never }).prepare(TARGET, NOW), "AUTH_CREDENTIALS", [secret]);
    });

    test("bad options: nothing given, wrong types", async () => {
      await failsSafely(assert, () => tokenAuth({}), "AUTH_INVALID_OPTIONS", []);
      await failsSafely(assert, () => tokenAuth({ password: 42 as never }), "AUTH_INVALID_OPTIONS", []);
      await failsSafely(assert, () => tokenAuth({ password: "p4ssw0rd", usernameIsToken: "yes" as never }), "AUTH_INVALID_OPTIONS", ["p4ssw0rd"]);
      await failsSafely(assert, () => tokenAuth({ password: "p4ssw0rd", tls: { key: "k" } as never }), "AUTH_INVALID_OPTIONS", ["p4ssw0rd"]);
    });
  });

  describe("clientCert() and browserClientCert()", () => {
    test("PEM strings and bytes become TLS material; the key is a secret", async () => {
      const k = await makeKeyPair("ES256");
      const cert = fakeCertificatePem();
      const ca = fakeCertificatePem(5);
      const auth = clientCert({ key: new TextEncoder().encode(k.pem), cert, ca: new TextEncoder().encode(ca), rejectUnauthorized: false, servername: "localhost" });
      assert.equal(auth.kind, "client-cert");
      const p = await auth.prepare({ url: "mqtts://h:8883", clientId: "c" }, NOW);
      assert.deepEqual(p.tls, { key: k.pem, cert, ca, rejectUnauthorized: false, servername: "localhost" });
      assert.equal(p.url, "mqtts://h:8883");
      assert.ok(p.secrets.includes(k.pem) && p.secrets.includes(k.body));
      assert.ok((await auth.prepare(TARGET, NOW)).tls?.key === k.pem, "wss works too");
    });

    test("a plain ws:// or mqtt:// URL is refused", async () => {
      const k = await makeKeyPair("ES256");
      const auth = clientCert({ key: k.pem, cert: fakeCertificatePem() });
      for (const url of ["ws://h/mqtt", "mqtt://h"]) {
        await failsSafely(assert, () => auth.prepare({ url, clientId: "c" }, NOW), "AUTH_INVALID_OPTIONS", [k.body]);
      }
    });

    test("bad material names the field and never shows it", async () => {
      const k = await makeKeyPair("ES256");
      const cert = fakeCertificatePem();
      const certBody = cert.split("\n").slice(1, -2).join("");
      const cases: Array<[string, () => unknown, string]> = [
        ["missing key", () => clientCert({ cert } as never), "key"],
        ["missing cert", () => clientCert({ key: k.pem } as never), "cert"],
        ["key and cert swapped", () => clientCert({ key: cert, cert: k.pem }), "key"],
        ["cert holds the key", () => clientCert({ key: k.pem, cert: k.pem }), "cert"],
        ["key not PEM", () => clientCert({ key: k.body, cert }), "key"],
        ["key as DER bytes", () => clientCert({ key: Uint8Array.from([0x30, 0x82, 0xff, 0xfe, 0x80]), cert }), "key"],
        ["encrypted key", () => clientCert({ key: toPem("ENCRYPTED PRIVATE KEY", new Uint8Array(64)), cert }), "key"],
        ["legacy encrypted key", () => clientCert({ key: `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n${k.body}\n-----END RSA PRIVATE KEY-----\n`, cert }), "key"],
        ["corrupt base64", () => clientCert({ key: k.pem.replace(/\n([A-Za-z0-9+/]{10})/, "\n$1!!"), cert }), "key"],
        ["key a number", () => clientCert({ key: 42 as never, cert }), "key"],
        ["ca not a certificate", () => clientCert({ key: k.pem, cert, ca: [cert, "junk"] }), "ca[1]"],
        ["ca empty list", () => clientCert({ key: k.pem, cert, ca: [] }), "ca"],
        ["rejectUnauthorized a string", () => clientCert({ key: k.pem, cert, rejectUnauthorized: "no" as never }), "rejectUnauthorized"],
      ];
      for (const [name, run, path] of cases) {
        const e = await failsSafely(assert, run, "AUTH_INVALID_OPTIONS", [k.body, k.pem, k.body.slice(0, 40), certBody.slice(10, 60)]);
        assert.equal(e.path, path, name);
      }
    });

    test("browserClientCert() carries no key material and wants wss://", async () => {
      const auth = browserClientCert();
      assert.deepEqual(await auth.prepare(TARGET, NOW), { url: TARGET.url, secrets: [] });
      await failsSafely(assert, () => auth.prepare({ url: "ws://h/mqtt", clientId: "c" }, NOW), "AUTH_INVALID_OPTIONS", []);
    });
  });

  describe("deviceJwt()", () => {
    for (const alg of ["ES256", "RS256"] as const) {
      test(`${alg}: kid = thing id, iss/sub/aud/iat/exp/jti, verifiable with the public key`, async () => {
        const k = await makeKeyPair(alg);
        const mint = deviceJwt({ privateKey: k.pem, alg, thingId: "thing-42", issuer: "fleet-7", audience: "collect", ttlSec: 120, now: () => NOW });
        const a = await mint();
        const b = await mint();
        assert.notEqual(a, b, "a fresh token per call");
        assert.deepEqual(decodeProtectedHeader(a), { alg, typ: "JWT", kid: "thing-42" });
        const { payload } = await jwtVerify(a, k.publicKey, { issuer: "fleet-7", audience: "collect", currentDate: NOW });
        const iat = Math.floor(NOW.getTime() / 1000);
        assert.equal(payload.sub, "thing-42");
        assert.equal(payload.iat, iat);
        assert.equal(payload.exp, iat + 120);
        assert.match(String(payload.jti), /^[0-9a-f]{32}$/);
        await assert.rejects(jwtVerify(a, k.publicKey, { currentDate: new Date(NOW.getTime() + 121_000) }), (e: unknown) => (e as { code?: string }).code === "ERR_JWT_EXPIRED");
      }, { timeout: 20_000 });
    }

    test("defaults: iss = thing id, ttl 300 s, no aud; a CryptoKey works; extra claims kept", async () => {
      const k = await makeKeyPair("ES256");
      const token = await deviceJwt({ privateKey: k.privateKey, alg: "ES256", thingId: "t-1", claims: { fleet: "north", iss: "ignored" }, now: () => NOW })();
      const { payload } = await jwtVerify(token, k.publicKey, { currentDate: NOW });
      assert.equal(payload.iss, "t-1");
      assert.equal(payload.aud, undefined);
      assert.equal(payload.fleet, "north");
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300);
    });

    test("as a tokenAuth password provider: a new JWT at every prepare", async () => {
      const k = await makeKeyPair("ES256");
      const auth = tokenAuth({ username: "thing-42", password: deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "thing-42" }) });
      const a = await auth.prepare(TARGET, NOW);
      const b = await auth.prepare(TARGET, NOW);
      assert.notEqual(a.password, b.password);
      assert.deepEqual(b.secrets, [b.password]);
      await jwtVerify(b.password ?? "", k.publicKey);
    });

    test("bad options fail at construction without showing the key", async () => {
      const k = await makeKeyPair("ES256");
      const secrets = [k.body, k.body.slice(0, 40)];
      const pkcs1 = k.pem.replaceAll("PRIVATE KEY", "EC PRIVATE KEY");
      const bad: Array<[string, () => unknown, string]> = [
        ["alg", () => deviceJwt({ privateKey: k.pem, alg: "HS256" as never, thingId: "t" }), "alg"],
        ["thingId", () => deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "" }), "thingId"],
        ["ttlSec", () => deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "t", ttlSec: 0 }), "ttlSec"],
        ["ttlSec too long", () => deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "t", ttlSec: 86_401 }), "ttlSec"],
        ["audience", () => deviceJwt({ privateKey: k.pem, alg: "ES256", thingId: "t", audience: [] }), "audience"],
        ["not PKCS#8", () => deviceJwt({ privateKey: pkcs1, alg: "ES256", thingId: "t" }), "privateKey"],
        ["public key", () => deviceJwt({ privateKey: k.publicKey, alg: "ES256", thingId: "t" }), "privateKey"],
        ["not PEM", () => deviceJwt({ privateKey: k.body, alg: "ES256", thingId: "t" }), "privateKey"],
      ];
      for (const [name, run, path] of bad) {
        const e = await failsSafely(assert, run, "AUTH_INVALID_OPTIONS", secrets);
        assert.equal(e.path, path, name);
      }
    });

    test("a key of the wrong type fails at minting with AUTH_INVALID_OPTIONS, key not shown", async () => {
      const k = await makeKeyPair("ES256");
      const mint = deviceJwt({ privateKey: k.pem, alg: "RS256", thingId: "t" });
      await failsSafely(assert, mint, "AUTH_INVALID_OPTIONS", [k.body, k.body.slice(0, 40)]);
      // Through tokenAuth the same failure is a credentials failure of the password provider.
      const e = await failsSafely(assert, () => tokenAuth({ password: mint }).prepare(TARGET, NOW), "AUTH_CREDENTIALS", [k.body]);
      assertSafeError(assert, e.cause, "AUTH_INVALID_OPTIONS", [k.body]);
      const wrongKey = deviceJwt({ privateKey: k.privateKey, alg: "RS256", thingId: "t" });
      await failsSafely(assert, wrongKey, "AUTH_INVALID_OPTIONS", [k.body]);
    });
  });

  describe("redactSecrets (what the device applies to every message)", () => {
    test("removes the signed URL, signature, secret and token in raw and encoded forms", async () => {
      const p = await sigv4({ region: "us-east-1", credentials: { ...CREDS, sessionToken: "tok en/+=" } }).prepare(TARGET, NOW);
      const sig = query(p.url).get("X-Amz-Signature") ?? "";
      const text = `connect ${p.url} failed; sig=${sig}; key=${SECRET}; token=tok en/+= or tok%20en%2F%2B%3D or tok+en%2F%2B%3D; q=${new URL(p.url).search}`;
      const out = redactSecrets(text, p.secrets);
      for (const leaked of [p.url, sig, SECRET, "tok en/+=", "tok%20en%2F%2B%3D", "tok+en%2F%2B%3D", "X-Amz-Signature"]) {
        assert.ok(!out.includes(leaked), `still in: ${out}`);
      }
      assert.match(out, /^connect \[redacted\] failed; sig=\[redacted\]; key=\[redacted\]/);
    });

    test("leaves text without secrets alone and ignores empty secrets", () => {
      assert.equal(redactSecrets("CONNACK timeout after 10000 ms", ["", "pa55word"]), "CONNACK timeout after 10000 ms");
      assert.equal(redactSecrets("bad pa55word!", ["pa55word", ""]), "bad [redacted]!");
    });
  });

  test("the example session token round-trips through the URL", async () => {
    const url = await presignMqttUrl({ host: "h", region: "r", credentials: { accessKeyId: "A", secretAccessKey: "s", sessionToken: EXAMPLE_TOKEN }, date: NOW });
    assert.equal(query(url).get("X-Amz-Security-Token"), EXAMPLE_TOKEN);
  });
}
