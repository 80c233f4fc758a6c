// Image decoding through sharp, an optional peer dependency loaded on first use (Node only).
import { WgradError } from '../errors.js';
import type { RawImage } from './image.js';
import { loadPeer } from '../platform/peers.js';

export class ImageDecodeError extends WgradError {
  override name = 'ImageDecodeError';
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Sharp | null = null;

/**
 * The most pixels an image may have before it is refused unread: PIL's limit (89,478,485, about 9459 x 9459). A
 * small compressed file can hold a huge image (a 249 KB PNG decoded to 0.9 GiB); the header says how large.
 */
export const DEFAULT_MAX_PIXELS = 89_478_485;

export interface DecodeOptions {
  /** Refuse images with more pixels than this, from their header, before decoding (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
}

async function sharp(): Promise<Sharp> {
  sharpModule ??= (await loadPeer('sharp', 'decoding images', () => import('sharp'))).default;
  return sharpModule;
}

/** Width, height and pixel count from an image's header, without decoding it. */
export async function imagePixels(path: string): Promise<{ width: number; height: number; pixels: number }> {
  const s = await sharp();
  try {
    const { width = 0, height = 0 } = await s(path, { failOn: 'error', limitInputPixels: false }).metadata();
    return { width, height, pixels: width * height };
  } catch (err) {
    throw new ImageDecodeError(`${path}: not a readable image (${(err as Error).message}). Use PNG, JPEG, WebP, GIF or TIFF files, or move this one out of the dataset.`);
  }
}

/** Decodes PNG, JPEG (and anything else sharp reads) to raw 8-bit pixels with their own channel count. */
export async function decodeImage(path: string, options: DecodeOptions = {}): Promise<RawImage> {
  const s = await sharp();
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { width, height, pixels } = await imagePixels(path);
  if (pixels > maxPixels) {
    throw new ImageDecodeError(
      `${path}: ${width} x ${height} is ${pixels.toLocaleString('en')} pixels, over the limit of ${maxPixels.toLocaleString('en')}; ` +
        `it was not decoded. Shrink the image, or raise maxPixels if you trust the file.`,
    );
  }
  try {
    const { data, info } = await s(path, { failOn: 'error', limitInputPixels: maxPixels }).raw().toBuffer({ resolveWithObject: true });
    if (info.width === 0 || info.height === 0) throw new Error('empty image');
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new ImageDecodeError(`${path}: not a readable image (${(err as Error).message}). Use PNG, JPEG, WebP, GIF or TIFF files, or move this one out of the dataset.`);
  }
}

