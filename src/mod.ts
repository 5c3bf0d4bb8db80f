/**
 * thingwire: the core. Web APIs only; runs unchanged in browsers, Deno and Node.
 * Storage adapters are separate entry points: `thingwire/sqlite`, `thingwire/indexeddb`.
 *
 * @example
 * ```ts
 * import { createDevice, memoryStore, encodeTelemetry } from "thingwire";
 * const device = createDevice({ url: "ws://127.0.0.1:8080", clientId: "thing-42", store: memoryStore() });
 * await device.publish("telemetry/thing-42", encodeTelemetry(telemetry));
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./codec/telemetry.ts";
export * from "./codec/compressed.ts";
export * from "./codec/compressed-async.ts";
export * from "./codec/can.ts";
export * from "./codec/dbc.ts";
export * from "./codec/detect.ts";
export * from "./auth/auth.ts";
export * from "./auth/sigv4.ts";
export * from "./auth/credentials.ts";
export * from "./auth/jwt.ts";
export type * from "./store/store.ts";
export * from "./store/memory.ts";
export type * from "./device/types.ts";
export * from "./device/device.ts";
export * from "./device/collect.ts";
