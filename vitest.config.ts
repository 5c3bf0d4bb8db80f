import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { chromiumLaunchOptions } from "./test/helpers/chromium.ts";
import { mqttFromSourceForVite } from "./scripts/browser-mqtt.ts";

/**
 * Two projects: `node` (unit + integration on Node 24) and `browser` (real Chromium through
 * Playwright, for IndexedDB and the browser build; `mqtt` there is mqtt.js built from its sources,
 * as dist/browser ships it). `npm test` runs both through scripts/test.mjs.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 20_000,
          hookTimeout: 60_000,
          pool: "forks",
        },
      },
      {
        // mqtt.js as dist/browser ships it (built from its sources), not its prebuilt dist/mqtt.esm.js
        plugins: [mqttFromSourceForVite()],
        optimizeDeps: { exclude: ["mqtt"] },
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          globalSetup: ["test/browser/global-setup.ts"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: chromiumLaunchOptions() }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
