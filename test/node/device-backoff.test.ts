import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceBackoffSuite } from "../suites/device-backoff.suite.ts";
deviceBackoffSuite(vitestHarness);
