import type { History } from '../train/model.js';
import { Canvas, type Color } from './canvas.js';

const TRAIN: Color = [31, 119, 180];
const VAL: Color = [255, 127, 14];
const AXIS: Color = [40, 40, 40];
const GRID: Color = [225, 225, 225];

/** About five round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const label = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toFixed(3))));

interface Series {
  name: string;
  values: number[];
  color: Color;
}

/** One chart: axes, grid, ticks, axis labels, a title, a legend, and a line (with markers) per series. */
function panel(c: Canvas, x0: number, y0: number, w: number, h: number, title: string, yLabel: string, series: Series[]): void {
  const left = x0 + 96; // room for tick labels like "0.95" and the rotated axis label
  const right = x0 + w - 20;
  const top = y0 + 50;
  const bottom = y0 + h - 60;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.5;
  const yTicks = niceTicks(lo - pad, hi + pad);
  const yMin = Math.min(yTicks[0], lo - pad);
  const yMax = Math.max(yTicks[yTicks.length - 1], hi + pad);
  const epochs = Math.max(...series.map((s) => s.values.length));
  const xTicks = niceTicks(1, Math.max(epochs, 2), Math.min(10, Math.max(epochs, 2))).filter((t) => Number.isInteger(t) && t >= 1 && t <= Math.max(epochs, 1));
  // Half an epoch of margin at each end keeps the first and last points off the axes.
  const px = (e: number) => left + ((e - 0.5) / Math.max(epochs, 1)) * (right - left);
  const py = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);

  for (const t of yTicks) {
    if (t < yMin || t > yMax) continue;
    c.line(left, py(t), right, py(t), GRID);
    c.line(left - 6, py(t), left, py(t), AXIS, 2);
    c.text(label(t), left - 10, py(t) - 7, AXIS, 2, 'right');
  }
  for (const t of xTicks) {
    c.line(px(t), bottom, px(t), bottom + 6, AXIS, 2);
    c.text(String(t), px(t), bottom + 12, AXIS, 2, 'center');
  }
  c.line(left, top, left, bottom, AXIS, 2);
  c.line(left, bottom, right, bottom, AXIS, 2);
  c.text(title, (left + right) / 2, y0 + 16, [0, 0, 0], 2, 'center');
  c.text('Epoch', (left + right) / 2, bottom + 36, AXIS, 2, 'center');
  c.text(yLabel, x0 + 6, (top + bottom) / 2, AXIS, 2, 'center', true);

  for (const s of series) {
    const pts = s.values.map((v, i) => [px(i + 1), py(v)] as const).filter(([, y]) => Number.isFinite(y));
    for (let i = 1; i < pts.length; i++) c.line(pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1], s.color, 3);
    for (const [x, y] of pts) c.disc(x, y, 4, s.color);
  }
  // Legend, boxed, in the right-hand corner (top or bottom) that covers fewer points.
  const lw = Math.max(...series.map((s) => Canvas.textWidth(s.name))) + 50;
  const lh = series.length * 24 + 10;
  const lx = right - lw - 8;
  const covered = (y: number) => series.flatMap((s) => s.values.map((v, i) => [px(i + 1), py(v)])).filter(([x, yy]) => x >= lx - 10 && yy >= y - 10 && yy <= y + lh + 10).length;
  const ly = covered(top + 8) <= covered(bottom - lh - 8) ? top + 8 : bottom - lh - 8;
  c.rect(lx, ly, lw, lh, [255, 255, 255, 235]);
  series.forEach((s, i) => {
    c.line(lx + 8, ly + 17 + i * 24, lx + 32, ly + 17 + i * 24, s.color, 3);
    c.text(s.name, lx + 40, ly + 10 + i * 24, AXIS);
  });
}

/**
 * Draws training curves as the seeds' matplotlib figure does: accuracy on the left and loss on the right, each with
 * its train and validation curves. The metric shown is the first logged one that is not a loss.
 */
export function plotHistory(history: History | Record<string, number[]>, path: string, options: { metric?: string; width?: number; height?: number } = {}): void {
  const h = history instanceof Object && 'history' in history ? (history as History).history : (history as Record<string, number[]>);
  const metric = options.metric ?? Object.keys(h).find((k) => k !== 'loss' && !k.startsWith('val_'));
  const width = options.width ?? 1200;
  const height = options.height ?? 500;
  const c = new Canvas(width, height);
  const pretty = (k: string) => k.replace(/_/g, ' ').replace(/\b\w/g, (m) => m.toUpperCase());
  const series = (key: string): Series[] => [
    { name: `Train ${pretty(key)}`, values: h[key] ?? [], color: TRAIN },
    ...(h[`val_${key}`] ? [{ name: `Val ${pretty(key)}`, values: h[`val_${key}`], color: VAL }] : []),
  ];
  const panels = metric ? [metric, 'loss'] : ['loss'];
  const pw = width / panels.length;
  panels.forEach((key, i) => {
    const what = pretty(key);
    panel(c, i * pw, 0, pw, height, `Training${h[`val_${key}`] ? ' and Validation' : ''} ${what}`, what, series(key));
  });
  c.save(path);
}
