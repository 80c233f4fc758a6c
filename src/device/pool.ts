/**
 * Size-bucketed pool of GPU buffers. Buckets are powers of two up to 1 MiB, then steps of 1/8 of the next power of
 * two, so a reused buffer wastes at most ~12% while sizes that recur every training step always hit.
 */
export function bucketSize(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  if (pow <= 1 << 20) return pow;
  const step = pow / 8;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  liveBuffers = 0;
  liveBytes = 0;
  pooledBytes = 0;
  /** Highest liveBytes since the last resetPeak(). */
  peakBytes = 0;

  constructor(
    private device: GPUDevice,
    private usage: GPUBufferUsageFlags,
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) this.pooledBytes -= size;
    else buffer = this.device.createBuffer({ size, usage: this.usage });
    this.liveBuffers++;
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveBuffers--;
    this.liveBytes -= size;
    this.pooledBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  /** Destroys every pooled (not live) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}

/**
 * Pool of rgba32float texture arrays keyed by exact size (matmul operands on software adapters). Training repeats the
 * same shapes every step, so after the first step every request hits.
 */
export class TexturePool {
  private free = new Map<string, GPUTexture[]>();
  liveBytes = 0;
  pooledBytes = 0;

  constructor(private device: GPUDevice) {}

  acquire(width: number, height: number, layers: number): GPUTexture {
    const key = `${width}x${height}x${layers}`;
    let texture = this.free.get(key)?.pop();
    const bytes = width * height * layers * 16;
    if (texture) this.pooledBytes -= bytes;
    else {
      texture = this.device.createTexture({
        size: [width, height, layers],
        format: 'rgba32float',
        // STORAGE_BINDING: kernels/pack_texture.wgsl writes operands in directly.
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
        // Compatibility mode fixes a texture's view dimension at creation; one layer would default to '2d'.
        textureBindingViewDimension: '2d-array',
      } as GPUTextureDescriptor);
    }
    this.liveBytes += bytes;
    return texture;
  }

  release(texture: GPUTexture): void {
    const key = `${texture.width}x${texture.height}x${texture.depthOrArrayLayers}`;
    const bytes = texture.width * texture.height * texture.depthOrArrayLayers * 16;
    this.liveBytes -= bytes;
    this.pooledBytes += bytes;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(texture);
  }

  trim(): void {
    for (const list of this.free.values()) for (const t of list) t.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}
