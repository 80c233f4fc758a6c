import { DeviceError, WgradError } from '../errors.js';
import { describeAdapter, findAdapter, type AdapterChoice, type AdapterReport } from './adapter.js';
import { kernelSource } from './kernels.js';
import { BufferPool, TexturePool } from './pool.js';
import { bindingLimitOverride } from './test-hooks.js';

/**
 * One dispatch of a kernel in kernels/. Binding 0 is the uniform block; then `textures` (read, as
 * texture_storage_2d_array<rgba32float, read>), then `storeTextures` (as texture_storage_2d_array<rgba32float, write>),
 * then `read` buffers, then `write` buffers. Textures are read as storage textures, not sampled ones: llvmpipe (Mesa
 * 22.3) loads a texel of a read-only storage texture in about a third of the time of a sampled one's textureLoad,
 * which goes through its sampler function and recomputes the mip level's layout for every lane.
 */
export interface Dispatch {
  kernel: string;
  /** The kernel file's entry point; 'main' unless it offers others (e.g. a vec4 form). */
  entryPoint?: string;
  constants?: Record<string, number | boolean>;
  uniforms: ArrayBuffer;
  textures?: GPUTexture[];
  storeTextures?: GPUTexture[];
  read: GPUBuffer[];
  write: GPUBuffer[];
  workgroups: readonly [number, number?, number?];
}

export interface DeviceOptions {
  adapter?: AdapterChoice;
  /** Wrap every dispatch in an error scope so a failure names the kernel (slower). */
  debug?: boolean;
  /** Submit after this many recorded dispatches even without a sync point. */
  maxBatch?: number;
  /** Whether the host may time its own settings before opening the adapter (llvmpipe's vector width); default true. */
  tune?: boolean;
  /** Where to say that such a timing has started. */
  announce?: (line: string) => void;
}

interface BindingCounts {
  nTex: number;
  nStore: number;
  nRead: number;
  nWrite: number;
}

const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment on every adapter we target

/**
 * A check that a kernel makes on values only the GPU knows (indices computed on the device). The kernel writes the
 * first violation into the device's error flags (`checkBuffer`: [site + 1, value, position, 0] as u32); the host
 * reads them with the next readback and raises `error(value, position)` for that site.
 */
export interface DeviceCheck {
  error(value: number, position: number): WgradError;
}
/** The most workgroups a dispatch may have along one dimension (WebGPU's default limit). */
export const MAX_WORKGROUPS = 65535;

/**
 * The WebGPU device with everything a tensor op needs: pooled buffers, cached pipelines, and one open command encoder
 * into which dispatches are recorded until a sync point (readback, upload) or `maxBatch` dispatches.
 */
export class GpuDevice {
  readonly pool: BufferPool;
  readonly texturePool: TexturePool;
  private stagingPool: BufferPool;
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, { bind: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  // Bind groups keyed by layout and buffer identities: pooled buffers recur step after step, so most hit.
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer | GPUTexture, number>();
  private views = new WeakMap<GPUTexture, GPUTextureView>();
  private nextBufferId = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformArena: Uint8Array;
  private uniformBuffer: GPUBuffer;
  private pending = 0;
  private errors: string[] = [];
  private scopes: Promise<string | null>[] = [];
  private lostReason: string | null = null;
  /** Error flags that checking kernels write (see DeviceCheck), and the sites recorded since the last readback. */
  readonly checkBuffer: GPUBuffer;
  private checks: DeviceCheck[] = [];
  readonly maxBatch: number;
  /** Dispatches recorded since creation, and submits made: used by tests and the bench to show batching. */
  readonly stats = { dispatches: 0, submits: 0 };

  private constructor(
    readonly device: GPUDevice,
    readonly report: AdapterReport,
    private debug: boolean,
    maxBatch: number,
  ) {
    this.maxBatch = maxBatch;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool(device, usage);
    this.stagingPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.texturePool = new TexturePool(device);
    this.uniformArena = new Uint8Array(UNIFORM_SLOT * maxBatch);
    this.checkBuffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.uniformBuffer = device.createBuffer({
      size: this.uniformArena.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.addEventListener('uncapturederror', (ev) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  static async create(options: DeviceOptions = {}): Promise<GpuDevice> {
    const { adapter, report } = await findAdapter(options.adapter ?? 'auto', { tune: options.tune, announce: options.announce });
    const l = adapter.limits;
    // The defaults are far below what the adapters offer; ask for what is there.
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxTextureDimension2D: l.maxTextureDimension2D,
        maxTextureArrayLayers: l.maxTextureArrayLayers,
      },
    });
    return new GpuDevice(device, report, options.debug ?? false, options.maxBatch ?? 256);
  }

  get description(): string {
    return describeAdapter(this.report);
  }

  get maxBindingBytes(): number {
    return bindingLimitOverride.value ?? this.device.limits.maxStorageBufferBindingSize;
  }

  /** A pooled storage buffer of at least `bytes` (contents undefined). */
  alloc(bytes: number): GPUBuffer {
    if (bytes > this.maxBindingBytes) {
      throw new DeviceError(
        `A tensor of ${bytes} bytes exceeds this adapter's largest storage binding (${this.maxBindingBytes} bytes); ` +
          `split the work into smaller batches.`,
      );
    }
    return this.pool.acquire(Math.max(bytes, 4));
  }

  free(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** Copies host data into a buffer. Pending work is submitted first, so the write lands after it in queue order. */
  upload(buffer: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
    this.flush();
    this.device.queue.writeBuffer(buffer, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
  }

  clear(buffer: GPUBuffer, bytes: number): void {
    const size = Math.ceil(bytes / 4) * 4;
    this.endPass().clearBuffer(buffer, 0, size);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Copies rows of a buffer into an rgba32float texture array: `size` is [texels per row, rows, layers], the buffer
   * holds rows `bytesPerRow` apart (a multiple of 256) and layers `rowsPerImage` rows apart, from `offset`; the
   * texels land from `origin` on.
   */
  copyToTexture(buffer: GPUBuffer, offset: number, bytesPerRow: number, rowsPerImage: number, texture: GPUTexture, size: [number, number, number], origin: [number, number, number] = [0, 0, 0]): void {
    this.endPass().copyBufferToTexture({ buffer, offset, bytesPerRow, rowsPerImage }, { texture, origin }, size);
  }

  private pipeline(kernel: string, entryPoint: string, constants: Record<string, number | boolean>, counts: BindingCounts) {
    const key = `${kernel}|${entryPoint}|${JSON.stringify(constants)}|${Object.values(counts)}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;
    let module = this.modules.get(kernel);
    if (!module) {
      module = this.device.createShaderModule({ code: kernelSource(kernel), label: kernel });
      this.modules.set(kernel, module);
    }
    const layout = this.layout(counts);
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(constants)) numeric[k] = typeof v === 'boolean' ? Number(v) : v;
    pipeline = this.device.createComputePipeline({
      label: key,
      layout: layout.pipeline,
      compute: { module, entryPoint, constants: numeric },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  private layout({ nTex, nStore, nRead, nWrite }: BindingCounts) {
    const key = `${nTex},${nStore},${nRead},${nWrite}`;
    let entry = this.layouts.get(key);
    if (entry) return entry;
    const entries: GPUBindGroupLayoutEntry[] = [
      // A dynamic offset picks the dispatch's slot in the uniform arena, so bind groups need not differ by slot.
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_SLOT } },
    ];
    for (let i = 0; i < nTex; i++) {
      entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, storageTexture: { access: 'read-only', format: 'rgba32float', viewDimension: '2d-array' } });
    }
    for (let i = 0; i < nStore; i++) {
      entries.push({
        binding: nTex + i + 1,
        visibility: GPUShaderStage.COMPUTE,
        storageTexture: { access: 'write-only', format: 'rgba32float', viewDimension: '2d-array' },
      });
    }
    for (let i = 0; i < nRead + nWrite; i++) {
      entries.push({
        binding: nTex + nStore + i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: i < nRead ? 'read-only-storage' : 'storage' },
      });
    }
    const bind = this.device.createBindGroupLayout({ entries });
    entry = { bind, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [bind] }) };
    this.layouts.set(key, entry);
    return entry;
  }

  private bufferId(buffer: GPUBuffer | GPUTexture): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  private view(texture: GPUTexture): GPUTextureView {
    let view = this.views.get(texture);
    if (!view) this.views.set(texture, (view = texture.createView({ dimension: '2d-array' })));
    return view;
  }

  private bindGroup(textures: GPUTexture[], store: GPUTexture[], read: GPUBuffer[], write: GPUBuffer[]): GPUBindGroup {
    const all = [...textures, ...store];
    const buffers = [...read, ...write];
    const key = `${textures.length}|${store.length}|${read.length}|${[...all, ...buffers].map((b) => this.bufferId(b)).join(',')}`;
    let group = this.bindGroups.get(key);
    if (group) return group;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset: 0, size: UNIFORM_SLOT } }];
    all.forEach((texture, i) => entries.push({ binding: i + 1, resource: this.view(texture) }));
    buffers.forEach((buffer, i) => entries.push({ binding: all.length + i + 1, resource: { buffer } }));
    const counts = { nTex: textures.length, nStore: store.length, nRead: read.length, nWrite: write.length };
    group = this.device.createBindGroup({ layout: this.layout(counts).bind, entries });
    if (this.bindGroups.size >= 8192) this.bindGroups.clear();
    this.bindGroups.set(key, group);
    return group;
  }

  private ensureEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): GPUCommandEncoder {
    const encoder = this.ensureEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return encoder;
  }

  /** Records one dispatch into the open compute pass. */
  dispatch(d: Dispatch): void {
    if (this.lostReason) throw new DeviceError(`The GPU device was lost (${this.lostReason}).`);
    if (d.uniforms.byteLength > UNIFORM_SLOT) throw new Error(`${d.kernel}: uniform block over ${UNIFORM_SLOT} bytes`);
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WORKGROUPS || y > MAX_WORKGROUPS || z > MAX_WORKGROUPS) {
      throw new Error(`${d.kernel}: dispatch ${x}x${y}x${z} exceeds ${MAX_WORKGROUPS} workgroups per dimension`);
    }
    if (this.pending >= this.maxBatch) this.flush();
    if (this.debug) this.device.pushErrorScope('validation');
    const textures = d.textures ?? [];
    const store = d.storeTextures ?? [];
    const counts = { nTex: textures.length, nStore: store.length, nRead: d.read.length, nWrite: d.write.length };
    const pipeline = this.pipeline(d.kernel, d.entryPoint ?? 'main', d.constants ?? {}, counts);
    const slot = this.pending * UNIFORM_SLOT;
    this.uniformArena.set(new Uint8Array(d.uniforms), slot);
    const bindGroup = this.bindGroup(textures, store, d.read, d.write);
    const encoder = this.ensureEncoder();
    this.pass ??= encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup, [slot]);
    this.pass.dispatchWorkgroups(x, y, z);
    this.pending++;
    this.stats.dispatches++;
    if (this.debug) {
      const kernel = d.kernel;
      this.scopes.push(this.device.popErrorScope().then((e) => (e ? `${kernel}: ${e.message}` : null)));
    }
  }

  /** Submits everything recorded so far. The uniform arena is written first; queue order keeps it safe to reuse. */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) this.pass.end();
    this.pass = null;
    // A pass's validation errors (a buffer bound for reading and writing, say) are raised at finish(). Caught in a
    // scope, they reach the next sync for certain: a browser delivers uncaptured errors from its GPU process later,
    // so without the scope one could surface a sync late, blamed on the next, valid work.
    this.device.pushErrorScope('validation');
    if (this.pending > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformArena.buffer, 0, this.pending * UNIFORM_SLOT);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.scopes.push(this.device.popErrorScope().then((e) => (e ? e.message : null)));
    this.encoder = null;
    this.pending = 0;
    this.stats.submits++;
  }

  /** Waits for all submitted work and raises any device error seen so far. */
  async sync(): Promise<void> {
    const flags = this.stageChecks();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.raiseErrors();
    await this.raiseChecks(flags);
  }

  private async raiseErrors(): Promise<void> {
    if (this.scopes.length) {
      const scoped = (await Promise.all(this.scopes.splice(0))).filter((e): e is string => e !== null);
      this.errors.push(...scoped);
    }
    if (this.lostReason) throw new DeviceError(`The GPU device was lost (${this.lostReason}).`);
    if (this.errors.length) {
      const msgs = this.errors.splice(0);
      throw new DeviceError(`WebGPU reported ${msgs.length} error(s); results since the last sync are invalid:\n` + msgs.join('\n'));
    }
  }

  /**
   * Registers a check for the next dispatch and returns its site number, which the kernel writes (plus one) into
   * checkBuffer[0] on a violation. Sites are cleared at every readback.
   */
  check(site: DeviceCheck): number {
    this.checks.push(site);
    return this.checks.length - 1;
  }

  /** Reads the error flags when a checking kernel ran since the last readback, and raises its error. */
  private async raiseChecks(flags: GPUBuffer | null): Promise<void> {
    if (!flags) return;
    const sites = this.checks;
    this.checks = [];
    await flags.mapAsync(GPUMapMode.READ, 0, 16);
    const [site, value, position] = new Uint32Array(flags.getMappedRange(0, 16).slice(0));
    flags.unmap();
    this.stagingPool.release(flags);
    if (site === 0) return;
    this.endPass().clearBuffer(this.checkBuffer, 0, 16);
    this.flush();
    throw sites[site - 1]?.error(value | 0, position) ?? new DeviceError(`A kernel reported a failed check at site ${site - 1}, which was not registered.`);
  }

  /** Copies the error flags into a staging buffer in the same submit as a readback, when there is anything to check. */
  private stageChecks(): GPUBuffer | null {
    if (this.checks.length === 0) return null;
    const flags = this.stagingPool.acquire(16);
    this.endPass().copyBufferToBuffer(this.checkBuffer, 0, flags, 0, 16);
    return flags;
  }

  /** Reads `bytes` from the start of a buffer back to the host. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.stagingPool.acquire(size);
    this.endPass().copyBufferToBuffer(buffer, 0, staging, 0, size);
    const flags = this.stageChecks();
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (err) {
      await this.raiseErrors();
      throw new DeviceError(`Readback failed: ${(err as Error).message}`);
    }
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.stagingPool.release(staging);
    await this.raiseErrors();
    await this.raiseChecks(flags);
    return out;
  }

  /** Compiles a kernel and returns its compilation messages (empty when it compiled cleanly). */
  async compileMessages(kernel: string): Promise<string[]> {
    const module = this.device.createShaderModule({ code: kernelSource(kernel), label: kernel });
    const info = await module.getCompilationInfo();
    return info.messages.filter((m) => m.type === 'error').map((m) => `${kernel}.wgsl:${m.lineNum}:${m.linePos} ${m.message}`);
  }

  /**
   * Destroys every pooled buffer and texture (live ones are untouched) and the bind groups that named them. Recorded
   * work is submitted first; WebGPU keeps a destroyed resource alive until submitted work that uses it completes.
   */
  releasePooled(): number {
    this.flush();
    const bytes = this.pool.pooledBytes + this.stagingPool.pooledBytes + this.texturePool.pooledBytes;
    this.bindGroups.clear();
    this.pool.trim();
    this.stagingPool.trim();
    this.texturePool.trim();
    return bytes;
  }

  destroy(): void {
    this.releasePooled();
    this.device.destroy();
  }
}

/**
 * Splits `n` invocations of workgroup size `wg` into a grid at most 65535 wide whose rows are as even as possible, so
 * at most a row's worth of workgroups is wasted. Every kernel takes its width (the first value) as the uniform grid_x
 * and numbers its workgroups wid.y * grid_x + wid.x: the num_workgroups builtin would tell them too, but Dawn's GL
 * backend emulates it with an extra buffer update per dispatch.
 */
export function gridFor(n: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  const rows = Math.ceil(groups / MAX_WORKGROUPS);
  return [Math.ceil(groups / rows), rows];
}
