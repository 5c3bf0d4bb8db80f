/** Small waiting utilities for tests. None of them asserts on timing: a timeout is a failure with a message. */
import { connect } from "node:net";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `predicate` (sync or async) every `intervalMs` until it returns a truthy value, and
 * resolves with that value. Rejects after `timeoutMs` with `message` (or a generic one); a
 * predicate that throws is treated as "not yet" and its last error is attached as `cause`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } | number = {},
): Promise<NonNullable<T>> {
  const o = typeof opts === "number" ? { timeoutMs: opts } : opts;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const intervalMs = o.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: ${o.message ?? "condition not met"} within ${timeoutMs} ms`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** Resolves with the arguments of the next `event` on `emitter`, or rejects after `timeoutMs`. */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: { once(event: string, fn: (...args: any[]) => void): unknown; off?(event: string, fn: (...args: any[]) => void): unknown },
  event: string,
  timeoutMs = 10_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off?.(event, onEvent);
      reject(new Error(`waitForEvent: no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, onEvent);
  });
}

/** Rejects with `message` if `promise` has not settled within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} did not finish within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]);
}

/** True once a TCP connection to host:port succeeds (closed straight away). */
export function canConnect(port: number, host = "127.0.0.1", timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Waits until host:port accepts TCP connections. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 10_000): Promise<void> {
  await waitFor(() => canConnect(port, host), { timeoutMs, intervalMs: 25, message: `${host}:${port} to accept connections` });
}

/** Waits until nothing accepts TCP connections on host:port any more. */
export async function waitForPortClosed(port: number, host = "127.0.0.1", timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => !(await canConnect(port, host)), {
    timeoutMs,
    intervalMs: 25,
    message: `${host}:${port} to stop accepting connections`,
  });
}

/** How an MQTT connection attempt ended. */
export type ConnectOutcome =
  | { outcome: "connect"; packet: unknown }
  | { outcome: "error"; error: Error }
  | { outcome: "close" }
  | { outcome: "timeout" };

/**
 * Resolves with the first of `connect`, `error` or `close` on an mqtt.js client (or any emitter
 * with those events), or `timeout`. mqtt.js's connectAsync never settles when the server drops a
 * TLS connection without an error (a refused client certificate under TLS 1.3): use this instead.
 */
export function connectOutcome(
  client: { once(event: string, fn: (...args: any[]) => void): unknown; off(event: string, fn: (...args: any[]) => void): unknown },
  timeoutMs = 10_000,
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const finish = (o: ConnectOutcome) => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
      client.off("close", onClose);
      resolve(o);
    };
    const onConnect = (packet: unknown) => finish({ outcome: "connect", packet });
    const onError = (error: Error) => finish({ outcome: "error", error });
    const onClose = () => finish({ outcome: "close" });
    const timer = setTimeout(() => finish({ outcome: "timeout" }), timeoutMs);
    client.once("connect", onConnect);
    client.once("error", onError);
    client.once("close", onClose);
  });
}
