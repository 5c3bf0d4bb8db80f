/**
 * The durable suite in Chromium on IndexedDB: a restart (a new device on the reopened database)
 * delivers what the first stored while offline; the inbox survives. The page cannot stop the
 * shared broker, so the reconnect test runs on Node and Deno.
 */
import { inject } from "vitest";
import { browserHarness } from "./harness.ts";
import { deviceDurableSuite } from "../suites/device-durable.suite.ts";
import { openIndexedDbStore } from "../../src/store/indexeddb.ts";

const url = inject("brokerWsUrl");
deviceDurableSuite(browserHarness, {
  protocolVersion: 4,
  broker: () => Promise.resolve({ url, stop: () => Promise.reject(new Error("shared broker")), start: () => Promise.resolve(), close: () => Promise.resolve() }),
  openStore: (name) => openIndexedDbStore(name),
  deadUrl: "ws://127.0.0.1:9/",
  restartable: false,
  sharedHandles: true,
});
