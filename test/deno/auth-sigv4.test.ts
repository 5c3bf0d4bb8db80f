import { authSigv4Suite } from "../suites/auth-sigv4.suite.ts";
import { denoHarness } from "./harness.ts";

authSigv4Suite(denoHarness);
