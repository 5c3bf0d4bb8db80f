import { codecVectorsSuite } from "../suites/codec-vectors.suite.ts";
import { nodeVectors } from "../helpers/vectors.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecVectorsSuite(vitestHarness, await nodeVectors());
