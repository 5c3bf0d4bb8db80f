/**
 * Vite for developing the kiosk: `npx vite web-demo` (dev server with reload) and
 * `npx vite build web-demo` (a static copy in web-demo/dist/, with the SDK bundle beside it).
 * The page imports the SDK as `../lib/thingwire.js`; this plugin serves and copies dist/browser's build
 * under that name, so the browser runs the same file with and without Vite.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vite";

const bundleDir = fileURLToPath(new URL("../dist/browser/", import.meta.url));

function thingwireBundle(): Plugin {
  const file = (name: string) => {
    const path = bundleDir + name;
    if (!existsSync(path)) throw new Error(`${path} is missing: build the SDK first with "npx tsup"`);
    return readFileSync(path);
  };
  return {
    name: "thingwire-bundle",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "").split("?")[0];
        if (path !== "/lib/thingwire.js" && path !== "/lib/thingwire.js.map") return next();
        try {
          res.setHeader("content-type", path.endsWith(".map") ? "application/json" : "text/javascript");
          res.end(file(path === "/lib/thingwire.js" ? "thingwire.js" : "thingwire.js.map"));
        } catch (e) {
          res.statusCode = 500;
          res.end(String((e as Error).message));
        }
      });
    },
    resolveId(id) {
      // the built page keeps importing the SDK file next to it instead of bundling it
      if (id.endsWith("/lib/thingwire.js")) return { id: "./lib/thingwire.js", external: true };
      return null;
    },
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "lib/thingwire.js", source: file("thingwire.min.js") });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [thingwireBundle()],
  server: { host: "127.0.0.1", port: 5173 },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
