import { WgradError } from '../errors.js';

/** Decoded pixels, row-major, interleaved channels (1 grey, 3 RGB, 4 RGBA). */
export interface RawImage {
  data: Uint8Array | Float32Array;
  width: number;
  height: number;
  channels: number;
}

export type ColorMode = 'grayscale' | 'rgb' | 'rgba';
/**
 * 'bilinear': TensorFlow's tf.image.resize (half-pixel centres), what Keras's image loaders use.
 * 'bilinear-align-corners': tf.image.resizeBilinear(alignCorners=true), what nsfwjs's classify() uses.
 */
export type Interpolation = 'bilinear' | 'bilinear-align-corners';

/** Converts between grey, RGB and RGBA as TensorFlow does: grey is replicated, alpha dropped, luma = ITU-R 601. */
export function convertChannels(img: RawImage, mode: ColorMode): RawImage {
  const want = mode === 'grayscale' ? 1 : mode === 'rgb' ? 3 : 4;
  if (img.channels === want) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * want);
  const c = img.channels;
  for (let i = 0; i < n; i++) {
    const src = img.data.subarray(i * c, i * c + c);
    const [r, g, b] = c >= 3 ? [src[0], src[1], src[2]] : [src[0], src[0], src[0]];
    const a = c === 4 ? src[3] : c === 2 ? src[1] : 255;
    if (want === 1) out[i] = Math.round(0.2989 * r + 0.587 * g + 0.114 * b);
    else {
      out[i * want] = r;
      out[i * want + 1] = g;
      out[i * want + 2] = b;
      if (want === 4) out[i * want + 3] = a;
    }
  }
  return { data: out, width: img.width, height: img.height, channels: want };
}

/**
 * Bilinear resize to [height, width] in float32. Half-pixel centres map output x to input (x + 0.5) * in/out - 0.5;
 * align-corners maps x to x * (in - 1)/(out - 1). Neither antialiases, matching TensorFlow's defaults.
 */
export function resizeBilinear(img: RawImage, height: number, width: number, mode: Interpolation = 'bilinear'): Float32Array {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Float32Array(height * width * c);
  const axis = (size: number, target: number) => {
    const lo = new Int32Array(target);
    const hi = new Int32Array(target);
    const frac = new Float32Array(target);
    for (let o = 0; o < target; o++) {
      let src: number;
      if (mode === 'bilinear-align-corners') src = target > 1 ? (o * (size - 1)) / (target - 1) : 0;
      else src = Math.max(0, (o + 0.5) * (size / target) - 0.5);
      const l = Math.min(Math.floor(src), size - 1);
      lo[o] = l;
      hi[o] = Math.min(l + 1, size - 1);
      frac[o] = src - l;
    }
    return { lo, hi, frac };
  };
  const ys = axis(h, height);
  const xs = axis(w, width);
  for (let y = 0; y < height; y++) {
    const r0 = ys.lo[y] * w;
    const r1 = ys.hi[y] * w;
    const fy = ys.frac[y];
    for (let x = 0; x < width; x++) {
      const fx = xs.frac[x];
      for (let k = 0; k < c; k++) {
        const a = data[(r0 + xs.lo[x]) * c + k];
        const b = data[(r0 + xs.hi[x]) * c + k];
        const top = a + (b - a) * fx;
        const cc = data[(r1 + xs.lo[x]) * c + k];
        const d = data[(r1 + xs.hi[x]) * c + k];
        const bottom = cc + (d - cc) * fx;
        out[(y * width + x) * c + k] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}
