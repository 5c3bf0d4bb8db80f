/**
 * `createDevice` options with their defaults applied and checked. A bad value throws
 * `OPTIONS_INVALID` naming the key, before anything connects.
 */
import { noAuth } from "../auth/auth.ts";
import { ThingwireError } from "../errors.ts";
import { backoffSettings, type BackoffSettings } from "./backoff.ts";
import type { DeviceOptions } from "./types.ts";

/** Every option resolved. */
export interface ResolvedOptions {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  keepaliveSec: number;
  connectTimeoutMs: number;
  clean: boolean;
  sessionExpirySec: number;
  timerVariant: "auto" | "worker" | "native";
  reconnect: BackoffSettings;
  tlsKeyMaterial: boolean;
  outbox: {
    maxMessages: number;
    maxBytes: number;
    whenFull: "reject" | "drop-oldest";
    inFlight: number;
    drainRatePerSec: number;
    ttlMs: number | undefined;
    maxMessageBytes: number;
  };
  inbox: { expireSeconds: number; dedupeWindowSec: number; purgeIntervalSec: number };
}

function bad(path: string, rule: string, v: unknown): ThingwireError {
  const shown = typeof v === "string" ? JSON.stringify(v) : String(v);
  return new ThingwireError("OPTIONS_INVALID", `${path} ${rule}, got ${shown}.`, { path });
}

function num(v: unknown, path: string, dflt: number, o: { min?: number; max?: number; int?: boolean } = {}): number {
  if (v === undefined) return dflt;
  const min = o.min ?? 0;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || (o.max !== undefined && v > o.max) || (o.int && !Number.isInteger(v))) {
    const range = o.max !== undefined ? `between ${min} and ${o.max}` : `at least ${min}`;
    throw bad(path, `must be ${o.int ? "an integer" : "a number"} ${range}`, v);
  }
  return v;
}

/** Applies defaults and checks every option. */
export function resolveOptions(o: DeviceOptions): ResolvedOptions {
  if (o === null || typeof o !== "object") throw bad("options", "must be an object", o);
  if (typeof o.url !== "string" || !/^(wss?|mqtts?):\/\/[^/]/i.test(o.url)) {
    throw bad("url", "must be a ws://, wss://, mqtt:// or mqtts:// URL with a host", o.url === undefined ? "nothing" : "another value");
  }
  if (typeof o.clientId !== "string" || o.clientId.length === 0 || o.clientId.length > 65_535) {
    throw bad("clientId", "must be a non-empty string (usually the thing id)", o.clientId);
  }
  if (o.protocolVersion !== undefined && o.protocolVersion !== 4 && o.protocolVersion !== 5) {
    throw bad("protocolVersion", "must be 5 (MQTT 5) or 4 (MQTT 3.1.1)", o.protocolVersion);
  }
  const tv = o.timerVariant ?? "auto";
  if (tv !== "auto" && tv !== "worker" && tv !== "native") throw bad("timerVariant", 'must be "auto", "worker" or "native"', tv);
  if (o.auth !== undefined && (o.auth === null || typeof o.auth.prepare !== "function")) {
    throw bad("auth", "must be a DeviceAuth (sigv4(), clientCert(), tokenAuth() or noAuth())", typeof o.auth);
  }
  const ob = o.outbox ?? {};
  const whenFull = ob.whenFull ?? "reject";
  if (whenFull !== "reject" && whenFull !== "drop-oldest") throw bad("outbox.whenFull", 'must be "reject" or "drop-oldest"', whenFull);
  const ib = o.inbox ?? {};
  return {
    url: o.url,
    clientId: o.clientId,
    protocolVersion: o.protocolVersion ?? 5,
    keepaliveSec: num(o.keepaliveSec, "keepaliveSec", 30, { max: 65_535, int: true }),
    connectTimeoutMs: num(o.connectTimeoutMs, "connectTimeoutMs", 10_000, { min: 1 }),
    clean: o.clean ?? false,
    sessionExpirySec: num(o.sessionExpirySec, "sessionExpirySec", 3_600, { max: 0xffff_ffff, int: true }),
    timerVariant: tv,
    reconnect: backoffSettings(o.reconnect),
    tlsKeyMaterial: o.transport?.tlsKeyMaterial ?? true,
    outbox: {
      maxMessages: num(ob.maxMessages, "outbox.maxMessages", 100_000, { min: 1, int: true }),
      maxBytes: num(ob.maxBytes, "outbox.maxBytes", 64 * 1024 * 1024, { min: 1 }),
      whenFull,
      inFlight: num(ob.inFlight, "outbox.inFlight", 64, { min: 1, max: 65_535, int: true }),
      drainRatePerSec: num(ob.drainRatePerSec, "outbox.drainRatePerSec", Infinity, { min: Number.MIN_VALUE }),
      ttlMs: ob.ttlMs === undefined ? undefined : num(ob.ttlMs, "outbox.ttlMs", 0, { min: 1 }),
      maxMessageBytes: num(ob.maxMessageBytes, "outbox.maxMessageBytes", 128 * 1024, { min: 0, int: true }),
    },
    inbox: {
      expireSeconds: num(ib.expireSeconds, "inbox.expireSeconds", 86_400, { min: 0 }),
      dedupeWindowSec: num(ib.dedupeWindowSec, "inbox.dedupeWindowSec", 600, { min: 0 }),
      purgeIntervalSec: num(ib.purgeIntervalSec, "inbox.purgeIntervalSec", 60, { min: 1 }),
    },
  };
}
