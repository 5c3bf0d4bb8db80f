/**
 * Short-lived device JWTs (jose, WebCrypto): a password for JWT-as-password MQTT brokers and the
 * bearer token of HTTP collect.
 *
 * jose is imported dynamically (./jose.ts), on the first mint: a page that never signs a JWT never
 * loads it (in the browser bundle it is a chunk next to the entry, dist/browser/thingwire[.min]-jose-*.js).
 */
import { ThingwireError } from "../errors.ts";
import { subtle } from "./hmac.ts";
import { privateKeyPem } from "./pem.ts";

/**
 * Options of `deviceJwt`.
 *
 * @example
 * ```ts
 * const o: DeviceJwtOptions = { privateKey: pkcs8Pem, alg: "ES256", thingId: "thing-42", audience: "collect" };
 * ```
 */
export interface DeviceJwtOptions {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or a private `CryptoKey` for `alg`. */
  privateKey: string | CryptoKey;
  /** RS256 (RSA, 2048 bits or more) or ES256 (EC P-256). */
  alg: "RS256" | "ES256";
  /** The thing id: goes into the `kid` header and the `sub` claim. */
  thingId: string;
  /** `iss` claim; default the thing id. */
  issuer?: string;
  /** `aud` claim: what the broker or collect endpoint expects; default none. */
  audience?: string | string[];
  /** Lifetime in seconds (`exp` = `iat` + ttlSec); default 300, at most 86,400. */
  ttlSec?: number;
  /** Extra claims; the ones above win. */
  claims?: Record<string, unknown>;
  /** Clock; default `() => new Date()`. */
  now?: () => Date;
}

const invalid = (message: string, path: string): ThingwireError => new ThingwireError("AUTH_INVALID_OPTIONS", message, { path });

function isCryptoKey(k: unknown): k is CryptoKey {
  return typeof k === "object" && k !== null && typeof (k as CryptoKey).type === "string" && typeof (k as CryptoKey).algorithm === "object";
}

type Jose = typeof import("./jose.ts");
/** jose, loaded once, on the first mint; a failed load is retried on the next mint. */
let jose: Promise<Jose> | undefined;
function loadJose(): Promise<Jose> {
  jose ??= import("./jose.ts").catch((e: unknown) => {
    jose = undefined;
    throw new ThingwireError(
      "AUTH_UNSUPPORTED",
      "the JWT signer (jose) could not be loaded; with the browser bundle, serve the chunk files of dist/browser/ (thingwire[.min]-jose-*.js) next to thingwire[.min].js",
      { cause: e },
    );
  });
  return jose;
}

const keyType = (alg: "RS256" | "ES256"): string => (alg === "ES256" ? "EC P-256" : "RSA");

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Returns a function that mints a fresh signed JWT at every call: header `{ alg, typ: "JWT", kid:
 * thingId }`, claims `iss`, `sub` (thing id), `aud`, `iat`, `exp`, `jti`. Pass it as a `tokenAuth`
 * password provider so each connection attempt gets a new token, or as the `token` of `collect()`.
 * The key is imported once, on the first call. In browsers WebCrypto needs a secure context
 * (https:// or localhost).
 *
 * @example
 * ```ts
 * const auth = tokenAuth({
 *   username: "thing-42",
 *   password: deviceJwt({ privateKey: pkcs8Pem, alg: "ES256", thingId: "thing-42", audience: "mqtt-broker" }),
 * });
 * ```
 */
export function deviceJwt(options: DeviceJwtOptions): () => Promise<string> {
  if (typeof options !== "object" || options === null) throw invalid("deviceJwt needs an options object { privateKey, alg, thingId }", "privateKey");
  const { alg, thingId, issuer, audience, claims } = options;
  if (alg !== "RS256" && alg !== "ES256") throw invalid('alg must be "RS256" or "ES256"', "alg");
  if (typeof thingId !== "string" || thingId === "") throw invalid("thingId must be a non-empty string", "thingId");
  if (issuer !== undefined && (typeof issuer !== "string" || issuer === "")) throw invalid("issuer must be a non-empty string", "issuer");
  if (audience !== undefined) {
    const list = Array.isArray(audience) ? audience : [audience];
    if (list.length === 0 || list.some((a) => typeof a !== "string" || a === "")) throw invalid("audience must be a non-empty string or list of them", "audience");
  }
  const ttlSec = options.ttlSec ?? 300;
  if (typeof ttlSec !== "number" || !Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > 86_400) {
    throw invalid("ttlSec must be an integer from 1 to 86400", "ttlSec");
  }
  if (claims !== undefined && (typeof claims !== "object" || claims === null || Array.isArray(claims))) throw invalid("claims must be an object", "claims");
  const now = options.now ?? (() => new Date());
  if (typeof now !== "function") throw invalid("now must be a function returning a Date", "now");

  let getKey: (j: Jose) => Promise<CryptoKey>;
  const pk = options.privateKey;
  if (isCryptoKey(pk)) {
    if (pk.type !== "private") throw invalid(`privateKey must be a private key, not a ${pk.type} one`, "privateKey");
    getKey = () => Promise.resolve(pk);
  } else {
    const { text, block } = privateKeyPem(pk, "privateKey");
    if (block.label !== "PRIVATE KEY") {
      throw invalid(`privateKey must be PKCS#8 ("-----BEGIN PRIVATE KEY-----"), not ${block.label}; convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`, "privateKey");
    }
    // Imported lazily, once, so constructing the provider stays synchronous.
    let imported: Promise<CryptoKey> | undefined;
    getKey = ({ importPKCS8 }) =>
      (imported ??= importPKCS8(text, alg).catch((e: unknown) => {
        throw new ThingwireError("AUTH_INVALID_OPTIONS", `privateKey could not be imported as a ${alg} key; check the key type matches alg (${keyType(alg)})`, {
          path: "privateKey",
          cause: e,
        });
      }));
  }

  return async () => {
    subtle(); // AUTH_UNSUPPORTED where WebCrypto is missing, rather than a misleading key error
    const j = await loadJose();
    const key = await getKey(j);
    const date = now();
    const ms = date instanceof Date ? date.getTime() : NaN;
    if (!Number.isFinite(ms)) throw invalid("now() must return a valid Date", "now");
    const iat = Math.floor(ms / 1000);
    const jwt = new j.SignJWT({ ...claims })
      .setProtectedHeader({ alg, typ: "JWT", kid: thingId })
      .setIssuer(issuer ?? thingId)
      .setSubject(thingId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSec)
      .setJti(randomId());
    if (audience !== undefined) jwt.setAudience(audience);
    try {
      return await jwt.sign(key);
    } catch (e) {
      throw new ThingwireError("AUTH_INVALID_OPTIONS", `signing the device JWT failed; check privateKey is an ${keyType(alg)} key usable for ${alg}`, {
        path: "privateKey",
        cause: e,
      });
    }
  };
}
