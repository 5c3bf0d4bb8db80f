/**
 * The shared device suite on Deno: Mosquitto over WebSocket (MQTT 5) and aedes (MQTT 3.1.1) over
 * TCP — aedes' WebSocket listener, run inside Deno 2.9, receives only the first frame of a
 * connection, so the aedes run uses its TCP listener until src/cli/broker.ts works there.
 */
import { denoHarness } from "./harness.ts";
import { deviceBrokerSuite } from "../suites/device-broker.suite.ts";
import { aedesEnv } from "../suites/device-aedes-env.ts";
import { mosquittoEnv } from "../suites/device-mosquitto-env.ts";
denoHarness.describe("aedes tcp, MQTT 3.1.1", () => deviceBrokerSuite(denoHarness, aedesEnv("tcp")));
denoHarness.describe("mosquitto ws, MQTT 5", () => deviceBrokerSuite(denoHarness, mosquittoEnv));
