import { denoHarness } from "./harness.ts";
import { deviceRedactSuite } from "../suites/device-redact.suite.ts";
deviceRedactSuite(denoHarness);
