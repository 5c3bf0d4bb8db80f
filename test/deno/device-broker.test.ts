/** The shared device suite on Deno: aedes over WebSocket (MQTT 3.1.1) and Mosquitto over WebSocket (MQTT 5). */
import { denoHarness } from "./harness.ts";
import { deviceBrokerSuite } from "../suites/device-broker.suite.ts";
import { aedesEnv } from "../suites/device-aedes-env.ts";
import { mosquittoEnv } from "../suites/device-mosquitto-env.ts";
denoHarness.describe("aedes ws, MQTT 3.1.1", () => deviceBrokerSuite(denoHarness, aedesEnv("ws")));
denoHarness.describe("mosquitto ws, MQTT 5", () => deviceBrokerSuite(denoHarness, mosquittoEnv));
