/**
 * Why a connection attempt failed or a session ended, as a `ThingwireError` with a scrubbed
 * message: `AUTH_REJECTED` (CONNACK bad credentials / not authorized, HTTP 401/403 on the
 * WebSocket upgrade, a TLS alert about our certificate), `CONNECT_TIMEOUT` (no CONNACK in time),
 * `CONNECT_FAILED` (everything else before CONNACK), `CONNECTION_LOST` (after it).
 */
import { ThingwireError } from "../errors.ts";
import type { ResolvedOptions } from "./options.ts";
import { describe, type Redactor } from "./redact.ts";

/** MQTT 5 CONNACK reason codes that mean "your credentials": bad user/pass, not authorized, bad auth method. */
const AUTH_REASONS_V5 = new Set([134, 135, 140]);
/** MQTT 3.1.1 CONNACK return codes: bad user name or password, not authorized. */
const AUTH_RETURN_CODES_V4 = new Set([4, 5]);
/** TLS alerts a server sends when it does not accept the client certificate. */
const CERT_ALERT = /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE)/;

/** The URL without userinfo, query or fragment: safe to show. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "the broker";
  }
}

/** An error before CONNACK (or `undefined` when the socket just closed). */
export function classifyConnectError(e: unknown, o: ResolvedOptions, r: Redactor): ThingwireError {
  const where = safeUrl(o.url);
  if (e === undefined) {
    return new ThingwireError(
      "CONNECT_FAILED",
      `the connection to ${where} closed before the broker answered CONNECT; check the URL path and that it is an MQTT endpoint`,
    );
  }
  const code = (e as { code?: unknown } | null)?.code;
  const msg = r.text(describe(e));
  if (typeof code === "number" && /^Connection refused/.test(msg)) {
    const auth = (o.protocolVersion === 5 ? AUTH_REASONS_V5 : AUTH_RETURN_CODES_V4).has(code);
    const kind = o.protocolVersion === 5 ? "reason code" : "return code";
    const text = msg.replace(/^Connection refused:\s*/, "") || "refused";
    return auth
      ? new ThingwireError("AUTH_REJECTED", `${where} refused the credentials (CONNACK ${kind} ${code}: ${text}); check the username, password, token, certificate or policy`)
      : new ThingwireError("CONNECT_FAILED", `${where} refused the connection (CONNACK ${kind} ${code}: ${text})`);
  }
  if (msg === "connack timeout") {
    return new ThingwireError(
      "CONNECT_TIMEOUT",
      `no CONNACK from ${where} within ${o.connectTimeoutMs} ms; the broker may be overloaded, or the port is not an MQTT endpoint`,
    );
  }
  const http = /Unexpected server response: (\d{3})/.exec(msg);
  if (http && (http[1] === "401" || http[1] === "403")) {
    return new ThingwireError("AUTH_REJECTED", `${where} refused the WebSocket upgrade with HTTP ${http[1]}: the signature, token or credentials were not accepted`);
  }
  if (typeof code === "string" && CERT_ALERT.test(code)) {
    return new ThingwireError("AUTH_REJECTED", `${where} did not accept the client certificate (${code}): ${msg}`);
  }
  const sys = typeof code === "string" && !msg.includes(code) ? ` (${code})` : "";
  return new ThingwireError("CONNECT_FAILED", `cannot connect to ${where}: ${msg}${sys}`);
}

/** An established session ended. */
export function connectionLost(serverDisconnect: string | undefined, e: unknown, r: Redactor): ThingwireError {
  const why = serverDisconnect ?? (e === undefined ? "the socket closed" : r.text(describe(e)));
  return new ThingwireError("CONNECTION_LOST", `connection lost: ${why}`);
}
