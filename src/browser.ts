/**
 * The browser bundle's entry (dist/browser/thingwire.js): the core plus the IndexedDB store,
 * for a page that loads thingwire with `<script type="module">` and no bundler.
 *
 * @example
 * ```html
 * <script type="module">
 *   import { createDevice, openIndexedDbStore } from "./thingwire.js";
 *   const device = createDevice({ url: "ws://127.0.0.1:8080", clientId: "kiosk-1",
 *     store: await openIndexedDbStore("kiosk-1") });
 * </script>
 * ```
 * @module
 */
export * from "./mod.ts";
export * from "./store/indexeddb.ts";
