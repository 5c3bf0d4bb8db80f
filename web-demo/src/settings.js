// Kiosk settings: URL query parameters win over what the settings panel saved, which wins over defaults.
// Saved settings live in localStorage; the password only in sessionStorage (this tab), never in the URL
// unless the operator put it there.

const KEY = "thingwire-kiosk-settings";
const PASSWORD_KEY = "thingwire-kiosk-password";

export const DEFAULT_CHARTS = ["VehicleSpeed", "EngineSpeed", "CoolantTemp", "BatteryVoltage"];

/**
 * @typedef {object} Settings
 * @property {string} broker     ws:// or wss:// URL of the broker
 * @property {string} thing      the thing (vehicle) whose data is shown and which gets the commands
 * @property {string} username
 * @property {string} password
 * @property {4 | 5} mqtt        MQTT protocol version (the embedded aedes broker speaks 3.1.1 = 4)
 * @property {string} dbc        URL of the DBC file that decodes the CAN frames
 * @property {string[]} charts   signal names to chart
 * @property {string} prefix     topic prefix; topics are `${prefix}/can`, `/telemetry`, `/ingress`, `/egress`
 * @property {string} store      IndexedDB name of the outbox shared by the kiosk tabs of this origin
 * @property {string} clientId   MQTT client id of this tab
 * @property {"auto" | "cert"} auth  "cert": the browser presents a client certificate (wss:// with mTLS)
 * @property {number} windowSec  seconds of history in each chart
 */

function tabId() {
  // One id per tab that survives reloads of that tab: two tabs never share a client id.
  try {
    let id = sessionStorage.getItem("thingwire-kiosk-tab");
    if (!id) {
      id = Math.random().toString(36).slice(2, 8);
      sessionStorage.setItem("thingwire-kiosk-tab", id);
    }
    return id;
  } catch {
    return Math.random().toString(36).slice(2, 8);
  }
}

function readSaved() {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

function defaultBroker() {
  const host = location.hostname || "127.0.0.1";
  return `${location.protocol === "https:" ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:8080`;
}

/** @returns {Settings} */
export function loadSettings() {
  const q = new URLSearchParams(location.search);
  const saved = readSaved();
  const pick = (name, fallback) => q.get(name) ?? saved[name] ?? fallback;
  const thing = String(pick("thing", "truck-1"));
  let password = q.get("password");
  if (password === null) {
    try {
      password = sessionStorage.getItem(PASSWORD_KEY) ?? "";
    } catch {
      password = "";
    }
  }
  const charts = String(pick("charts", DEFAULT_CHARTS.join(",")))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const mqtt = String(pick("mqtt", "4")) === "5" ? 5 : 4;
  return {
    broker: String(pick("broker", defaultBroker())),
    thing,
    username: String(pick("username", "")),
    password,
    mqtt,
    dbc: String(pick("dbc", "vehicle.dbc")),
    charts,
    prefix: String(pick("prefix", `devices/${thing}`)),
    store: String(pick("store", `thingwire-kiosk-${thing}`)),
    clientId: String(q.get("client") ?? `kiosk-${thing}-${tabId()}`),
    auth: String(pick("auth", "auto")) === "cert" ? "cert" : "auto",
    windowSec: Math.min(3600, Math.max(5, Number(pick("window", "60")) || 60)),
  };
}

/** Keeps the charted signals chosen by clicking tiles. */
export function saveCharts(charts) {
  const saved = readSaved();
  saved.charts = charts.join(",");
  localStorage.setItem(KEY, JSON.stringify(saved));
}

/**
 * Shows the settings dialog filled with `settings`; on "apply" saves them and reloads the page with the
 * URL parameters that would override them removed.
 * @param {HTMLDialogElement} dialog
 * @param {Settings} settings
 */
export function openSettings(dialog, settings) {
  const form = /** @type {HTMLFormElement} */ (dialog.querySelector("form"));
  const field = (name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  field("broker").value = settings.broker;
  field("thing").value = settings.thing;
  field("username").value = settings.username;
  field("password").value = settings.password;
  field("mqtt").value = String(settings.mqtt);
  field("dbc").value = settings.dbc;
  field("charts").value = settings.charts.join(",");
  dialog.onclose = () => {
    if (dialog.returnValue !== "apply") return;
    const saved = readSaved();
    for (const name of ["broker", "thing", "username", "mqtt", "dbc", "charts"]) saved[name] = field(name).value.trim();
    if (saved.thing !== settings.thing) delete saved.prefix;
    localStorage.setItem(KEY, JSON.stringify(saved));
    try {
      sessionStorage.setItem(PASSWORD_KEY, field("password").value);
    } catch {
      // storage disabled: the password lasts until the reload
    }
    const url = new URL(location.href);
    for (const name of ["broker", "thing", "username", "password", "mqtt", "dbc", "charts", "prefix", "store"]) {
      url.searchParams.delete(name);
    }
    location.href = url.toString();
  };
  dialog.showModal();
}
