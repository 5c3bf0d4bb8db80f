/**
 * mqtt.js for thingwire's browser bundle, bundled from its own CommonJS sources
 * (node_modules/mqtt/build/) instead of its prebuilt browser file (dist/mqtt.esm.js). The prebuilt
 * file carries @jspm/core's Node polyfills, a full Node `url` (with punycode and querystring) among
 * them, and the `debug` logger; here `url` is a WHATWG-URL shim of the one call mqtt.js makes, `debug`
 * is off, and the Node-only and mini-program transports (tcp, tls, socks, wx, ali) are empty, as the
 * prebuilt file has them. Buffer, events, process and readable-stream are the npm packages mqtt.js's
 * own dependency tree brings (hoisted in node_modules). Measured in bench/notes/weight.md.
 *
 * Used by tsup.config.ts (the two browser builds), test/node/size-budget.test.ts,
 * bench/weight.bench.ts and vitest.config.ts (the Chromium suites), so all describe the same bundle.
 */
import * as esbuild from "esbuild";
import type { Plugin } from "esbuild";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const shims = fileURLToPath(new URL("./browser-mqtt/", import.meta.url));
const mqttBuild = fileURLToPath(new URL("../node_modules/mqtt/build/index.js", import.meta.url));

/** Node-only modules mqtt.js's sources require: empty in the browser bundle. */
const EMPTY = /^(?:\.\/(?:tcp|tls|socks|wx|ali)|net|tls|fs|dns|stream|util|assert|http|https)$/;

/** Packages that are the polyfills themselves, or ESM for the Web (nothing to add). */
const NO_GLOBALS = /\/node_modules\/(?:process|buffer|base64-js|ieee754|jose|idb|fflate)\//;
const GLOBALS = { process: 'var process = require("process/");', Buffer: 'var Buffer = require("buffer/").Buffer;' };

/** The Node globals a CommonJS file uses without declaring them. */
function missingGlobals(text: string): string[] {
  return (Object.keys(GLOBALS) as Array<keyof typeof GLOBALS>).filter((name) => {
    const used = new RegExp(`(?<![.\\w$'"/])${name}(?![\\w$'":])`).test(text);
    const declared = new RegExp(`(?:var|let|const|function)\\s+${name}\\b|(?:var|let|const)\\s*\\{[^}]*\\b${name}\\b[^}]*\\}\\s*=`).test(text);
    return used && !declared;
  });
}

/**
 * Resolves mqtt.js's sources and their Node dependencies to the shims above, and gives the CommonJS
 * files that use Node's `process` or `Buffer` as globals (mqtt.js itself, rfdc, process-nextick-args)
 * the npm polyfills as module-local variables.
 */
export function shimsPlugin(): Plugin {
  return {
    name: "thingwire-mqtt-shims",
    setup(build) {
      build.onResolve({ filter: /^(?:url|debug)$/ }, (a) => (a.importer.includes("/node_modules/") ? { path: `${shims}${a.path}.cjs` } : undefined));
      build.onResolve({ filter: EMPTY }, (a) => (a.importer.includes("/node_modules/") ? { path: `${shims}empty.cjs` } : undefined));
      build.onLoad({ filter: /\/node_modules\/.*\.c?js$/ }, async (a) => {
        if (NO_GLOBALS.test(a.path)) return undefined;
        const text = await readFile(a.path, "utf8");
        const missing = /\b(?:require\(|module\.exports|exports\.)/.test(text) ? missingGlobals(text) : [];
        if (missing.length === 0) return undefined;
        const globals = missing.map((name) => GLOBALS[name as keyof typeof GLOBALS]).join(" ");
        // after a "use strict" directive, on its line, so strict mode and line numbers stay
        const strict = /^(\s*(?:\/\/[^\n]*\n\s*)*(["'])use strict\2;?)/.exec(text)?.[1];
        const contents = strict ? `${strict}; ${globals}${text.slice(strict.length)}` : `${globals} ${text}`;
        return { contents, loader: "js" };
      });
    },
  };
}

/**
 * mqtt.js built from its sources with the shims above, as one minified ESM module whose default
 * export is the `mqtt` object (as mqtt.js's own dist/mqtt.esm.js is: its CommonJS wrappers stay
 * inside it). Only the default export is provided, which is all thingwire imports.
 */
export async function mqttBrowserSource(): Promise<string> {
  const r = await esbuild.build({
    stdin: { contents: `import mqtt from ${JSON.stringify(mqttBuild)};\nexport default mqtt;\n`, resolveDir: shims, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    // "module" before "main" for require() too: worker-timers' ES2019 build instead of its ES5 UMD
    // bundle with @babel/runtime inside (-13 KB minified)
    mainFields: ["browser", "module", "main"],
    target: "es2022",
    write: false,
    logLevel: "silent",
    // minified, as mqtt.js's own dist/mqtt.esm.js is (a readable build would carry every
    // CommonJS module's path as a name into the minified outer build)
    minify: true,
    plugins: [shimsPlugin()],
  });
  return r.outputFiles[0]!.text;
}

/**
 * The esbuild plugin for a browser build: `import mqtt from "mqtt"` gets {@link mqttBrowserSource}.
 * Being one module, the outer build with code splitting makes no shared runtime chunk the entry
 * would have to load.
 */
export function mqttFromSource(): Plugin {
  let built: Promise<string> | undefined;
  return {
    name: "thingwire-mqtt-from-source",
    setup(build) {
      build.onResolve({ filter: /^mqtt$/ }, () => ({ path: "mqtt", namespace: "thingwire-mqtt" }));
      build.onLoad({ filter: /.*/, namespace: "thingwire-mqtt" }, async () => {
        built ??= mqttBrowserSource();
        return { contents: await built, loader: "js", resolveDir: shims };
      });
    },
  };
}

/**
 * The same for Vite (vitest.config.ts's browser project), so the Chromium suites run on the mqtt.js
 * that dist/browser ships rather than on mqtt.js's prebuilt file.
 */
export function mqttFromSourceForVite(): { name: string; enforce: "pre"; resolveId(id: string): string | null; load(id: string): Promise<string> | null } {
  const id = "\0thingwire-mqtt-from-source";
  let built: Promise<string> | undefined;
  return {
    name: "thingwire-mqtt-from-source",
    enforce: "pre",
    resolveId: (source) => (source === "mqtt" ? id : null),
    load: (which) => (which === id ? (built ??= mqttBrowserSource()) : null),
  };
}
