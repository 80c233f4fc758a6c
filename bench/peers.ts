// The peers measured beside wgrad, on the same adapter: TensorFlow.js's WebGPU and wasm backends, and ONNX Runtime's
// CPU MatMul (native BLAS). tfjs calls navigator.gpu.requestAdapter() without featureLevel 'compatibility', which
// Dawn's OpenGL backend needs, so a small navigator.gpu shim adds it before tfjs is imported.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GraphBuilder } from '../scripts/convert/onnx-writer.js';
import type { AdapterReport } from '../src/node.js';

export type Tf = typeof import('@tensorflow/tfjs-core');

export async function loadTf(report: AdapterReport): Promise<Tf> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(report.backend === 'default' ? [] : [`backend=${report.backend}`]);
  const shim = {
    requestAdapter: (o: GPURequestAdapterOptions = {}) => gpu.requestAdapter(report.featureLevel === 'compatibility' ? { ...o, featureLevel: 'compatibility' } : o),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: new Set<string>(),
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim, userAgent: 'node' }, configurable: true });
  // The umbrella package registers every op's gradient (the training-step case needs them) on the same core.
  const tf = (await import('@tensorflow/tfjs')) as unknown as Tf;
  await import('@tensorflow/tfjs-backend-webgpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  return tf;
}

/** Waits until a tfjs backend has finished its queued work. */
export async function tfSync(tf: Tf, out: import('@tensorflow/tfjs-core').Tensor | import('@tensorflow/tfjs-core').Tensor[]): Promise<void> {
  const backend = tf.backend() as unknown as { submitQueue(): void; endComputePassEncoder(): void; commandEncoder: unknown; device?: GPUDevice };
  if (backend.device) {
    // What tfjs-webgpu does before a readback, without the readback: close its pass, submit, wait.
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    await backend.device.queue.onSubmittedWorkDone();
  } else {
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
  }
}

/** An ONNX Runtime session computing one MatMul of [m,k]·[k,n] from its two inputs; release() frees the session. */
export async function ortMatmul(m: number, k: number, n: number): Promise<{ run(): Promise<void>; release(): Promise<void> }> {
  const ort = await import('onnxruntime-node');
  const g = new GraphBuilder();
  g.node('MatMul', ['a', 'b'], {}, 'c');
  const bytes = g.encode({ name: 'a', dims: [m, k] }, { name: 'c', dims: [m, n] }, 'bench');
  // The builder makes one-input graphs; add b as a second input by hand.
  const { onnx } = await import('../scripts/convert/onnx-writer.js');
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.input!.push({ name: 'b', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: k }, { dimValue: n }] } } } });
  // Its intra-op threads spin by default for tens of ms after each run, which took a core from whichever library
  // ran next: wgrad's 1024^3 product took 74 ms right after an ORT run and 42 ms alone, 52 ms 20 ms later (2 x Zen
  // 4, 2026-12-07). With the bench's runs in turn that slowed every wgrad run, so the pool sleeps when idle.
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { executionProviders: ['cpu'], extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const a = new ort.Tensor('float32', new Float32Array(m * k).fill(0.5), [m, k]);
  const b = new ort.Tensor('float32', new Float32Array(k * n).fill(0.25), [k, n]);
  return { run: async () => void (await session.run({ a, b })), release: () => session.release() };
}
