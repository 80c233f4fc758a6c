import { WgradError } from '../errors.js';
import { resizeBilinear } from '../data/image.js';
import { Canvas, type Color } from './canvas.js';

/** The 'inferno'-like ramp of a heatmap, from dark purple (0) through red to pale yellow (1). */
function heat(t: number): Color {
  const stops: [number, Color][] = [
    [0, [0, 0, 4]],
    [0.25, [87, 16, 110]],
    [0.5, [188, 55, 84]],
    [0.75, [249, 142, 9]],
    [1, [252, 255, 164]],
  ];
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i];
    const [t0, c0] = stops[i - 1];
    if (x <= t1) {
      const f = (x - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => c0[k]! + (c1[k]! - c0[k]!) * f) as Color;
    }
  }
  return stops[stops.length - 1][1];
}

export interface AttentionImage {
  /** Pixels 0..255, interleaved, [height, width, channels] with 1 or 3 channels. */
  pixels: Float32Array | Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Attention each key position receives, averaged over queries (and heads when `head` is undefined), from one
 * example's weights [heads, T, T]. Normalised to 0..1 for display.
 */
export function attentionReceived(scores: Float32Array | Float64Array, heads: number, tokens: number, head?: number): Float32Array {
  const out = new Float32Array(tokens);
  const hs = head === undefined ? [...Array(heads).keys()] : [head];
  for (const h of hs) for (let q = 0; q < tokens; q++) for (let k = 0; k < tokens; k++) out[k] += scores[(h * tokens + q) * tokens + k];
  const lo = Math.min(...out);
  const hi = Math.max(...out);
  return out.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

function drawImage(c: Canvas, img: AttentionImage, x0: number, y0: number, size: number, overlay?: Float32Array, grid?: [number, number]) {
  const rgb = resizeBilinear({ data: img.pixels, width: img.width, height: img.height, channels: img.channels }, size, size);
  let map: Float32Array | null = null;
  if (overlay && grid) map = resizeBilinear({ data: overlay, width: grid[1], height: grid[0], channels: 1 }, size, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * img.channels;
      const grey: Color = img.channels >= 3 ? [rgb[i], rgb[i + 1], rgb[i + 2]] : [rgb[i], rgb[i], rgb[i]];
      c.plot(x0 + x, y0 + y, grey);
      if (map) {
        const [r, g, b] = heat(map[y * size + x]);
        c.plot(x0 + x, y0 + y, [r, g, b, 150]);
      }
    }
  }
}

/**
 * Draws an image beside its attention: the head-averaged attention over the image's grid (7x7 for MobileNetV2
 * features), upsampled bilinearly and blended over the image as a heatmap, then one smaller map per head.
 * `scores` are one example's weights [heads, T, T] with T = grid rows × columns.
 */
export function plotAttention(image: AttentionImage, scores: Float32Array | Float64Array, path: string, options: { heads: number; grid?: [number, number]; title?: string; size?: number }): void {
  const grid = options.grid ?? [7, 7];
  const tokens = grid[0] * grid[1];
  if (scores.length !== options.heads * tokens * tokens) {
    throw new WgradError(`plotAttention: ${scores.length} weights do not make ${options.heads} heads of [${tokens}, ${tokens}] for a ${grid[0]}x${grid[1]} grid.`);
  }
  const size = options.size ?? 224;
  const small = Math.floor(size / 2) - 8;
  const perRow = Math.ceil(options.heads / 2);
  const width = 20 + (size + 20) * 2 + perRow * (small + 12) + 10;
  const height = 50 + size + 40;
  const c = new Canvas(width, height);
  c.text(options.title ?? 'Attention received by each image region (mean over queries)', 20, 14, [0, 0, 0], 2);
  drawImage(c, image, 20, 50, size);
  c.text('Image', 20 + size / 2, 56 + size, [40, 40, 40], 2, 'center');
  drawImage(c, image, 40 + size, 50, size, attentionReceived(scores, options.heads, tokens), grid);
  c.text('Mean over heads', 40 + size + size / 2, 56 + size, [40, 40, 40], 2, 'center');
  for (let h = 0; h < options.heads; h++) {
    const x = 60 + 2 * size + (h % perRow) * (small + 12);
    const y = 50 + Math.floor(h / perRow) * (small + 16);
    drawImage(c, image, x, y, small, attentionReceived(scores, options.heads, tokens, h), grid);
    c.text(`head ${h + 1}`, x + small / 2, y + small + 2, [40, 40, 40], 1, 'center');
  }
  c.save(path);
}
