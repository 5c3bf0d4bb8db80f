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
import { createDevice as createCoreDevice } from "./device/device.ts";
import type { Device, DeviceOptions } from "./device/types.ts";

/**
 * `createDevice` of the browser bundle: the same as the core's, except that TLS key material
 * is refused by default (`transport.tlsKeyMaterial: false`), because in a browser the browser
 * itself presents the client certificate. Passing `clientCert({ key, cert })` here ends each
 * attempt with `AUTH_UNSUPPORTED`; use `browserClientCert()` and install the certificate in the browser.
 *
 * @example
 * ```ts
 * const device = createDevice({ url: "wss://broker.example/mqtt", clientId: "kiosk-1", auth: browserClientCert() });
 * ```
 */
export function createDevice(options: DeviceOptions): Device {
  return createCoreDevice({ ...options, transport: { tlsKeyMaterial: false, ...options.transport } });
}
