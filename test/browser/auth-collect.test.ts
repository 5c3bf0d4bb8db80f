import { authCollectSuite } from "../suites/auth-collect.suite.ts";
import { browserHarness } from "./harness.ts";

authCollectSuite(browserHarness);
