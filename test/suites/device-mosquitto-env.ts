/**
 * The device suite's environment with real Mosquitto (test/helpers/mosquitto.ts) over WebSocket,
 * MQTT 5, memoryStore(): Node and Deno (both run the helper; it needs /usr/sbin/mosquitto).
 */
import { startMosquitto } from "../helpers/mosquitto.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { DeviceEnv, TestBroker } from "./device-broker.suite.ts";

export async function mosquittoBroker(opts: { password?: string } = {}): Promise<TestBroker> {
  const m = await startMosquitto(opts.password === undefined ? { ws: true } : { ws: true, passwords: { u: opts.password } });
  const url = opts.password === undefined ? m.wsUrl! : m.wsAuthUrl!;
  return {
    url,
    stop: () => m.stop(),
    start: () => m.restart(),
    close: () => m.dispose(),
  };
}

export const mosquittoEnv: DeviceEnv = {
  protocolVersion: 5,
  broker: mosquittoBroker,
  store: () => memoryStore(),
  restartable: true,
  canRefuseAuth: true,
};
