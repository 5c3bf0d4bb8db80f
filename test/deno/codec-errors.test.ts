import { codecErrorsSuite } from "../suites/codec-errors.suite.ts";
import { denoHarness } from "./harness.ts";

codecErrorsSuite(denoHarness);
