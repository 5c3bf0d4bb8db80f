// The thingwire fleet kiosk. Loads the SDK's browser bundle as a plain ES module (no bundler at run time),
// connects to the broker over ws/wss, decodes CAN frames through the DBC and JSON telemetry, and sends the
// operator's commands through a durable IndexedDB outbox shared by every kiosk tab of this origin.

import * as tw from "../lib/thingwire.js";
import { SignalBoard } from "./board.js";
import { age, clockTime, formatNumber } from "./format.js";
import { CommandLog, ErrorPanel, InboxList } from "./panels.js";
import { loadSettings, openSettings, saveCharts } from "./settings.js";

const settings = loadSettings();
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${id}"]`));

const ui = {
  status: $("status"),
  statusState: $("status-state"),
  statusReason: $("status-reason"),
  clock: $("clock"),
  rate: $("rate"),
  received: $("received-count"),
  outbox: $("outbox-depth"),
  inboxCount: $("inbox-count"),
  lastData: $("last-data"),
  dbcInfo: $("dbc-info"),
  telemetry: $("telemetry"),
  form: /** @type {HTMLFormElement} */ ($("command-form")),
};

const errors = new ErrorPanel($("error-panel"), /** @type {HTMLOListElement} */ ($("errors")), $("error-count"));
$("errors-clear").addEventListener("click", () => errors.clear());
const inbox = new InboxList(/** @type {HTMLOListElement} */ ($("inbox")));
const commands = new CommandLog(/** @type {HTMLOListElement} */ ($("command-log")), settings.thing);
const board = new SignalBoard($("signals"), $("charts"), { charts: settings.charts, windowMs: settings.windowSec * 1000, onChartsChanged: saveCharts });
/** For tests and the console: which MQTT client this tab is. */
Object.assign(window, { kioskClientId: settings.clientId });
$("thing-id").textContent = settings.thing;
document.title = `${settings.thing} · thingwire kiosk`;
$("settings-button").addEventListener("click", () => openSettings(/** @type {HTMLDialogElement} */ ($("settings-dialog")), settings));

const topics = {
  can: `${settings.prefix}/can`,
  telemetry: `${settings.prefix}/telemetry`,
  ingress: `${settings.prefix}/ingress`,
  egress: `${settings.prefix}/egress`,
};

/** Shows a state and its reason in the top bar; the reason never holds a secret (the SDK scrubs them). */
function showStatus(state, reason) {
  ui.status.dataset.state = state;
  ui.statusState.textContent = state;
  ui.statusReason.textContent = reason;
  ui.statusReason.title = reason;
}

// ── DBC ────────────────────────────────────────────────────────────────────────────────────────────────

/** @type {any} */
let dbc = null;

/** Turns the parsed DBC into the tile list, grouped by message, in file order. */
function signalList(db) {
  const out = [];
  for (const m of db.messages) {
    for (const s of m.signals) {
      const labels = s.values instanceof Map ? s.values : s.values ? new Map(Object.entries(s.values).map(([k, v]) => [Number(k), String(v)])) : undefined;
      out.push({
        name: s.name,
        message: m.name,
        id: m.id,
        unit: s.unit ?? "",
        factor: s.factor ?? 1,
        min: s.min !== s.max ? s.min : undefined,
        max: s.min !== s.max ? s.max : undefined,
        isFloat: s.valueType === "float32" || s.valueType === "float64",
        labels: labels && labels.size > 0 ? labels : undefined,
      });
    }
  }
  return out;
}

async function loadDbc() {
  const url = settings.dbc;
  try {
    const res = await fetch(url, { cache: "no-cache" });
    if (!res.ok) throw new tw.ThingwireError("CONFIG_NOT_FOUND", `cannot load the DBC file: HTTP ${res.status} ${res.statusText}; check the dbc= setting`);
    const text = await res.text();
    dbc = tw.parseDbc(text);
    const list = signalList(dbc);
    board.setSignals(list);
    ui.dbcInfo.textContent = `${url.split("/").pop()} · ${dbc.messages.length} messages · ${list.length} signals`;
  } catch (e) {
    dbc = null;
    ui.dbcInfo.textContent = `${url.split("/").pop()} · not loaded: CAN frames shown raw`;
    errors.add(e, `DBC ${url}`);
  }
}

// ── received data ─────────────────────────────────────────────────────────────────────────────────────

const arrivals = [];
let receivedTotal = 0;
let lastDataAt = 0;
const telemetryRows = new Map();

function handleCan(message) {
  for (const point of message.points) {
    const t = Number(point.timestamp);
    for (const reading of point.readings) {
      if (!dbc) {
        board.updateRaw(reading.canId, reading.data);
        continue;
      }
      let decoded;
      try {
        decoded = tw.decodeSignals(dbc, reading.canId, reading.data);
      } catch (e) {
        if (tw.isThingwireError(e, "DBC_UNKNOWN_MESSAGE")) {
          board.updateRaw(reading.canId, reading.data);
          continue;
        }
        errors.add(e, `CAN id 0x${reading.canId.toString(16)}`);
        continue;
      }
      for (const [name, value] of Object.entries(decoded.signals)) board.update(name, value, t, decoded.labels[name]);
    }
  }
}

function handleTelemetry(message) {
  const last = message.points[message.points.length - 1];
  if (!last) return;
  for (const f of last.fields) {
    let row = telemetryRows.get(f.name);
    if (!row) {
      if (telemetryRows.size >= 40) continue;
      const dt = document.createElement("dt");
      dt.textContent = f.name;
      const dd = document.createElement("dd");
      dd.dataset.testid = `telemetry-${f.name}`;
      ui.telemetry.append(dt, dd);
      row = dd;
      telemetryRows.set(f.name, dd);
    }
    row.textContent = typeof f.value === "number" ? formatNumber(f.value, Number.isInteger(f.value) ? 0 : 2) : String(f.value);
  }
  for (const f of last.fields) {
    if (typeof f.value === "number") board.update(f.name, f.value, Number(last.timestamp));
  }
}

function handleEgress(payload) {
  let ack;
  try {
    ack = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    throw new tw.ThingwireError("CODEC_JSON", `the device's egress message is not JSON: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  if (ack && typeof ack.ack === "string") {
    commands.setState(ack.ack, ack.ok === false ? "failed" : "acked", ack.result ?? ack.error);
    return `ack ${ack.command ?? ""} ${ack.ok === false ? "failed" : "ok"}`;
  }
  return "event";
}

/** Called for every message the device hands over (already stored in the inbox). */
function onMessage(msg) {
  const now = Date.now();
  arrivals.push(now);
  receivedTotal++;
  let format = "?";
  let summary;
  try {
    if (msg.topic === topics.egress) {
      format = "json";
      summary = handleEgress(msg.payload);
    } else {
      lastDataAt = now;
      const { format: f, message } = tw.decodePayload(msg.payload);
      format = f;
      if (f === "can" || f === "can+gzip") {
        handleCan(message);
        summary = `${message.points.reduce((n, p) => n + p.readings.length, 0)} frames`;
      } else {
        handleTelemetry(message);
        summary = `${message.points.reduce((n, p) => n + p.fields.length, 0)} fields`;
      }
    }
  } catch (e) {
    format = "error";
    errors.add(e, msg.topic);
  }
  inbox.add({ topic: msg.topic, format, size: msg.payload.byteLength, at: now, summary });
}

// ── the device ────────────────────────────────────────────────────────────────────────────────────────

/** @type {any} */
let device = null;
/** @type {any} */
let sharedStore = null;
/** @type {any} */
let tabInbox = null;

/**
 * The store the kiosk's device uses: the outbox, dead letters, state and the drain lock live in one
 * IndexedDB database shared by all kiosk tabs of this origin (only the tab holding the lock drains it);
 * the inbox is this tab's own, so each tab shows every message it receives.
 */
function kioskStore(shared, own) {
  return {
    kind: shared.kind,
    outbox: shared.outbox,
    deadLetters: shared.deadLetters,
    kv: shared.kv,
    inbox: own.inbox,
    drainLock: shared.drainLock,
    watch: shared.watch ? (listener) => shared.watch(listener) : undefined,
    async close() {
      await own.close();
      await shared.close();
    },
  };
}

async function connect() {
  showStatus("connecting", `opening the outbox (IndexedDB "${settings.store}")`);
  try {
    sharedStore = await tw.openIndexedDbStore(settings.store);
  } catch (e) {
    errors.add(e, `IndexedDB ${settings.store}`);
    showStatus("error", `the IndexedDB outbox cannot be opened: ${e instanceof Error ? e.message : e}`);
    return;
  }
  tabInbox = tw.memoryStore();
  const auth = settings.auth === "cert"
    ? tw.browserClientCert()
    : settings.username || settings.password
    ? tw.tokenAuth({ ...(settings.username ? { username: settings.username } : {}), ...(settings.password ? { password: settings.password } : {}) })
    : undefined;
  try {
    device = tw.createDevice({
      url: settings.broker,
      clientId: settings.clientId,
      auth,
      store: kioskStore(sharedStore, tabInbox),
      protocolVersion: settings.mqtt,
      clean: true,
      reconnect: { baseMs: 500, maxMs: 5_000, stableMs: 10_000 },
      inbox: { expireSeconds: 300 },
      timerVariant: "worker",
      transport: { tlsKeyMaterial: false },
    });
  } catch (e) {
    errors.add(e, "createDevice");
    showStatus("error", e instanceof Error ? e.message : String(e));
    return;
  }
  device.on("status", (s) => {
    const retry = s.state === "offline" && s.retryInMs !== undefined ? ` · retry in ${(s.retryInMs / 1000).toFixed(1)} s` : "";
    showStatus(s.state, `${s.reason}${retry}`);
  });
  device.on("deadletter", (d) => {
    commands.setState(d.messageId, "failed", d.reason);
    errors.add(new tw.ThingwireError("PUBLISH_REFUSED", `the broker refused a command for good: ${d.reason}`), d.topic);
  });
  device.on("handler-error", ({ topic, error }) => errors.add(error, topic));
  const s = device.status;
  showStatus(s.state, s.reason);
  for (const topic of [topics.can, topics.telemetry, topics.egress]) {
    device.subscribe(topic, onMessage, { qos: 1 }).catch((e) => errors.add(e, `subscribe ${topic}`));
  }
}

// ── commands ──────────────────────────────────────────────────────────────────────────────────────────

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

ui.form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(ui.form);
  const command = String(data.get("command") ?? "ping");
  const value = String(data.get("value") ?? "").trim();
  if (!device) {
    errors.add(new tw.ThingwireError("DEVICE_CLOSED", "not connected to an outbox yet; check the settings"), "command");
    return;
  }
  const id = newId();
  const body = { id, command, value: value === "" ? undefined : value, from: settings.clientId, sentAt: Date.now() };
  try {
    const receipt = await device.publish(topics.ingress, JSON.stringify(body), { qos: 1 });
    commands.add({ id, messageId: receipt.messageId, command, value, at: body.sentAt, state: "queued" });
    /** @type {HTMLInputElement} */ (ui.form.elements.namedItem("value")).value = "";
  } catch (e) {
    errors.add(e, `command ${command}`);
  }
});

// ── periodic: clock, rate, outbox depth, inbox housekeeping ─────────────────────────────────────────────

async function tick() {
  const now = Date.now();
  ui.clock.textContent = clockTime(now);
  while (arrivals.length > 0 && (arrivals[0] ?? now) < now - 5_000) arrivals.shift();
  ui.rate.textContent = (arrivals.length / 5).toFixed(1);
  ui.received.textContent = formatNumber(receivedTotal, 0);
  ui.lastData.textContent = lastDataAt ? age(now - lastDataAt) : "—";
  if (!device || !sharedStore) return;
  try {
    const stats = await device.outbox.stats();
    ui.outbox.textContent = String(stats.count);
    ui.inboxCount.textContent = String(await tabInbox.inbox.count());
    const pending = commands.pending();
    if (pending.length > 0) {
      const queued = new Set((await sharedStore.outbox.peek(1000)).map((r) => r.messageId));
      for (const c of pending) if (!queued.has(c.messageId)) commands.setState(c.id, "sent");
    }
  } catch (e) {
    if (!tw.isThingwireError(e, "STORE_CLOSED")) errors.add(e, "outbox");
  }
}

let purgeAt = 0;
setInterval(() => {
  void tick();
  if (tabInbox && Date.now() > purgeAt) {
    purgeAt = Date.now() + 15_000;
    tabInbox.inbox.purge({ expiredAt: Date.now() }).catch((e) => errors.add(e, "inbox purge"));
  }
}, 500);
void tick();

window.addEventListener("pagehide", () => {
  void device?.close();
});

await loadDbc();
await connect();
