import { codecRoundtripSuite } from "../suites/codec-roundtrip.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecRoundtripSuite(vitestHarness);
