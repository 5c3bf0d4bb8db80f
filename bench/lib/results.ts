/**
 * The one result shape every bench writes to bench/results/<name>.json, and bench/run.mjs turns
 * into a table in bench/RESULTS.md. `ratio` is always thingwire ÷ baseline; `better` says which
 * way is good. Charts are rendered to PNG by bench/plot.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Row {
  case: string;
  thingwire: number | null;
  baseline: number | null;
  baselineName: string;
  unit: string;
  /** thingwire ÷ baseline, or null when either is missing. */
  ratio: number | null;
  /** Which direction is good for this figure. */
  better?: "higher" | "lower";
  /** The goal, in words ("≥ 0.95× bare"), when there is one. */
  goal?: string;
  met?: boolean;
}

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface Chart {
  /** File name under bench/plots/, ending in .png. */
  file: string;
  title: string;
  kind: "bar" | "line";
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Bar charts: names of the x positions 0, 1, 2 … (points then use the index as x). */
  categories?: string[];
  logX?: boolean;
  logY?: boolean;
}

export interface Result {
  title: string;
  rows: Row[];
  notes: string[];
  charts?: Chart[];
}

export const benchDir = new URL("..", import.meta.url).pathname;
export const resultsDir = join(benchDir, "results");

export function ratio(thingwire: number | null, baseline: number | null): number | null {
  if (thingwire === null || baseline === null || baseline === 0) return null;
  return thingwire / baseline;
}

/** A row with its ratio computed. */
export function row(r: Omit<Row, "ratio">): Row {
  return { ...r, ratio: ratio(r.thingwire, r.baseline) };
}

export function writeResult(name: string, result: Result): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  return file;
}

/** Rounds for display in JSON (keeps results files readable). */
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
