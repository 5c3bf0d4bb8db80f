/**
 * The shared device suite in Chromium, through the browser build of mqtt.js over ws://, against
 * the aedes (MQTT 3.1.1) and Mosquitto (MQTT 5) brokers of the browser global setup. The page
 * cannot stop those brokers or start one that refuses credentials, so the tests that need that
 * run on Node and Deno only (the suite registers them when the env says it can).
 */
import { inject } from "vitest";
import { browserHarness } from "./harness.ts";
import { deviceBrokerSuite, type DeviceEnv, type TestBroker } from "../suites/device-broker.suite.ts";
import { memoryStore } from "../../src/store/memory.ts";

function env(url: string, protocolVersion: 4 | 5): DeviceEnv {
  const shared: TestBroker = {
    url,
    stop: () => Promise.reject(new Error("the browser cannot stop the shared broker")),
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { protocolVersion, broker: () => Promise.resolve(shared), store: () => memoryStore(), restartable: false, canRefuseAuth: false };
}

browserHarness.describe("aedes ws, MQTT 3.1.1", () => deviceBrokerSuite(browserHarness, env(inject("brokerWsUrl"), 4)));
browserHarness.describe("mosquitto ws, MQTT 5", () => deviceBrokerSuite(browserHarness, env(inject("mosquittoWsUrl"), 5)));
