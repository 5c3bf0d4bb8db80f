import { denoHarness } from "./harness.ts";
import { deviceDurableSuite } from "../suites/device-durable.suite.ts";
import { sqliteEnv } from "../suites/device-sqlite-env.ts";
deviceDurableSuite(denoHarness, sqliteEnv());
