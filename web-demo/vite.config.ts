/**
 * Vite for developing the kiosk: `npx vite web-demo` (dev server with reload) and
 * `npx vite build web-demo` (a static copy in web-demo/dist/, with the SDK bundle beside it).
 * The page imports the SDK as `../lib/thingwire.js`; this plugin maps that to dist/browser's build, so the
 * browser runs the same file with and without Vite.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vite";

const bundleDir = fileURLToPath(new URL("../dist/browser/", import.meta.url));

function thingwireBundle(): Plugin {
  const file = (name: string) => {
    const path = bundleDir + name;
    if (!existsSync(path)) throw new Error(`${path} is missing: build the SDK first with "npx tsup"`);
    return path;
  };
  return {
    name: "thingwire-bundle",
    resolveId(id) {
      // The page imports the SDK as one file, never bundled into the page: in development Vite serves
      // dist/browser/thingwire.js (with its source map); a build keeps the import and copies the
      // minified file next to the page as lib/thingwire.js.
      if (!id.endsWith("/lib/thingwire.js")) return null;
      return this.environment?.mode === "dev"
        ? file("thingwire.js")
        : { id: fileURLToPath(new URL("./lib/thingwire.js", import.meta.url)), external: "relative" };
    },
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "lib/thingwire.js", source: readFileSync(file("thingwire.min.js")) });
      // and the chunks it imports on demand (jose, for deviceJwt), under the names it imports them by
      for (const name of readdirSync(bundleDir).filter((n) => /^thingwire\.min-[\w-]+\.js$/.test(n))) {
        this.emitFile({ type: "asset", fileName: `lib/${name}`, source: readFileSync(file(name)) });
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [thingwireBundle()],
  server: { host: "127.0.0.1", port: 5173 },
  // nothing to pre-bundle: the page has no npm imports, and the SDK file is served as it is
  optimizeDeps: { noDiscovery: true, include: [] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
