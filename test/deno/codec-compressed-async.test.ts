import { codecCompressedAsyncSuite } from "../suites/codec-compressed-async.suite.ts";
import { denoHarness } from "./harness.ts";
import { denoVectors } from "./vectors.ts";

codecCompressedAsyncSuite(denoHarness, await denoVectors());
