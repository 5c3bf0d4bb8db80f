import { codecDbcSuite } from "../suites/codec-dbc.suite.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecDbcSuite(vitestHarness);
