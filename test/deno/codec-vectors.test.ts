import { codecVectorsSuite } from "../suites/codec-vectors.suite.ts";
import { denoHarness } from "./harness.ts";
import { denoVectors } from "./vectors.ts";

codecVectorsSuite(denoHarness, await denoVectors());
