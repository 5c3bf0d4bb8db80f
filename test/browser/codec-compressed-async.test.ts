import { codecCompressedAsyncSuite } from "../suites/codec-compressed-async.suite.ts";
import { browserHarness } from "./harness.ts";

// No golden vector files here: ../shared/vectors is outside Vite's server.fs.allow. The suite's
// embedded golden envelope (json/8) still runs; Node and Deno run the whole set.
codecCompressedAsyncSuite(browserHarness);
