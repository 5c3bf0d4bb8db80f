import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "../test/helpers/chromium.ts";

/**
 * The kiosk end to end: real Chromium (CHROMIUM_PATH, default /usr/bin/chromium), real brokers (aedes,
 * Mosquitto), the simulated device as a child process. Each spec starts what it needs on free ports.
 * `npm test` runs it through scripts/test.mjs (PLAYWRIGHT_JSON_OUTPUT_NAME names the JSON report).
 */
export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  globalSetup: "./fixtures/global-setup.ts",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? "../test-results/playwright.json" }]],
  outputDir: "../test-results/e2e",
  use: {
    browserName: "chromium",
    launchOptions: chromiumLaunchOptions(),
    viewport: { width: 1920, height: 1080 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
});
