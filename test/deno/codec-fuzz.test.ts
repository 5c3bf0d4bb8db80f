import { codecFuzzSuite } from "../suites/codec-fuzz.suite.ts";
import { denoHarness } from "./harness.ts";

codecFuzzSuite(denoHarness);
