import { authSigv4Suite } from "../suites/auth-sigv4.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

authSigv4Suite(vitestHarness);
