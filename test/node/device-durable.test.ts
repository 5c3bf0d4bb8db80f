import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceDurableSuite } from "../suites/device-durable.suite.ts";
import { sqliteEnv } from "../suites/device-sqlite-env.ts";
deviceDurableSuite(vitestHarness, sqliteEnv());
