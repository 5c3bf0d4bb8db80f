/** The shared device suite on Node: aedes over WebSocket (MQTT 3.1.1) and Mosquitto over WebSocket (MQTT 5). */
import { describe } from "vitest";
import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceBrokerSuite } from "../suites/device-broker.suite.ts";
import { aedesEnv } from "../suites/device-aedes-env.ts";
import { mosquittoEnv } from "../suites/device-mosquitto-env.ts";
describe("aedes ws, MQTT 3.1.1", () => deviceBrokerSuite(vitestHarness, aedesEnv("ws")));
describe("mosquitto ws, MQTT 5", () => deviceBrokerSuite(vitestHarness, mosquittoEnv));
