/**
 * The durable suite's environment on Node and Deno: openSqliteStore() in a temporary directory
 * (node:fs / node:os work in both), aedes over WebSocket as the broker.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { aedesBroker } from "./device-aedes-env.ts";
import type { DurableEnv } from "./device-durable.suite.ts";

export function sqliteEnv(): DurableEnv {
  const dir = mkdtempSync(join(tmpdir(), "thingwire-device-"));
  return {
    protocolVersion: 4,
    broker: () => aedesBroker("ws"),
    openStore: (name) => openSqliteStore(join(dir, `${name}.db`)),
    // Port 9 (discard) has no listener here; browsers refuse it outright.
    deadUrl: "ws://127.0.0.1:9/",
    restartable: true,
    sharedHandles: false,
  };
}
