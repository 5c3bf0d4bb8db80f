/**
 * The plotting script: renders every chart in bench/results/*.json to bench/plots/<file>.png.
 * Each chart becomes an SVG (written here, no plotting library), which headless Chromium
 * (playwright-core, the same browser the tests use; CHROMIUM_PATH overrides /usr/bin/chromium)
 * screenshots to PNG.
 *
 *   node bench/plot.ts            # all results
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "../test/helpers/chromium.ts";
import type { Chart, Result } from "./lib/results.ts";

const bench = new URL(".", import.meta.url).pathname;
const W = 960;
const H = 540;
const M = { left: 90, right: 30, top: 60, bottom: 110 };
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  if (a >= 10 || a === 0) return `${+v.toFixed(0)}`;
  if (a >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

function niceTicks(max: number, count = 6): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(v);
  if (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

function frame(chart: Chart, body: string[], legend: string[]): string {
  const lx = M.left;
  const ly = H - 28;
  let x = lx;
  const items = legend.map((name, i) => {
    const item = `<rect x="${x}" y="${ly - 11}" width="14" height="14" fill="${COLORS[i % COLORS.length]}"/>` +
      `<text x="${x + 20}" y="${ly + 1}" font-size="14">${esc(name)}</text>`;
    x += 34 + name.length * 7.5;
    return item;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="30" text-anchor="middle" font-size="18" font-weight="bold">${esc(chart.title)}</text>
<text transform="translate(22 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="14">${esc(chart.yLabel)}</text>
<text x="${(M.left + W - M.right) / 2}" y="${H - 52}" text-anchor="middle" font-size="14">${esc(chart.xLabel)}</text>
${body.join("\n")}
${items.join("\n")}
</svg>`;
}

function yAxis(max: number, logY: boolean, minPositive: number) {
  const plotH = H - M.top - M.bottom;
  const ticks = logY ? logTicks(minPositive, max) : niceTicks(max);
  const lo = logY ? Math.log10(ticks[0]!) : 0;
  const hi = logY ? Math.log10(ticks[ticks.length - 1]!) : ticks[ticks.length - 1]!;
  const y = (v: number) => M.top + plotH - ((logY ? Math.log10(Math.max(v, ticks[0]!)) : v) - lo) / (hi - lo) * plotH;
  const svg = ticks.map((t) =>
    `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>` +
    `<text x="${M.left - 8}" y="${y(t) + 5}" text-anchor="end" font-size="13">${fmt(t)}</text>`);
  svg.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  svg.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  return { y, svg };
}

/** Splits a label into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function barChart(chart: Chart): string {
  const cats = chart.categories ?? [...new Set(chart.series.flatMap((s) => s.points.map((p) => String(p[0]))))];
  const max = Math.max(1e-9, ...chart.series.flatMap((s) => s.points.map((p) => p[1])));
  const { y, svg } = yAxis(max, false, 0);
  const plotW = W - M.left - M.right;
  const slot = plotW / cats.length;
  const barW = Math.max(1, (slot * 0.8) / chart.series.length);
  const body = [...svg];
  const labelEvery = Math.ceil(cats.length / 24);
  const many = cats.length > 12;
  chart.series.forEach((s, si) => {
    for (const [xi, v] of s.points) {
      const x = M.left + xi * slot + slot * 0.1 + si * barW;
      body.push(`<rect x="${x}" y="${y(v)}" width="${barW}" height="${H - M.bottom - y(v)}" fill="${COLORS[si % COLORS.length]}"/>`);
      if (!many && chart.series.length <= 4) {
        body.push(`<text x="${x + barW / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="11">${fmt(v)}</text>`);
      }
    }
  });
  const maxChars = Math.max(8, Math.floor(slot / 7.5));
  cats.forEach((c, i) => {
    if (i % labelEvery) return;
    const x = M.left + i * slot + slot / 2;
    const lines = wrap(c, maxChars).slice(0, 3);
    const spans = lines.map((l, k) => `<tspan x="${x}" dy="${k === 0 ? 0 : 15}">${esc(l)}</tspan>`).join("");
    body.push(`<text x="${x}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="${many ? 12 : 13}">${spans}</text>`);
  });
  return frame(chart, body, chart.series.map((s) => s.name));
}

function lineChart(chart: Chart): string {
  const pts = chart.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const logX = chart.logX ?? false;
  const logY = chart.logY ?? false;
  const { y, svg } = yAxis(Math.max(1e-9, ...ys), logY, Math.min(...ys.filter((v) => v > 0)));
  const xTicks = logX ? logTicks(Math.min(...xs), Math.max(...xs)) : niceTicks(Math.max(...xs));
  const lo = logX ? Math.log10(xTicks[0]!) : 0;
  const hi = logX ? Math.log10(xTicks[xTicks.length - 1]!) : xTicks[xTicks.length - 1]!;
  const plotW = W - M.left - M.right;
  const x = (v: number) => M.left + ((logX ? Math.log10(v) : v) - lo) / (hi - lo) * plotW;
  const body = [...svg];
  for (const t of xTicks) {
    body.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    body.push(`<text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="13">${fmt(t)}</text>`);
  }
  chart.series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${sorted.map(([a, b]) => `${x(a)},${y(b)}`).join(" ")}"/>`);
    for (const [a, b] of sorted) {
      body.push(`<circle cx="${x(a)}" cy="${y(b)}" r="4.5" fill="${color}"/>`);
      const nearRight = x(a) > W - M.right - 50;
      if (sorted.length <= 6) body.push(`<text x="${nearRight ? x(a) - 7 : x(a) + 7}" y="${y(b) - 7}" font-size="11"${nearRight ? ' text-anchor="end"' : ""}>${fmt(b)}</text>`);
    }
  });
  return frame(chart, body, chart.series.map((s) => s.name));
}

export function chartSvg(chart: Chart): string {
  return chart.kind === "bar" ? barChart(chart) : lineChart(chart);
}

export async function renderAll(only?: Set<string>): Promise<string[]> {
  const resultsDir = join(bench, "results");
  const plotsDir = join(bench, "plots");
  mkdirSync(plotsDir, { recursive: true });
  const charts: Chart[] = [];
  for (const f of readdirSync(resultsDir).filter((f) => f.endsWith(".json")).sort()) {
    if (only && !only.has(f.replace(/\.json$/, ""))) continue;
    const r = JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as Result;
    charts.push(...(r.charts ?? []));
  }
  if (!charts.length) return [];
  const browser = await chromium.launch(chromiumLaunchOptions());
  const written: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    for (const chart of charts) {
      const svg = chartSvg(chart);
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      const file = join(plotsDir, chart.file);
      await page.screenshot({ path: file, clip: { x: 0, y: 0, width: W, height: H } });
      written.push(file);
    }
  } finally {
    await browser.close();
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = await renderAll();
  for (const f of files) console.log(`plot: ${f}`);
}
