import { vitestHarness } from "../helpers/vitest-harness.ts";
import { deviceTopicsSuite } from "../suites/device-topics.suite.ts";
deviceTopicsSuite(vitestHarness);
