import { codecRoundtripSuite } from "../suites/codec-roundtrip.suite.ts";
import { denoHarness } from "./harness.ts";

codecRoundtripSuite(denoHarness);
