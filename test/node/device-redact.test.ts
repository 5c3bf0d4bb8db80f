import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceRedactSuite } from "../suites/device-redact.suite.ts";
deviceRedactSuite(vitestHarness);
