import { currentDevice } from '../device/runtime.js';
import { collectedTensorCount, liveTensorCount } from './tensor.js';

export interface MemoryInfo {
  /** Tensors not yet disposed. */
  tensors: number;
  /**
   * Tensors the garbage collector freed because nothing disposed them (since the process started). Each is a
   * missing dispose() or tidy(): their GPU memory came back late. A steady count across steps means no leak.
   */
  collected: number;
  /** GPU buffers handed out by the pool and not yet returned. */
  buffers: number;
  bytes: number;
  /** Bytes parked in the pools for reuse (buffers, and matmul operand textures on software adapters). */
  pooledBytes: number;
  /** Highest live bytes since the last resetPeakMemory(). */
  peakBytes: number;
}

export function memory(): MemoryInfo {
  const gpu = currentDevice();
  return {
    tensors: liveTensorCount(),
    collected: collectedTensorCount(),
    buffers: gpu?.pool.liveBuffers ?? 0,
    bytes: gpu?.pool.liveBytes ?? 0,
    pooledBytes: (gpu?.pool.pooledBytes ?? 0) + (gpu?.texturePool.pooledBytes ?? 0),
    peakBytes: gpu?.pool.peakBytes ?? 0,
  };
}

/**
 * Frees the GPU memory the pools keep for reuse (what memory().pooledBytes counts), as torch.cuda.empty_cache does,
 * and returns the bytes freed. Live tensors are untouched; later ops allocate afresh. Useful between phases with
 * different shapes, since buffers and matmul textures are pooled by size and a new shape cannot reuse them.
 */
export function emptyCache(): number {
  return currentDevice()?.releasePooled() ?? 0;
}

/** Starts a new peak-memory window (see memory().peakBytes). */
export function resetPeakMemory(): void {
  currentDevice()?.pool.resetPeak();
}

/** Waits until the GPU has finished all submitted work and raises any device error. */
export async function sync(): Promise<void> {
  await currentDevice()?.sync();
}
