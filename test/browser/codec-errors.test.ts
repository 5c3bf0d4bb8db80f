import { codecErrorsSuite } from "../suites/codec-errors.suite.ts";
import { browserHarness } from "./harness.ts";

codecErrorsSuite(browserHarness);
