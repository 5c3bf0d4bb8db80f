import { authCollectSuite } from "../suites/auth-collect.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

authCollectSuite(vitestHarness);
