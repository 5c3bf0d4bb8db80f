/** The Store conformance suite against memoryStore() on Node. */
import { vitestHarness } from "../helpers/vitest-harness.ts";
import { storeSuite } from "../suites/store.suite.ts";
import { memoryStore } from "../../src/store/memory.ts";

storeSuite(vitestHarness, { label: "memory", persistent: false, open: async () => memoryStore() });
