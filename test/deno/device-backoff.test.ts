import { denoHarness } from "./harness.ts";
import { deviceBackoffSuite } from "../suites/device-backoff.suite.ts";
deviceBackoffSuite(denoHarness);
