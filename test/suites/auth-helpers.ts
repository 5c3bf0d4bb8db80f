/** Helpers for the auth suites: PEM from WebCrypto keys, and error checks that also look for leaked secrets. */
import { ThingwireError, type ThingwireErrorCode } from "../../src/errors.ts";
import type { Assert } from "./harness.ts";

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** PEM text of `bytes` under `label`, 64 characters a line. */
export function toPem(label: string, bytes: Uint8Array): string {
  const lines = base64(bytes).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export interface KeyPairPem {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** PKCS#8 PEM of the private key. */
  pem: string;
  /** The base64 body of the PEM (what a leak would show). */
  body: string;
}

/** A fresh extractable key pair for ES256 or RS256, with its PKCS#8 PEM. */
export async function makeKeyPair(alg: "ES256" | "RS256"): Promise<KeyPairPem> {
  const params = alg === "ES256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, pem: toPem("PRIVATE KEY", der), body: base64(der) };
}

/** A PEM block that is well-formed base64 but not a real certificate (clientCert checks form only). */
export function fakeCertificatePem(seed = 7): string {
  return toPem("CERTIFICATE", Uint8Array.from({ length: 300 }, (_, i) => (i * seed + 11) & 0xff));
}

/** Asserts that `e` is a ThingwireError with `code` and that no secret shows in its message, JSON or string form. */
export function assertSafeError(assert: Assert, e: unknown, code: ThingwireErrorCode, secrets: string[]): ThingwireError {
  assert.ok(e instanceof ThingwireError, `expected a ThingwireError, got ${String(e)}`);
  assert.equal(e.code, code, `code of: ${e.message}`);
  const shown = [e.message, String(e), JSON.stringify(e.toJSON()), e.stack ?? ""];
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const text of shown) assert.ok(!text.includes(s), `secret leaked into error text: ${e.message}`);
  }
  return e;
}

/** Awaits `run`, which must fail; returns the checked error. */
export async function failsSafely(
  assert: Assert,
  run: () => unknown,
  code: ThingwireErrorCode,
  secrets: string[],
): Promise<ThingwireError> {
  try {
    await run();
  } catch (e) {
    return assertSafeError(assert, e, code, secrets);
  }
  return assert.fail(`expected ${code}, but it succeeded`);
}
