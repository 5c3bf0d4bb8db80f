/**
 * Settings and auth: a broker that wants a token; a wrong password shows the refusal as the status
 * reason (without the password), the settings panel fixes it, and the page connects.
 */
import { expect, test } from "@playwright/test";
import { startBroker } from "../src/cli/broker.ts";
import { kioskUrl, startKiosk } from "./fixtures/stack.ts";

const GOOD = "t0ken-for-the-wall-screen";
const BAD = "an-old-expired-t0ken";

test("a refused token shows as the reason; the settings panel fixes it", async ({ page }) => {
  const broker = await startBroker({
    wsPort: 0,
    aedes: {
      authenticate: (_client, username, password, done) => {
        const ok = username === "kiosk" && password?.toString() === GOOD;
        done(ok ? null : Object.assign(new Error("bad user name or password"), { returnCode: 4 }), ok);
      },
    },
  });
  const kiosk = await startKiosk();
  try {
    await page.goto(kioskUrl(kiosk, { broker: broker.wsUrl, thing: "truck-7", mqtt: "4", username: "kiosk", password: BAD }));
    const status = page.getByTestId("status");
    await expect(status).toHaveAttribute("data-state", "offline");
    const reason = page.getByTestId("status-reason");
    await expect(reason).toContainText(/password|not authori[sz]ed|refused|rejected/i);
    expect(await page.locator("body").innerText()).not.toContain(BAD);
    await expect(page.getByTestId("thing-id")).toHaveText("truck-7");

    // the settings panel: filled from the URL; apply saves and reloads without the overriding parameters
    await page.getByTestId("settings-button").click();
    const dialog = page.getByTestId("settings-dialog");
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId("settings-broker")).toHaveValue(broker.wsUrl);
    await expect(page.getByTestId("settings-username")).toHaveValue("kiosk");
    await page.getByTestId("settings-password").fill(GOOD);
    await page.getByTestId("settings-thing").fill("truck-8");
    await page.getByTestId("settings-apply").click();

    await expect(page).not.toHaveURL(/password=/);
    await expect(page.getByTestId("thing-id")).toHaveText("truck-8");
    await expect(status).toHaveAttribute("data-state", "online");
    expect(await page.locator("body").innerText()).not.toContain(GOOD);
  } finally {
    await kiosk.close();
    await broker.close();
  }
});
