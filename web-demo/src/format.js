// Number, unit and time formatting for the kiosk: fixed decimals per signal so digits do not dance.

const UNITS = { degC: "°C", degF: "°F", deg: "°", "km/h": "km/h" };

/** Display form of a DBC unit. */
export function unitLabel(unit) {
  return UNITS[unit] ?? unit ?? "";
}

/**
 * Decimals that show a signal's resolution without noise on a wall screen: factor 0.25 → 1, 0.001 → 2
 * for a small range (a battery's 0–32 V) but 1 for a wide one (0–160 km/h), none above 1,000 (rpm).
 */
export function decimalsFor(factor, isFloat, max) {
  const top = Number.isFinite(max) ? Math.abs(max) : Infinity;
  if (top >= 1000) return 0;
  if (isFloat) return 1;
  if (!Number.isFinite(factor) || factor <= 0 || factor >= 1) return 0;
  return Math.min(top <= 50 ? 2 : 1, Math.ceil(-Math.log10(factor) - 1e-9));
}

/** A number with `decimals` digits after the point; large values lose their decimals. */
export function formatNumber(value, decimals = 1) {
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return "—";
  const d = Math.abs(value) >= 10_000 ? 0 : decimals;
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** hh:mm:ss of a time in ms. */
export function clockTime(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "3 s", "2 min", "—". */
export function age(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return "now";
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

/** Lowercase hex of bytes, e.g. for a CAN frame without a DBC entry. */
export function hex(bytes, max = 16) {
  let out = "";
  for (let i = 0; i < Math.min(bytes.length, max); i++) out += bytes[i].toString(16).padStart(2, "0");
  return bytes.length > max ? out + "…" : out;
}

/** 1.2 kB style byte counts. */
export function byteSize(n) {
  if (n < 1024) return `${n} B`;
  return `${(n / 1024).toFixed(1)} kB`;
}
