/**
 * Where Chromium is and how to start it here. `CHROMIUM_PATH` overrides the default
 * `/usr/bin/chromium` (Debian's `apt-get install -y chromium`), so a developer elsewhere can use
 * Playwright's own browsers. A missing binary fails loudly with the install command.
 */
import { existsSync } from "node:fs";

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Install it with "apt-get install -y chromium" or set CHROMIUM_PATH to a Chromium binary.`,
    );
  }
  return path;
}

export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath: chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  };
}
