// A small live line chart on a <canvas>: a time window of (t, value) points, redrawn on demand.
// Hand-written on purpose (no chart library): the kiosk loads one SDK file and these few modules.

const FONT = '12px ui-monospace, "DejaVu Sans Mono", Menlo, monospace';

/** Rounds a span to 1, 2 or 5 × 10^n so the axis labels stay readable. */
function niceStep(span, ticks) {
  const raw = span / Math.max(1, ticks);
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / pow;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * pow;
}

function trimNumber(v) {
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return String(Math.round(v * 10) / 10);
  return String(Math.round(v * 100) / 100);
}

export class LiveChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ windowMs?: number, color?: string, min?: number, max?: number }} options
   *   `min`/`max`: the signal's range from the DBC, used when the data stays inside it.
   */
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.windowMs = options.windowMs ?? 60_000;
    this.color = options.color ?? "#38bdf8";
    this.hintMin = options.min;
    this.hintMax = options.max;
    /** @type {{t: number, v: number}[]} */
    this.points = [];
    this.dirty = true;
    this.width = 0;
    this.height = 0;
    this.ratio = 1;
    this.resizeObserver = new ResizeObserver(() => {
      this.dirty = true;
    });
    this.resizeObserver.observe(canvas);
  }

  /** Adds a point; points older than the window are dropped on the next draw. */
  push(t, v) {
    if (!Number.isFinite(v) || !Number.isFinite(t)) return;
    const last = this.points[this.points.length - 1];
    if (last && t < last.t) t = last.t; // clocks of device and kiosk differ: keep the line monotonic
    this.points.push({ t, v });
    if (this.points.length > 4000) this.points.splice(0, this.points.length - 4000);
    this.dirty = true;
    this.canvas.dataset.points = String(this.points.length);
  }

  dispose() {
    this.resizeObserver.disconnect();
  }

  /** Sizes the backing store to the element's CSS size × devicePixelRatio. */
  fit() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width * ratio));
    const h = Math.max(1, Math.round(rect.height * ratio));
    if (w !== this.canvas.width || h !== this.canvas.height) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.width = rect.width;
    this.height = rect.height;
    this.ratio = ratio;
  }

  /** Redraws with `now` at the right edge. */
  draw(now) {
    this.fit();
    const { width: W, height: H } = this;
    const ctx = this.canvas.getContext("2d");
    if (!ctx || W < 10 || H < 10) return;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, W, H);

    const from = now - this.windowMs;
    let cut = 0;
    while (cut < this.points.length - 1 && (this.points[cut + 1]?.t ?? now) < from) cut++;
    if (cut > 0) this.points.splice(0, cut);
    const pts = this.points;

    let lo = Infinity;
    let hi = -Infinity;
    for (const p of pts) {
      if (p.v < lo) lo = p.v;
      if (p.v > hi) hi = p.v;
    }
    if (!Number.isFinite(lo)) {
      lo = this.hintMin ?? 0;
      hi = this.hintMax ?? 1;
    }
    if (hi - lo < 1e-9) {
      const pad = Math.abs(hi) * 0.05 || 1;
      lo -= pad;
      hi += pad;
    }
    const step = niceStep(hi - lo, 3);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;

    const left = 44;
    const right = 6;
    const top = 6;
    const bottom = 16;
    const plotW = W - left - right;
    const plotH = H - top - bottom;
    const x = (t) => left + ((t - from) / this.windowMs) * plotW;
    const y = (v) => top + (1 - (v - lo) / (hi - lo)) * plotH;

    // grid and labels
    ctx.font = FONT;
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#223041";
    ctx.fillStyle = "#6b7d92";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let v = lo, i = 0; v <= hi + step / 2 && i < 12; v += step, i++) {
      const yy = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(W - right, yy);
      ctx.stroke();
      ctx.fillText(trimNumber(v), left - 6, yy);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    const span = this.windowMs / 1000;
    const every = span <= 30 ? 5 : span <= 120 ? 15 : span <= 600 ? 60 : 300;
    for (let s = 0; s <= span; s += every) {
      const xx = Math.round(x(now - s * 1000)) + 0.5;
      ctx.fillText(s === 0 ? "now" : `-${s}s`, Math.min(Math.max(xx, left + 14), W - right - 14), H - 2);
    }

    if (pts.length > 0) {
      // area
      const grad = ctx.createLinearGradient(0, top, 0, top + plotH);
      grad.addColorStop(0, this.color + "55");
      grad.addColorStop(1, this.color + "00");
      ctx.beginPath();
      ctx.moveTo(x(pts[0].t), top + plotH);
      for (const p of pts) ctx.lineTo(x(p.t), y(p.v));
      ctx.lineTo(x(pts[pts.length - 1].t), top + plotH);
      ctx.closePath();
      ctx.fillStyle = grad;
      ctx.fill();
      // line
      ctx.beginPath();
      pts.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.t), y(p.v)) : ctx.lineTo(x(p.t), y(p.v))));
      ctx.strokeStyle = this.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.stroke();
      // last value
      const last = pts[pts.length - 1];
      ctx.beginPath();
      ctx.arc(x(last.t), y(last.v), 3.5, 0, Math.PI * 2);
      ctx.fillStyle = "#ffffff";
      ctx.fill();
    }
    this.canvas.dataset.drawn = String((Number(this.canvas.dataset.drawn) || 0) + 1);
    this.dirty = false;
  }
}
