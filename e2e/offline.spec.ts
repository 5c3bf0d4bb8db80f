/**
 * 2. Offline: with the broker stopped, three commands sent from the page wait in IndexedDB, survive a
 * reload, and reach the device exactly once when the broker is back on the same port. The broker is
 * Mosquitto with persistence, so the device's session (a bare mqtt.js subscriber, clean start off)
 * survives the restart as it would on a production broker.
 */
import { expect, test } from "@playwright/test";
import { startMosquitto } from "../test/helpers/mosquitto.ts";
import { collect, kioskUrl, startKiosk, waitUntil } from "./fixtures/stack.ts";

test("commands sent while the broker is down are delivered once after a reload and a restart", async ({ page }) => {
  const broker = await startMosquitto({ ws: true, persistence: true });
  const kiosk = await startKiosk();
  const device = await collect(broker.tcpUrl, "devices/truck-1/ingress", {
    clientId: "truck-1-device",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  });
  try {
    await page.goto(kioskUrl(kiosk, { broker: broker.wsUrl!, thing: "truck-1", mqtt: "5" }));
    const status = page.getByTestId("status");
    await expect(status).toHaveAttribute("data-state", "online");

    await broker.stop();
    await expect(status).not.toHaveAttribute("data-state", "online");
    await expect(page.getByTestId("status-reason")).not.toHaveText("");

    for (const n of ["one", "two", "three"]) {
      await page.getByTestId("command-select").selectOption("message");
      await page.getByTestId("command-value").fill(`offline ${n}`);
      await page.getByTestId("command-send").click();
    }
    const items = page.getByTestId("command-item");
    await expect(items).toHaveCount(3);
    await expect(page.locator('[data-testid="command-item"][data-state="queued"]')).toHaveCount(3);
    await expect(page.getByTestId("outbox-depth")).toHaveText("3");

    await page.reload();
    await expect(page.getByTestId("outbox-depth")).toHaveText("3"); // still in IndexedDB
    await expect(page.locator('[data-testid="command-item"][data-state="queued"]')).toHaveCount(3);
    await expect(status).not.toHaveAttribute("data-state", "online");

    await broker.restart();
    await expect(status).toHaveAttribute("data-state", "online", { timeout: 20_000 });
    await expect(page.getByTestId("outbox-depth")).toHaveText("0");
    await expect(page.locator('[data-testid="command-item"][data-state="sent"]')).toHaveCount(3);

    // A marker sent after the three: the outbox sends in order, so once it arrives any resend of the
    // three would have arrived too.
    await page.getByTestId("command-select").selectOption("ping");
    await page.getByTestId("command-send").click();
    await waitUntil(() => device.messages.some((m) => JSON.parse(m.text).command === "ping"), "the marker command at the device", 20_000);

    const bodies = device.messages.map((m) => JSON.parse(m.text) as { id: string; command: string; value?: string });
    const offline = bodies.filter((b) => b.command === "message");
    expect(offline.map((b) => b.value).sort()).toEqual(["offline one", "offline three", "offline two"]);
    expect(new Set(offline.map((b) => b.id)).size).toBe(3);
    expect(device.messages.length).toBe(4); // three + the marker, nothing twice
  } finally {
    await device.close();
    await kiosk.close();
    await broker.dispose();
  }
});
