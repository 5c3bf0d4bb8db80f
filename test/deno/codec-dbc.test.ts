import { codecDbcSuite } from "../suites/codec-dbc.suite.ts";
import { denoHarness } from "./harness.ts";

codecDbcSuite(denoHarness);
