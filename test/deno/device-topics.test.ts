import { denoHarness } from "./harness.ts";
import { deviceTopicsSuite } from "../suites/device-topics.suite.ts";
deviceTopicsSuite(denoHarness);
