import { codecFuzzSuite } from "../suites/codec-fuzz.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecFuzzSuite(vitestHarness);
