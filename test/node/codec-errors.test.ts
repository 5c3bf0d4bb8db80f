import { codecErrorsSuite } from "../suites/codec-errors.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecErrorsSuite(vitestHarness);
