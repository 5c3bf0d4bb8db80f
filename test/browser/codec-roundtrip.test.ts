import { codecRoundtripSuite } from "../suites/codec-roundtrip.suite.ts";
import { browserHarness } from "./harness.ts";

codecRoundtripSuite(browserHarness);
