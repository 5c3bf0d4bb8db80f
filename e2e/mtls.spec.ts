/**
 * 3. wss with a client certificate: Mosquitto's wss listener requires a certificate signed by the test
 * CA (its CN becomes the username; ACL `devices/%u/#`). The browser presents the certificate Playwright
 * installs (`clientCertificates`); the simulated truck presents its own through `clientCert()`.
 */
import { expect, test } from "@playwright/test";
import { makeCerts } from "../test/helpers/certs.ts";
import { startMosquitto } from "../test/helpers/mosquitto.ts";
import { kioskUrl, startKiosk, startSimulator } from "./fixtures/stack.ts";

test("the kiosk connects over wss with a client certificate and shows the truck's data", async ({ browser }) => {
  const certs = makeCerts();
  const truck = certs.makeClient("truck-1");
  const broker = await startMosquitto({ wss: true });
  const wssUrl = broker.wssUrl!;
  const kiosk = await startKiosk();
  const sim = startSimulator({
    url: wssUrl,
    args: ["--mqtt", "5", "--cert", truck.certPath, "--key", truck.keyPath, "--ca", certs.ca.certPath, "--interval", "200"],
  });
  const origin = new URL(wssUrl.replace(/^wss:/, "https:")).origin;
  const withCert = await browser.newContext({
    clientCertificates: [{ origin, certPath: truck.certPath, keyPath: truck.keyPath }],
    ignoreHTTPSErrors: true,
  });
  const withoutCert = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    await sim.waitFor((e) => e.event === "status" && e.state === "online", "the truck online over wss + mTLS");
    const params = { broker: wssUrl, thing: "truck-1", mqtt: "5", auth: "cert" };

    const page = await withCert.newPage();
    await page.goto(kioskUrl(kiosk, params));
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "online");
    const speed = page.getByTestId("value-EngineSpeed");
    await expect(speed).toHaveText(/rpm$/);
    const first = await speed.textContent();
    await expect(speed).not.toHaveText(first ?? "");

    // the same page without a certificate is refused by the broker
    const refused = await withoutCert.newPage();
    await refused.goto(kioskUrl(kiosk, params));
    await expect(refused.getByTestId("status")).toHaveAttribute("data-state", "offline");
    await expect(refused.getByTestId("value-EngineSpeed")).toHaveText("—");
  } finally {
    await withCert.close();
    await withoutCert.close();
    await sim.stop();
    await kiosk.close();
    await broker.dispose();
  }
});
