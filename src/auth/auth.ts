/**
 * The auth port: how a device signs in. `createDevice` calls `prepare()` before every
 * connection attempt, so URLs are signed afresh and tokens minted anew each time.
 * Implementations: `sigv4()`, `clientCert()`, `tokenAuth()`, `noAuth()`.
 *
 * @example
 * ```ts
 * const auth: DeviceAuth = tokenAuth({ username: "thing-42", password: async () => mintToken() });
 * const prepared = await auth.prepare({ url: "wss://broker/mqtt", clientId: "thing-42" }, new Date());
 * ```
 */

/** What the device is about to connect to. */
export interface ConnectTarget {
  /** The broker URL from the device options (`ws://`, `wss://`, `mqtt://`, `mqtts://`). */
  url: string;
  clientId: string;
}

/** TLS material for mTLS (Node and Deno only): PEM strings or bytes. */
export interface TlsMaterial {
  key?: string | Uint8Array;
  cert?: string | Uint8Array;
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** Default true. Turn off only against a test broker. */
  rejectUnauthorized?: boolean;
  /** TLS server name when it differs from the URL host. */
  servername?: string;
}

/** The result of `prepare()`: what mqtt.js gets for one connection attempt. */
export interface PreparedConnection {
  /** The URL to open; a SigV4 auth returns the presigned URL. Never logged. */
  url: string;
  username?: string;
  password?: string;
  tls?: TlsMaterial;
  /**
   * Every secret value in this connection (password, signature, session token, key PEM):
   * the device scrubs these from every error and status reason it emits.
   */
  secrets: string[];
}

/** A way to sign in, called anew before every connection attempt. */
export interface DeviceAuth {
  /** "none", "sigv4", "client-cert", "token". */
  readonly kind: string;
  prepare(target: ConnectTarget, now: Date): Promise<PreparedConnection>;
}

/**
 * No authentication: the URL as it is.
 *
 * @example
 * ```ts
 * createDevice({ url: "ws://127.0.0.1:8080", clientId: "kiosk", auth: noAuth() });
 * ```
 */
export function noAuth(): DeviceAuth {
  return { kind: "none", prepare: (t) => Promise.resolve({ url: t.url, secrets: [] }) };
}
