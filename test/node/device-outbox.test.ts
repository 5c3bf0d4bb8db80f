import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceOutboxSuite } from "../suites/device-outbox.suite.ts";
deviceOutboxSuite(vitestHarness);
