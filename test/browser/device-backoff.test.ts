import { browserHarness } from "./harness.ts";
import { deviceBackoffSuite } from "../suites/device-backoff.suite.ts";
deviceBackoffSuite(browserHarness);
