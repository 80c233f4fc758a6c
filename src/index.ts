/**
 * wgrad: tensors on WebGPU with hand-written WGSL kernels, reverse-mode autograd and a float64 CPU reference.
 *
 *   import * as wg from 'wgrad';
 *   await wg.init();
 *   const w = wg.randn([3, 1], { requiresGrad: true, seed: 0 });
 */
import './methods.ts';

export { Tensor, tidy, keep, type DType, type BackendName, type HostArray } from './tensor.ts';
export { init, memory, emptyCache, resetPeakMemory, sync, runtimeInfo, setBackend, getDevice, type InitOptions, type RuntimeInfo, type MemoryInfo } from './runtime.ts';
export { backward, zeroGrad } from './autograd.ts';
export { noGrad, isGradEnabled } from './grad-mode.ts';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './gradcheck.ts';
export { manualSeed, Rng } from './random.ts';
export * from './errors.ts';
export { describeAdapter, type AdapterReport, type AdapterChoice } from './device/adapter.ts';
export { setMatmulVariant, MATMUL_VARIANTS, MATMUL_CONFIGS, defaultMatmulVariant, defaultAttentionImpl, matmulVariant, type MatmulVariant } from './device/tuning.ts';

export { tensor, full, zeros, ones, zerosLike, onesLike, fullLike, arange, eye, rand, randn, scalar } from './ops/creation.ts';
export { neg, exp, log, sqrt, abs, relu, gelu, tanh, sigmoid, pow, square, reciprocal, sign } from './ops/unary.ts';
export { add, sub, mul, div, maximum, minimum, equal, notEqual, greater, greaterEqual, less, lessEqual } from './ops/binary.ts';
export { where } from './ops/where.ts';
export { sum, mean, max, min, argmax, logsumexp, sumTo, type Axes } from './ops/reduce.ts';
export { matmul, dense, type MatmulOptions, type Activation } from './ops/matmul.ts';
export { softmax, logSoftmax } from './ops/softmax.ts';
export { reshape, permute, transpose, slice, concat, expand, squeeze, unsqueeze, detach } from './ops/shape.ts';
export { gather } from './ops/gather.ts';
export { dropout, type DropoutOptions } from './ops/dropout.ts';
export { cast } from './ops/cast.ts';
export { attention, attentionUnfused, FUSED_MAX_HEAD_DIM, type AttentionOptions, type AttentionLayout } from './ops/attention.ts';
export { writeHost } from './ops/op.ts';

export { Module, type CallOptions, type ForwardOptions } from './nn/module.ts';
export { Dense, Dropout, Embedding, Reshape, Flatten, GlobalAveragePooling1D, LayerNormalization, Sequential, type DenseActivation, type DenseOptions } from './nn/layers.ts';
export { MultiHeadSelfAttention, MultiHeadAttention, type AttentionImpl, type AttendOptions, type Attended, type MultiHeadAttentionCall, type MultiHeadAttentionOptions } from './nn/attention.ts';
export { glorotUniform } from './nn/init.ts';
export { Optimizer, type OptimizerOptions, type OptimizerState, type ParamList } from './optim/optimizer.ts';
export { SGD, type SGDOptions } from './optim/sgd.ts';
export { Adam, AdamW, type AdamOptions, type AdamWOptions } from './optim/adam.ts';
export { CosineDecay, ExponentialDecay, type LearningRateSchedule, type CosineDecayOptions, type ExponentialDecayOptions } from './optim/schedules.ts';
export * as losses from './losses.ts';
export { Loss, LossMismatchError, binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, meanSquaredError, getLoss, type LossContext, type LossOptions } from './losses.ts';
export { Metric, Accuracy, BinaryAccuracy, SparseCategoricalAccuracy, CategoricalAccuracy, accuracy, binaryAccuracy, sparseCategoricalAccuracy, categoricalAccuracy, getMetric } from './metrics.ts';
export { readSafetensors, writeSafetensors, type SafetensorsFile } from './io/safetensors.ts';

export { imageDatasetFromDirectory, ImageDataset, batchImages, type ImageBatch, type ImageDatasetOptions } from './data/image-dataset.ts';
export { textDatasetFromDirectory, TextDataset, type TextBatch, type TextDatasetOptions } from './data/text-dataset.ts';
export { TextVectorization, standardize, type TextVectorizationOptions } from './data/text-vectorization.ts';
export { decodeImage, resizeBilinear, convertChannels, ImageDecodeError, type RawImage, type ColorMode, type Interpolation } from './data/image.ts';
export { loadFashionMnist, exportFashionMnist, fashionMnistPixels, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR } from './data/fashion-mnist.ts';
export { exportSpamAssassin } from './data/spam-assassin.ts';
export type { Sample } from './data/directory.ts';
export { MobileNetV2, buildDefaultWeights, DEFAULT_WEIGHTS, type Preprocessing, type MobileNetV2Options } from './backbone/mobilenet.ts';
export { FrozenBackbone, type FeatureBatch } from './backbone/frozen.ts';
export { FeatureCache } from './backbone/feature-cache.ts';
export { softmaxProbe, bagOfWordsLogistic, type ProbeResult } from './train/probe.ts';

export { Model, History, type ModelOptions, type CompileOptions, type FitOptions, type OptimizerSpec } from './train/model.ts';
export { EarlyStopping, ModelCheckpoint, CSVLogger, ReduceLROnPlateau, type Callback, type Logs, type ReduceLROnPlateauOptions } from './train/callbacks.ts';
export type { ArrayData, Data, InputStage } from './train/batches.ts';
export { plotHistory, niceTicks } from './plot/history.ts';
export { plotAttention, attentionReceived, type AttentionImage } from './plot/attention.ts';
export { Canvas } from './plot/canvas.ts';
export { encodePng } from './plot/png.ts';
export { autotune, type TuneResult } from './autotune.ts';
export { timeRepeated, type Timing, type TimingOptions } from './device/timing.ts';
