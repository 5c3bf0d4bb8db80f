import { browserHarness } from "./harness.ts";
import { deviceOutboxSuite } from "../suites/device-outbox.suite.ts";
deviceOutboxSuite(browserHarness);
