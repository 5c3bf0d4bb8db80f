import { authSigv4Suite } from "../suites/auth-sigv4.suite.ts";
import { browserHarness } from "./harness.ts";

authSigv4Suite(browserHarness);
