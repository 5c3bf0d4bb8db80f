/** Small helpers for the device suites: runtime-neutral (no node:*), so they run in Node, Deno and Chromium. */
import type { Device, DeviceStatus } from "../../src/device/types.ts";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function until<T>(pred: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Records every status of `device`. */
export function statusLog(device: Device): DeviceStatus[] {
  const log: DeviceStatus[] = [];
  device.on("status", (s) => log.push(s));
  return log;
}

/** Resolves with the next status in `state` (or the current one if already there). */
export function nextState(device: Device, state: DeviceStatus["state"], timeoutMs = 10_000): Promise<DeviceStatus> {
  if (device.status.state === state) return Promise.resolve(device.status);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`device did not reach "${state}" within ${timeoutMs} ms (now ${device.status.state}: ${device.status.reason})`));
    }, timeoutMs);
    const off = device.on("status", (s) => {
      if (s.state !== state) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A unique client id / topic segment per test. */
export const uid = (p = "t"): string => `${p}-${Math.random().toString(36).slice(2, 10)}`;
