import { encodePng } from './png.js';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixel } from './font.js';
import { writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

export type Color = [number, number, number, number?];

/** An RGBA raster with the few drawing primitives charts need. */
export class Canvas {
  readonly pixels: Uint8ClampedArray;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Color = [255, 255, 255],
  ) {
    this.pixels = new Uint8ClampedArray(width * height * 4);
    this.rect(0, 0, width, height, background);
  }

  /** Blends a colour into one pixel (alpha 0..1 from the colour's fourth entry, default opaque). */
  plot(x: number, y: number, [r, g, b, a = 255]: Color): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    const t = a / 255;
    this.pixels[i] = this.pixels[i] * (1 - t) + r * t;
    this.pixels[i + 1] = this.pixels[i + 1] * (1 - t) + g * t;
    this.pixels[i + 2] = this.pixels[i + 2] * (1 - t) + b * t;
    this.pixels[i + 3] = 255;
  }

  rect(x: number, y: number, w: number, h: number, color: Color): void {
    for (let yy = Math.round(y); yy < Math.round(y + h); yy++) for (let xx = Math.round(x); xx < Math.round(x + w); xx++) this.plot(xx, yy, color);
  }

  /** A line of the given thickness, drawn as overlapping discs along it. */
  line(x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
    const r = thickness / 2;
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      if (thickness <= 1) this.plot(x, y, color);
      else this.disc(x, y, r, color);
    }
  }

  disc(cx: number, cy: number, r: number, color: Color): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) this.plot(x, y, color);
    }
  }

  /** Width in pixels of text at a scale. */
  static textWidth(text: string, scale = 2): number {
    return text.length * (GLYPH_WIDTH + 1) * scale - scale;
  }

  /** Draws text with the built-in 5x7 font; `align` places x at the left, centre or right of the text. */
  text(text: string, x: number, y: number, color: Color = [0, 0, 0], scale = 2, align: 'left' | 'center' | 'right' = 'left', vertical = false): void {
    const w = Canvas.textWidth(text, scale);
    const start = align === 'left' ? 0 : align === 'center' ? -w / 2 : -w;
    [...text].forEach((ch, i) => {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
          if (!glyphPixel(ch, gx, gy)) continue;
          const along = start + (i * (GLYPH_WIDTH + 1) + gx) * scale;
          for (let sx = 0; sx < scale; sx++) {
            for (let sy = 0; sy < scale; sy++) {
              if (vertical) this.plot(x + gy * scale + sy, y - along - sx, color);
              else this.plot(x + along + sx, y + gy * scale + sy, color);
            }
          }
        }
      }
    });
  }

  /** Writes the canvas as a PNG (whole or not at all). */
  save(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.partial`, encodePng(this.pixels, this.width, this.height));
    renameSync(`${path}.partial`, path);
  }
}
