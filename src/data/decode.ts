// Image decoding through sharp, an optional peer dependency loaded on first use (Node only).
import { WgradError } from '../errors.js';
import type { RawImage } from './image.js';
import { loadPeer } from '../platform/peers.js';

export class ImageDecodeError extends WgradError {
  override name = 'ImageDecodeError';
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Sharp | null = null;

/** Decodes PNG, JPEG (and anything else sharp reads) to raw 8-bit pixels with their own channel count. */
export async function decodeImage(path: string): Promise<RawImage> {
  sharpModule ??= (await loadPeer('sharp', 'decoding images', () => import('sharp'))).default;
  try {
    const { data, info } = await sharpModule(path, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    if (info.width === 0 || info.height === 0) throw new Error('empty image');
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new ImageDecodeError(`${path}: not a readable image (${(err as Error).message}).`);
  }
}

