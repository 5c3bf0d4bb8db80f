/**
 * Presigned-URL test vectors. Each `expected` URL was computed once with the npm package `aws4`
 * (signature over host + path + the canonical query, the session token left out of the signature and
 * appended after it, as the AWS IoT device SDKs do) and committed here; test/node/auth-sigv4-crosscheck
 * recomputes every one with aws4 and @aws-sdk/signature-v4 so the constants cannot drift.
 */
import type { PresignMqttUrlOptions } from "../../src/auth/sigv4.ts";

export interface PresignVector {
  name: string;
  input: PresignMqttUrlOptions;
  /** What an independent signer is given: the canonical host header and the path as sent. */
  signer: { scheme: "wss" | "ws"; host: string; wirePath: string };
  expected: string;
}

/** The AWS documentation's example session token (base64 with "/", "+" and "="). */
export const EXAMPLE_TOKEN =
  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

export const PRESIGN_VECTORS: PresignVector[] = [
  {
    name: "AWS IoT endpoint, long-lived keys",
    input: {
      host: "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com",
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      date: new Date("2015-08-30T12:36:00Z"),
    },
    signer: { scheme: "wss", host: "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com", wirePath: "/mqtt" },
    expected:
      "wss://a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abaa19ec946afb81af70a8d779058f5587de5b38d677c12d9f47702a8744126e",
  },
  {
    name: "temporary credentials with a session token",
    input: {
      url: "wss://example-ats.iot.eu-west-1.amazonaws.com/mqtt",
      region: "eu-west-1",
      credentials: { accessKeyId: "ASIAEXAMPLETEMP0001", secretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", sessionToken: EXAMPLE_TOKEN },
      date: new Date("2024-02-29T23:59:59.999Z"),
    },
    signer: { scheme: "wss", host: "example-ats.iot.eu-west-1.amazonaws.com", wirePath: "/mqtt" },
    expected:
      "wss://example-ats.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLETEMP0001%2F20240229%2Feu-west-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20240229T235959Z&X-Amz-SignedHeaders=host&X-Amz-Signature=1bdf3c107ca7bc18fe183e227e585ff8ff08684c032f1343610d88200b08aed5&X-Amz-Security-Token=AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI%2FqkPpKPi%2FkMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d%2Bxo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz%2BscqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR%2FoLxBA%3D%3D",
  },
  {
    name: "X-Amz-Expires and a non-default port",
    input: {
      host: "LocalHost:8443",
      region: "ap-southeast-2",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "secret with spaces & symbols/+=" },
      date: new Date("2099-12-31T00:00:00Z"),
      expiresSec: 3600,
    },
    signer: { scheme: "wss", host: "localhost:8443", wirePath: "/mqtt" },
    expected:
      "wss://localhost:8443/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20991231%2Fap-southeast-2%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20991231T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=cfe9952ba820545ffc5da3749b54e2c7f92286fb425ee313952ac130c5a809fa",
  },
  {
    name: "path, region, key and token that need encoding; default port dropped",
    input: {
      host: "Example.COM:443",
      path: "/mqtt/a b/ü~!*",
      region: "local region~1",
      credentials: { accessKeyId: "AKID+WITH=ODD", secretAccessKey: "sëcret ✓", sessionToken: "tok en/+=&?" },
      date: new Date("2000-01-01T00:00:00Z"),
    },
    signer: { scheme: "wss", host: "example.com", wirePath: "/mqtt/a%20b/%C3%BC~%21%2A" },
    expected:
      "wss://example.com/mqtt/a%20b/%C3%BC~%21%2A?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2BWITH%3DODD%2F20000101%2Flocal%20region~1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20000101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=b20ab45fb1734b342a2ca21725004a931ee16ead77df53509420c8177213f2a8&X-Amz-Security-Token=tok%20en%2F%2B%3D%26%3F",
  },
  {
    name: "IPv6 host over ws (local gateway)",
    input: {
      url: "ws://[::1]:8080/mqtt",
      region: "us-gov-west-1",
      credentials: { accessKeyId: "AKIDIPV6", secretAccessKey: "v6", sessionToken: "" },
      date: new Date(1000),
    },
    signer: { scheme: "ws", host: "[::1]:8080", wirePath: "/mqtt" },
    expected:
      "ws://[::1]:8080/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDIPV6%2F19700101%2Fus-gov-west-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=19700101T000001Z&X-Amz-SignedHeaders=host&X-Amz-Signature=aa818a060c296d960898413fc9a07ed0d50fb2203e6af174717d0523dc1d8d5b",
  },
];
