/**
 * 5. Bad input shows in the page's error panel and nothing else stops: a DBC with a syntax error (the
 * CAN frames are then shown raw, the JSON telemetry keeps updating), and payloads that cannot be decoded
 * (the signals keep updating around them).
 */
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { startBroker } from "../src/cli/broker.ts";
import { collect, dbcPath, kioskUrl, startKiosk, startSimulator } from "./fixtures/stack.ts";

const good = readFileSync(dbcPath, "utf8").split("\n");
// line 17 becomes a signal without its bit layout
const brokenLine = good.findIndex((l) => l.startsWith(" SG_ CoolantTemp"));
const broken = [...good.slice(0, brokenLine), ' SG_ CoolantTemp : sixteen|8@1+ (1,-40) [-40|150] "degC" Kiosk', ...good.slice(brokenLine + 1)].join("\n");

test.describe("errors show in the page without stopping the rest", () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let kiosk: Awaited<ReturnType<typeof startKiosk>>;
  let sim: ReturnType<typeof startSimulator>;

  test.beforeAll(async () => {
    broker = await startBroker({ wsPort: 0, tcpPort: 0 });
    kiosk = await startKiosk({ "/broken.dbc": broken });
    sim = startSimulator({ url: broker.wsUrl, args: ["--mqtt", "4", "--interval", "200", "--telemetry-every", "2"] });
    await sim.waitFor((e) => e.event === "status" && e.state === "online", "the truck online");
  });
  test.afterAll(async () => {
    await sim?.stop();
    await kiosk?.close();
    await broker?.close();
  });

  test("a broken DBC: the error names the line, frames show raw, telemetry keeps updating", async ({ page }) => {
    await page.goto(kioskUrl(kiosk, { broker: broker.wsUrl, thing: "truck-1", mqtt: "4", dbc: "broken.dbc" }));
    const item = page.locator('[data-testid="error-item"][data-code="DBC_SYNTAX"]');
    await expect(item).toHaveCount(1);
    await expect(item).toContainText(`line ${brokenLine + 1}`);
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "online");
    await expect(page.getByTestId("signal-raw 0x0C0")).toBeVisible();
    const heading = page.getByTestId("telemetry-heading");
    await expect(heading).not.toHaveText("");
    const first = await heading.textContent();
    await expect(heading).not.toHaveText(first ?? "");
  });

  test("an undecodable payload: an error with its code and offset, the signals keep updating", async ({ page }) => {
    await page.goto(kioskUrl(kiosk, { broker: broker.wsUrl, thing: "truck-1", mqtt: "4" }));
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "online");
    const rpm = page.getByTestId("value-EngineSpeed");
    await expect(rpm).toHaveText(/rpm$/);

    const pub = await collect(broker.tcpUrl!, "devices/truck-1/none");
    try {
      // a CAN message cut off inside its first point header (token "ABC", then 3 of 12 header bytes)
      await pub.client.publishAsync("devices/truck-1/can", Buffer.from([0, 0, 0, 3, 0x41, 0x42, 0x43, 1, 2, 3]), { qos: 1 });
      // a compressed envelope whose gzip is garbage
      await pub.client.publishAsync("devices/truck-1/telemetry", '{"b64":"H4sIAAAAAAAAA///"}', { qos: 1 });
      // not any format at all
      await pub.client.publishAsync("devices/truck-1/can", "hello, kiosk", { qos: 1 });
    } finally {
      await pub.close();
    }
    await expect(page.locator('[data-testid="error-item"][data-code^="CODEC_"]')).toHaveCount(3);
    await expect(page.getByTestId("error-count")).toHaveText("3");
    await expect(page.locator('[data-testid="error-item"]').filter({ hasText: "byte " }).first()).toBeVisible();

    const after = await rpm.textContent();
    await expect(rpm).not.toHaveText(after ?? "");
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "online");
    await expect(page.locator('[data-testid="inbox-item"][data-format="error"]')).toHaveCount(3);
  });
});
