/**
 * Global setup of the Vitest browser project (runs in Node, once per run): starts the embedded
 * aedes broker (MQTT 3.1.1) with a WebSocket listener and a Mosquitto (MQTT 5) with a WebSocket
 * listener, both on free ports, and provides their URLs to the tests in Chromium:
 *
 *   import { inject } from "vitest";
 *   const url = inject("brokerWsUrl");     // ws://127.0.0.1:PORT (aedes)
 *   const url5 = inject("mosquittoWsUrl"); // ws://127.0.0.1:PORT (Mosquitto, MQTT 5)
 *
 * Both stop when the run ends.
 */
import type { TestProject } from "vitest/node";
import { startBroker } from "../../src/cli/broker.ts";
import { startMosquitto } from "../helpers/mosquitto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** ws:// URL of the embedded aedes broker (MQTT 3.1.1). */
    brokerWsUrl: string;
    /** ws:// URL of a Mosquitto WebSocket listener (MQTT 5 and 3.1.1). */
    mosquittoWsUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const broker = await startBroker({ wsPort: 0 });
  let mosquitto;
  try {
    mosquitto = await startMosquitto({ ws: true });
  } catch (e) {
    await broker.close();
    throw e;
  }
  project.provide("brokerWsUrl", broker.wsUrl);
  project.provide("mosquittoWsUrl", mosquitto.wsUrl!);
  return async () => {
    await Promise.all([broker.close(), mosquitto.dispose()]);
  };
}
