/// <reference types="@webgpu/types" preserve="true" />
/**
 * wgrad/node: the core ('wgrad') plus what needs Node's file system or native add-ons.
 *
 *   import * as wg from 'wgrad/node';
 *
 * - Keras-style datasets from folders (images, text) and image decoding, through sharp (an optional peer).
 * - The frozen MobileNetV2 backbone, run by onnxruntime-node (an optional peer), and its feature cache on disk.
 * - PNG plots of training curves and attention maps.
 * The optional peers are imported on first use; a missing one raises MissingPeerError with the install command.
 */
export * from './index.js';

export { imageDatasetFromDirectory, ImageDataset, batchImages, type ImageBatch, type ImageDatasetOptions, type ImageStage } from './data/image-dataset.js';
export { textDatasetFromDirectory, TextDataset, type TextBatch, type TextDatasetOptions } from './data/text-dataset.js';
export { decodeImage, imagePixels, DEFAULT_MAX_PIXELS, ImageDecodeError, type DecodeOptions } from './data/decode.js';
export type { Sample } from './data/directory.js';
export { MobileNetV2, DEFAULT_WEIGHTS, type Preprocessing, type MobileNetV2Options, type ModelCard } from './backbone/mobilenet.js';
export { FrozenBackbone, type FeatureBatch } from './backbone/frozen.js';
export { FeatureCache } from './backbone/feature-cache.js';
export { plotHistory, niceTicks } from './plot/history.js';
export { plotAttention, attentionReceived, type AttentionImage } from './plot/attention-map.js';
export { Canvas } from './plot/canvas.js';
export { encodePng } from './plot/png.js';
