import { authCollectSuite } from "../suites/auth-collect.suite.ts";
import { denoHarness } from "./harness.ts";

authCollectSuite(denoHarness);
