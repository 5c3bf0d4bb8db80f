/**
 * 4. Two kiosk tabs on one origin share one IndexedDB outbox: both show live data, only the tab holding
 * the drain lock (Web Locks) publishes what either queued, and the broker sees each command once.
 */
import { expect, test } from "@playwright/test";
import { startBroker } from "../src/cli/broker.ts";
import { kioskUrl, startKiosk, startSimulator, waitUntil } from "./fixtures/stack.ts";

test("two tabs: both show data, one drains the shared outbox, nothing is sent twice", async ({ browser }) => {
  const broker = await startBroker({ wsPort: 0 });
  const published: Array<{ clientId: string; id: string }> = [];
  broker.aedes.on("publish", (packet, client) => {
    if (client && packet.topic === "devices/truck-1/ingress") {
      published.push({ clientId: client.id, id: (JSON.parse(packet.payload.toString()) as { id: string }).id });
    }
  });
  const kiosk = await startKiosk();
  const sim = startSimulator({ url: broker.wsUrl, args: ["--mqtt", "4", "--interval", "200"] });
  const context = await browser.newContext();
  try {
    await sim.waitFor((e) => e.event === "status" && e.state === "online", "the truck online");
    const url = kioskUrl(kiosk, { broker: broker.wsUrl, thing: "truck-1", mqtt: "4" });
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) await tab.goto(url);
    for (const tab of tabs) {
      await expect(tab.getByTestId("status")).toHaveAttribute("data-state", "online");
      const rpm = tab.getByTestId("value-EngineSpeed");
      await expect(rpm).toHaveText(/rpm$/);
      const first = await rpm.textContent();
      await expect(rpm).not.toHaveText(first ?? "");
    }

    // three commands from each tab, interleaved
    for (let i = 0; i < 3; i++) {
      for (const [n, tab] of tabs.entries()) {
        await tab.getByTestId("command-select").selectOption("message");
        await tab.getByTestId("command-value").fill(`tab ${n} #${i}`);
        await tab.getByTestId("command-send").click();
      }
    }
    await waitUntil(() => published.length >= 6, "six commands at the broker");
    for (const tab of tabs) await expect(tab.getByTestId("outbox-depth")).toHaveText("0");
    await sim.waitFor((e) => e.event === "command" && e.value === "tab 1 #2", "the last command at the truck");

    // a marker through the same outbox: anything sent twice would have reached the broker before it
    await tabs[0]!.getByTestId("command-select").selectOption("ping");
    await tabs[0]!.getByTestId("command-send").click();
    await waitUntil(() => published.length >= 7, "the marker at the broker");
    for (const tab of tabs) await expect(tab.getByTestId("outbox-depth")).toHaveText("0");

    expect(published.length).toBe(7);
    expect(new Set(published.map((p) => p.id)).size).toBe(7);
    const senders = new Set(published.map((p) => p.clientId));
    expect(senders.size, `one tab drains: publishers were ${[...senders].join(", ")}`).toBe(1);
    const commands = sim.events.filter((e) => e.event === "command");
    expect(commands.length).toBe(7);
    expect(sim.events.some((e) => e.event === "command-duplicate")).toBe(false);

    // every command is acknowledged, and both tabs show it (the log is shared through localStorage)
    for (const tab of tabs) await expect(tab.locator('[data-testid="command-item"][data-state="acked"]')).toHaveCount(7);

    // the draining tab goes away: the other takes the lock and delivers what is queued next
    const drainer = [...senders][0]!;
    const clientIds = await Promise.all(tabs.map((t) => t.evaluate(() => (window as unknown as { kioskClientId: string }).kioskClientId)));
    const other = tabs[clientIds[0] === drainer ? 1 : 0]!;
    await tabs[clientIds[0] === drainer ? 0 : 1]!.close();
    await other.getByTestId("command-select").selectOption("horn");
    await other.getByTestId("command-send").click();
    await waitUntil(() => published.length >= 8, "the command from the remaining tab");
    expect(published[7]!.clientId).not.toBe(drainer);
    expect(new Set(published.map((p) => p.id)).size).toBe(8);
  } finally {
    await context.close();
    await sim.stop();
    await kiosk.close();
    await broker.close();
  }
});
