/**
 * presignMqttUrl against two independent SigV4 implementations, `aws4` and `@aws-sdk/signature-v4`:
 * the committed vectors, then random inputs (fast-check) with odd regions, keys, secrets, session
 * tokens, hosts, ports, paths, dates and expiries. Both signers put the session token into the signed
 * query, while AWS IoT wants it appended after signing, so they sign without it and the token is
 * checked separately.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@aws-sdk/signature-v4";
import aws4 from "aws4";
import fc from "fast-check";
import { describe, test } from "vitest";
import { presignMqttUrl, type AwsCredentials } from "../../src/auth/sigv4.ts";
import { PRESIGN_VECTORS } from "../suites/auth-sigv4-vectors.ts";

const SERVICE = "iotdevicegateway";
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === "string" ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** The hash constructor @aws-sdk/signature-v4 wants, on node:crypto. */
class NodeSha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

interface SignerInput {
  host: string;
  wirePath: string;
  region: string;
  akid: string;
  secret: string;
  amzDate: string;
  expiresSec?: number;
}

function aws4Signature(i: SignerInput): string {
  const q = `${i.expiresSec === undefined ? "" : `X-Amz-Expires=${i.expiresSec}&`}X-Amz-Date=${i.amzDate}`;
  const signed = aws4.sign(
    { host: i.host, path: `${i.wirePath}?${q}`, method: "GET", service: SERVICE, region: i.region, signQuery: true },
    { accessKeyId: i.akid, secretAccessKey: i.secret },
  );
  const sig = new URLSearchParams(String(signed.path).split("?")[1]).get("X-Amz-Signature");
  assert.ok(sig);
  return sig;
}

async function sdkSignature(i: SignerInput & { expiresSec: number }): Promise<{ signature: string; query: Record<string, string> }> {
  const signer = new SignatureV4({ service: SERVICE, region: i.region, credentials: { accessKeyId: i.akid, secretAccessKey: i.secret }, sha256: NodeSha256 });
  const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(i.amzDate)!.slice(1).map(Number) as [number, number, number, number, number, number];
  const signingDate = new Date(Date.UTC(t[0], t[1] - 1, t[2], t[3], t[4], t[5]));
  const presigned = await signer.presign(
    { method: "GET", protocol: "wss:", hostname: i.host.replace(/:\d+$/, ""), path: i.wirePath, query: {}, headers: { host: i.host } } as never,
    { signingDate, expiresIn: i.expiresSec },
  );
  const query = presigned.query as Record<string, string>;
  return { signature: query["X-Amz-Signature"]!, query };
}

/** The URL the AWS device SDKs assemble: canonical query, then the signature, then the token. */
function sdkStyleUrl(scheme: string, i: SignerInput, signature: string, token?: string): string {
  const scope = `${i.amzDate.slice(0, 8)}/${i.region}/${SERVICE}/aws4_request`;
  return `${scheme}://${i.host}${i.wirePath}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${rfc3986(`${i.akid}/${scope}`)}` +
    `&X-Amz-Date=${i.amzDate}${i.expiresSec === undefined ? "" : `&X-Amz-Expires=${i.expiresSec}`}&X-Amz-SignedHeaders=host` +
    `&X-Amz-Signature=${signature}${token ? `&X-Amz-Security-Token=${rfc3986(token)}` : ""}`;
}

const amzDateOf = (d: Date) => d.toISOString().replace(/[-:]|\.\d{3}/g, "");

describe("committed vectors", () => {
  for (const v of PRESIGN_VECTORS) {
    test(`${v.name}: aws4 reproduces the committed URL, and so does @aws-sdk/signature-v4 with X-Amz-Expires`, async () => {
      const c = v.input.credentials as AwsCredentials;
      const input: SignerInput = {
        host: v.signer.host, wirePath: v.signer.wirePath, region: v.input.region, akid: c.accessKeyId, secret: c.secretAccessKey,
        amzDate: amzDateOf(v.input.date!), ...(v.input.expiresSec === undefined ? {} : { expiresSec: v.input.expiresSec }),
      };
      assert.equal(sdkStyleUrl(v.signer.scheme, input, aws4Signature(input), c.sessionToken), v.expected);
      assert.equal(await presignMqttUrl(v.input), v.expected);

      const withExpiry = { ...input, expiresSec: 900 };
      const sdk = await sdkSignature(withExpiry);
      assert.equal(sdk.signature, aws4Signature(withExpiry));
      const ours = new URL(await presignMqttUrl({ ...v.input, expiresSec: 900 }));
      assert.equal(ours.searchParams.get("X-Amz-Signature"), sdk.signature);
      for (const [k, val] of Object.entries(sdk.query)) assert.equal(ours.searchParams.get(k), val, k);
    });
  }
});

// Arbitraries: anything SigV4 can carry, including characters that need encoding.
const noSlashNoControl = (s: string) => s !== "" && !s.includes("/") && !/[\u0000-\u001f\u007f]/.test(s);
const oddText = fc.string({ unit: "binary", minLength: 1, maxLength: 24 });
const region = fc.oneof(fc.constantFrom("us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1"), oddText.filter(noSlashNoControl));
const accessKeyId = fc.oneof(fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/), oddText.filter(noSlashNoControl));
const secret = fc.oneof(fc.stringMatching(/^[A-Za-z0-9/+]{40}$/), oddText);
const token = fc.option(fc.oneof(fc.base64String({ minLength: 4, maxLength: 400 }), oddText), { nil: undefined });
const segment = oddText.filter((s) => !s.includes("/") && s !== "." && s !== ".." && !/[\u0000-\u001f\u007f?#]/.test(s));
const path = fc.oneof(fc.constant(["mqtt"]), fc.array(segment, { minLength: 0, maxLength: 4 }));
const host = fc.record({ domain: fc.oneof(fc.domain(), fc.ipV4()), port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) });
const date = fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)), noInvalidDate: true });
const expires = fc.option(fc.integer({ min: 1, max: 604_800 }), { nil: undefined });

describe("random inputs (fast-check)", () => {
  test("signatures equal aws4's and @aws-sdk/signature-v4's; the URL decodes back to the inputs", async () => {
    await fc.assert(
      fc.asyncProperty(region, accessKeyId, secret, token, path, host, date, expires, async (r, akid, sec, tok, segments, h, d, exp) => {
        const hostHeader = h.port === undefined || h.port === 443 ? h.domain : `${h.domain}:${h.port}`;
        const rawPath = `/${segments.join("/")}`;
        const credentials: AwsCredentials = { accessKeyId: akid, secretAccessKey: sec, ...(tok === undefined ? {} : { sessionToken: tok }) };
        const url = await presignMqttUrl({
          host: h.port === undefined ? h.domain : `${h.domain}:${h.port}`, path: rawPath, region: r, credentials, date: d,
          ...(exp === undefined ? {} : { expiresSec: exp }),
        });
        const u = new URL(url);
        assert.equal(u.protocol, "wss:");
        assert.equal(u.host, hostHeader);
        assert.deepEqual(u.pathname.split("/").slice(1).map(decodeURIComponent), segments.length ? segments : [""]);
        const q = u.searchParams;
        assert.equal(q.get("X-Amz-Security-Token"), tok === undefined || tok === "" ? null : tok);
        const input: SignerInput = {
          host: hostHeader, wirePath: u.pathname, region: r, akid, secret: sec, amzDate: amzDateOf(d),
          ...(exp === undefined ? {} : { expiresSec: exp }),
        };
        const signature = q.get("X-Amz-Signature");
        assert.equal(signature, aws4Signature(input));
        assert.equal(url, sdkStyleUrl("wss", input, signature!, tok));
        if (exp !== undefined) {
          const sdk = await sdkSignature({ ...input, expiresSec: exp });
          assert.equal(signature, sdk.signature);
          for (const [k, val] of Object.entries(sdk.query)) assert.equal(q.get(k), val, k);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("the same random inputs, signed by @aws-sdk/signature-v4 with a one-hour expiry", async () => {
    await fc.assert(
      fc.asyncProperty(region, accessKeyId, secret, path, host, date, async (r, akid, sec, segments, h, d) => {
        const url = new URL(await presignMqttUrl({ host: h.port === undefined ? h.domain : `${h.domain}:${h.port}`, path: `/${segments.join("/")}`, region: r, credentials: { accessKeyId: akid, secretAccessKey: sec }, date: d, expiresSec: 3600 }));
        const sdk = await sdkSignature({ host: url.host, wirePath: url.pathname, region: r, akid, secret: sec, amzDate: amzDateOf(d), expiresSec: 3600 });
        assert.equal(url.searchParams.get("X-Amz-Signature"), sdk.signature);
      }),
      { numRuns: 200 },
    );
  });
});
