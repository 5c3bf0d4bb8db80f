/**
 * 1. Live data: `npm run demo` (scripts/demo.mjs: aedes + the simulated truck + the kiosk server) as a user
 * runs it; the page shows decoded signals, the charts grow, a command reaches the truck and comes back
 * acknowledged; screenshots at 1920×1080 and at tablet size (test artifacts), and docs/kiosk.png when it is
 * missing or THINGWIRE_DOCS_SCREENSHOT=1.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { root, tempDir, waitUntil } from "./fixtures/stack.ts";

const node = existsSync(join(root, "node_modules/.bin/node")) ? join(root, "node_modules/.bin/node") : process.execPath;

test("npm run demo: live decoded signals, charts, a command round trip, screenshots", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const tmp = tempDir();
  const demo = spawn(node, [join(root, "scripts/demo.mjs"), "--port", "0", "--broker-port", "0", "--store", join(tmp.dir, "truck-1.db")], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  demo.stdout.setEncoding("utf8");
  demo.stdout.on("data", (c: string) => (out += c));
  demo.stderr.setEncoding("utf8");
  demo.stderr.on("data", (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => demo.once("exit", (code) => r(code)));
  try {
    const url = await waitUntil(() => {
      if (demo.exitCode !== null) throw new Error(`the demo exited early (${demo.exitCode}):\n${out}`);
      return out.match(/demo: kiosk\s+(http:\/\/\S+)/)?.[1];
    }, "the demo to print the kiosk URL", 60_000);

    await page.goto(`${url}&window=20`);
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "online");
    await expect(page.getByTestId("status-reason")).not.toHaveText("");

    // decoded values arrive and keep changing
    const rpm = page.getByTestId("value-EngineSpeed");
    await expect(rpm).toHaveText(/^[\d,]+(\.\d)?\s*rpm$/);
    const first = await rpm.textContent();
    await expect(rpm).not.toHaveText(first ?? "");
    await expect(page.getByTestId("value-BatteryVoltage")).toHaveText(/^2\d\.\d\d\s*V$/); // Motorola signal, 24 V system
    await expect(page.getByTestId("value-DoorsLocked")).toHaveText(/^(Locked|Unlocked)$/); // value table
    await expect(page.getByTestId("value-AmbientTemp")).toHaveText(/^-?\d+\.\d\s*°C$/); // IEEE float in a CAN FD frame
    await expect(page.getByTestId("value-FuelLevel")).not.toHaveText("—"); // extended id
    await expect(page.getByTestId("value-TireRearRight")).not.toHaveText("—"); // multiplexed
    await expect(page.getByTestId("telemetry-gps_speed")).not.toHaveText("");
    await expect.poll(async () => Number(await page.getByTestId("rate").textContent()), { message: "message rate" }).toBeGreaterThan(1);

    // the charts grow
    const canvas = page.getByTestId("chart-canvas-EngineSpeed");
    await expect.poll(async () => Number(await canvas.getAttribute("data-points"))).toBeGreaterThan(20);
    const drawn = Number(await canvas.getAttribute("data-drawn"));
    await expect.poll(async () => Number(await canvas.getAttribute("data-drawn"))).toBeGreaterThan(drawn);

    // a command goes out through the IndexedDB outbox, the truck applies it and acknowledges
    await page.getByTestId("command-select").selectOption("lock");
    await page.getByTestId("command-send").click();
    await expect(page.getByTestId("command-item").first()).toHaveAttribute("data-state", "acked");
    await expect(page.getByTestId("value-DoorsLocked")).toHaveText("Locked");
    await waitUntil(() => /command lock .*doors locked/.test(out), "the truck to print the command");
    await expect(page.getByTestId("outbox-depth")).toHaveText("0");
    await expect(page.getByTestId("error-count")).toHaveText("0");

    // screenshots: let the charts fill a little first
    await expect.poll(async () => Number(await canvas.getAttribute("data-points")), { timeout: 30_000 }).toBeGreaterThan(120);
    await page.screenshot({ path: testInfo.outputPath("kiosk-1920x1080.png") });
    // docs/kiosk.png (the README's picture) is committed: rewritten when missing or when asked for
    const docsShot = join(root, "docs/kiosk.png");
    if (!existsSync(docsShot) || process.env.THINGWIRE_DOCS_SCREENSHOT === "1") await page.screenshot({ path: docsShot });

    // the layout holds at 1920×1080 (nothing scrolls) and on a tablet (no horizontal scroll)
    const fits = await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth);
    expect(fits).toBe(true);
    await page.setViewportSize({ width: 1024, height: 768 });
    await expect(page.getByTestId("value-EngineSpeed")).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
    await page.screenshot({ path: testInfo.outputPath("kiosk-1024x768.png") });

    // Ctrl-C stops everything cleanly
    demo.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toMatch(/demo: stopped/);
  } finally {
    if (demo.exitCode === null) {
      demo.kill("SIGKILL");
      await exited;
    }
    tmp.remove();
  }
});
