/// <reference types="@webgpu/types" preserve="true" />
/**
 * wgrad: tensors on WebGPU with hand-written WGSL kernels, reverse-mode autograd and a float64 CPU reference.
 *
 *   import * as wg from 'wgrad';
 *   await wg.init();
 *   const w = wg.randn([3, 1], { requiresGrad: true, seed: 0 });
 *
 * This entry is the core: tensors to the training loop. It imports no `node:` module and nothing heavy, so it runs
 * in Node and in a browser. What needs files or native add-ons (folder datasets, image decoding, the MobileNetV2
 * backbone, PNG plots) is in 'wgrad/node'.
 */
import './tensor-methods.js';

export { Tensor, tidy, keep, fromHost, writeHost, type DType, type BackendName, type HostArray, type Nested, type CreateOptions } from './tensor/tensor.js';
export { init, runtimeInfo, type InitOptions, type RuntimeInfo } from './init.js';
export { memory, emptyCache, resetPeakMemory, sync, type MemoryInfo } from './tensor/memory.js';
export { setBackend, getDevice } from './device/runtime.js';
export { backward, zeroGrad } from './autograd/backward.js';
export { noGrad, isGradEnabled } from './tensor/grad-mode.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';
export { manualSeed, Rng } from './tensor/random.js';
export * from './errors.js';
export { MissingPeerError } from './platform/peers.js';
export { describeAdapter, type AdapterReport, type AdapterChoice } from './device/adapter.js';
export { MATMUL_VARIANTS, MATMUL_CONFIGS, defaultMatmulVariant, type MatmulVariant } from './device/variants.js';
export { setMatmulVariant, matmulVariant } from './device/choice.js';
export type { GpuDevice } from './device/device.js';

export { tensor, full, zeros, ones, zerosLike, onesLike, fullLike, arange, eye, rand, randn, scalar } from './ops/creation.js';
export { neg, exp, log, sqrt, abs, relu, gelu, tanh, sigmoid, pow, square, reciprocal, sign } from './ops/unary.js';
export { add, sub, mul, div, maximum, minimum, equal, notEqual, greater, greaterEqual, less, lessEqual } from './ops/binary.js';
export { where } from './ops/where.js';
export { sum, mean, max, min, argmax, logsumexp, sumTo, type Axes } from './ops/reduce.js';
export { matmul, dense, type MatmulOptions, type Activation } from './ops/matmul/index.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { reshape, permute, transpose, slice, concat, expand, squeeze, unsqueeze, detach } from './ops/shape.js';
export { gather } from './ops/gather.js';
export { dropout, type DropoutOptions } from './ops/dropout.js';
export { cast } from './ops/cast.js';
export { attention, attentionWithWeights, type AttentionOptions, type AttentionLayout } from './ops/scaled-dot-product.js';

export { Module, type CallOptions, type ForwardOptions } from './nn/module.js';
export { Dense, Dropout, Embedding, Reshape, Flatten, GlobalAveragePooling1D, LayerNormalization, Sequential, type DenseActivation, type DenseOptions } from './nn/layers.js';
export { MultiHeadSelfAttention, MultiHeadAttention, type AttendOptions, type Attended, type MultiHeadAttentionCall, type MultiHeadAttentionOptions } from './nn/multi-head-attention.js';
export { glorotUniform } from './nn/initializers.js';
export { Optimizer, type OptimizerOptions, type OptimizerState, type ParamList } from './optim/optimizer.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamWOptions } from './optim/adam.js';
export { CosineDecay, ExponentialDecay, type LearningRateSchedule, type CosineDecayOptions, type ExponentialDecayOptions } from './optim/schedules.js';
export * as losses from './train/losses.js';
export { Loss, LossMismatchError, binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, meanSquaredError, getLoss, type LossContext, type LossOptions } from './train/losses.js';
export { Metric, Accuracy, BinaryAccuracy, SparseCategoricalAccuracy, CategoricalAccuracy, accuracy, binaryAccuracy, sparseCategoricalAccuracy, categoricalAccuracy, getMetric } from './train/metrics.js';
export { readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors, type SafetensorsFile, type SafetensorsEntry, type TensorsToSave } from './io/safetensors.js';

export { TextVectorization, standardize, standardizeWithBreaks, type TextVectorizationOptions } from './data/text-vectorization.js';
export { resizeBilinear, convertChannels, type RawImage, type ColorMode, type Interpolation } from './data/image.js';
export { encodeLabels, type LabelMode } from './data/labels.js';
export { softmaxProbe, bagOfWordsLogistic, type ProbeResult } from './train/baselines.js';

export { Model, History, NonFiniteLossError, type ModelOptions, type CompileOptions, type FitOptions, type OptimizerSpec } from './train/model.js';
export { EarlyStopping, ModelCheckpoint, CSVLogger, ReduceLROnPlateau, type Callback, type Logs, type ReduceLROnPlateauOptions } from './train/callbacks.js';
export type { ArrayData, Data } from './train/batches.js';
export { isDataset, type Dataset, type Batch, type InputStage, type TextStage } from './train/dataset.js';
export { autotune, type TuneResult } from './tune/autotune.js';
export { tuneTiles, type TileTuneResult, type TileTuneOptions, type TiledProblem } from './tune/tiles.js';
export { timeRepeated, type Timing, type TimingOptions } from './device/timing.js';
export { VERSION } from './generated/version.js';
