import { browserHarness } from "./harness.ts";
import { deviceTopicsSuite } from "../suites/device-topics.suite.ts";
deviceTopicsSuite(browserHarness);
