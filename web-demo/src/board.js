// The signal tiles and the live charts. Tiles are created up front from the DBC, so the grid has its
// final shape before the first frame arrives; values only change text, never box sizes.

import { LiveChart } from "./chart.js";
import { age, decimalsFor, formatNumber, hex, unitLabel } from "./format.js";

const COLORS = ["#38bdf8", "#a78bfa", "#f472b6", "#34d399", "#fbbf24", "#fb7185", "#60a5fa", "#2dd4bf"];
const MAX_CHARTS = 8;
const MAX_RAW_TILES = 24;
const STALE_MS = 10_000;

/**
 * @typedef {object} SignalInfo
 * @property {string} name
 * @property {string} message     DBC message name
 * @property {number} id          CAN id
 * @property {string} unit
 * @property {number} factor
 * @property {number | undefined} min
 * @property {number | undefined} max
 * @property {boolean} isFloat
 * @property {Map<number, string> | undefined} labels  value table
 */

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function idLabel(id) {
  return "0x" + id.toString(16).toUpperCase().padStart(id > 0x7ff ? 8 : 3, "0");
}

export class SignalBoard {
  /**
   * @param {HTMLElement} grid       tile container
   * @param {HTMLElement} chartGrid  chart container
   * @param {{ charts: string[], windowMs?: number, onChartsChanged?: (names: string[]) => void }} options
   */
  constructor(grid, chartGrid, options) {
    this.grid = grid;
    this.chartGrid = chartGrid;
    this.onChartsChanged = options.onChartsChanged;
    this.windowMs = options.windowMs ?? 60_000;
    /** @type {Map<string, {info: SignalInfo, tile: HTMLElement, valueEl: HTMLElement, value?: number | string, text?: string, at: number, dirty: boolean}>} */
    this.tiles = new Map();
    /** @type {Map<string, {chart: LiveChart, card: HTMLElement, valueEl: HTMLElement}>} */
    this.charts = new Map();
    this.chartNames = [...options.charts];
    this.rawCount = 0;
    this.frame = 0;
    this.renderCharts();
    this.loop = this.loop.bind(this);
    requestAnimationFrame(this.loop);
  }

  /** Builds one tile per DBC signal, in DBC order (messages keep their signals together). */
  setSignals(/** @type {SignalInfo[]} */ signals) {
    this.grid.replaceChildren();
    this.tiles.clear();
    this.rawCount = 0;
    for (const info of signals) this.addTile(info);
    this.renderCharts();
  }

  addTile(info, before) {
    const tile = el("div", "tile");
    tile.dataset.testid = `signal-${info.name}`;
    tile.dataset.signal = info.name;
    tile.title = `${info.message} (${idLabel(info.id)}) · ${info.name}`;
    const name = el("div", "tile-name", info.name);
    const valueEl = el("div", "tile-value", "—");
    valueEl.dataset.testid = `value-${info.name}`;
    tile.append(name, valueEl, el("span", "tile-msg", info.message === "raw" ? "" : idLabel(info.id)));
    tile.addEventListener("click", () => this.toggleChart(info.name));
    if (this.chartNames.includes(info.name)) tile.classList.add("charted");
    if (before) this.grid.insertBefore(tile, before);
    else this.grid.append(tile);
    this.tiles.set(info.name, { info, tile, valueEl, at: 0, dirty: false });
  }

  /** A decoded signal value (physical) at time `t`; `label` is its value-table text, if any. */
  update(name, value, t, label) {
    const entry = this.tiles.get(name);
    if (!entry) return;
    entry.value = value;
    entry.text = label;
    entry.at = Date.now();
    entry.dirty = true;
    const c = this.charts.get(name);
    if (c && typeof value === "number") c.chart.push(t, value);
  }

  /** A CAN frame the DBC does not describe: shown as raw hex in its own tile (a bounded number of them). */
  updateRaw(id, data) {
    const name = `raw ${idLabel(id)}`;
    if (!this.tiles.has(name)) {
      if (this.rawCount >= MAX_RAW_TILES) return;
      this.rawCount++;
      this.addTile({ name, message: "raw", id, unit: "", factor: 1, min: undefined, max: undefined, isFloat: false, labels: undefined });
    }
    this.update(name, hex(data), Date.now(), undefined);
  }

  toggleChart(name) {
    const at = this.chartNames.indexOf(name);
    if (at >= 0) this.chartNames.splice(at, 1);
    else {
      if (this.chartNames.length >= MAX_CHARTS) this.chartNames.shift();
      this.chartNames.push(name);
    }
    this.renderCharts();
    this.onChartsChanged?.([...this.chartNames]);
  }

  renderCharts() {
    for (const c of this.charts.values()) c.chart.dispose();
    this.charts.clear();
    this.chartGrid.replaceChildren();
    for (const { tile } of this.tiles.values()) tile.classList.remove("charted");
    const names = this.chartNames.filter((n) => this.tiles.size === 0 || this.tiles.has(n));
    if (names.length === 0) {
      this.chartGrid.append(el("div", "chart-empty", "Click a signal tile to chart it"));
      return;
    }
    names.forEach((name, i) => {
      const entry = this.tiles.get(name);
      entry?.tile.classList.add("charted");
      const card = el("div", "chart-card");
      card.dataset.testid = `chart-${name}`;
      card.title = "click to remove";
      const head = el("div", "chart-head");
      head.append(el("span", "chart-name", name));
      const valueEl = el("span", "chart-value", "—");
      head.append(valueEl);
      const canvas = /** @type {HTMLCanvasElement} */ (el("canvas", "chart-canvas"));
      canvas.dataset.testid = `chart-canvas-${name}`;
      canvas.dataset.points = "0";
      card.append(head, canvas);
      card.addEventListener("click", () => this.toggleChart(name));
      this.chartGrid.append(card);
      const info = entry?.info;
      const chart = new LiveChart(canvas, { windowMs: this.windowMs, color: COLORS[i % COLORS.length], min: info?.min, max: info?.max });
      this.charts.set(name, { chart, card, valueEl });
    });
  }

  text(entry) {
    const { info, value, text } = entry;
    if (text !== undefined) return { text, cls: "tile-value enum" };
    if (typeof value === "string") return { text: value, cls: "tile-value enum" };
    if (typeof value !== "number") return { text: "—", cls: "tile-value" };
    return { text: formatNumber(value, decimalsFor(info.factor, info.isFloat, info.max)), cls: "tile-value" };
  }

  loop() {
    requestAnimationFrame(this.loop);
    // ~10 redraws a second is plenty for a wall screen and keeps the CPU quiet.
    if (++this.frame % 6 !== 0) return;
    const now = Date.now();
    for (const entry of this.tiles.values()) {
      const stale = entry.at > 0 && now - entry.at > STALE_MS;
      if (stale !== entry.tile.classList.contains("stale")) {
        entry.tile.classList.toggle("stale", stale);
        entry.tile.title = stale ? `${entry.info.name}: no update for ${age(now - entry.at)}` : entry.info.name;
      }
      if (!entry.dirty) continue;
      entry.dirty = false;
      const { text, cls } = this.text(entry);
      const unit = unitLabel(entry.info.unit);
      const numeric = entry.text === undefined && typeof entry.value === "number";
      entry.valueEl.className = text.length + (numeric ? unit.length : 0) > 8 ? `${cls} long` : cls;
      entry.valueEl.textContent = text;
      if (unit && entry.text === undefined && typeof entry.value === "number") entry.valueEl.append(el("small", "", unit));
      const c = this.charts.get(entry.info.name);
      if (c) {
        c.valueEl.textContent = text;
        if (unit && entry.text === undefined) c.valueEl.append(el("small", "", unit));
      }
    }
    for (const { chart } of this.charts.values()) chart.draw(now);
  }
}
