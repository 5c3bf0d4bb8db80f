import { codecCompressedAsyncSuite } from "../suites/codec-compressed-async.suite.ts";
import { nodeVectors } from "../helpers/vectors.ts";
import { vitestHarness } from "../helpers/vitest-harness.ts";

codecCompressedAsyncSuite(vitestHarness, await nodeVectors());
