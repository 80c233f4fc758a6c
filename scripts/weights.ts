// npm run weights: builds weights/mobilenet_v2_1.0_224.onnx (and its model card, mobilenet_v2_1.0_224.json) from
// the nsfwjs Keras model, a dev dependency; see weights/README.md. `npm pack` runs it, so the tarball ships the file
// and users never need TensorFlow.js or nsfwjs.
//   npm run weights              build it unless it is there and its card matches it
//   npm run weights -- --force   rebuild it
//   npm run weights -- --zoo     also download the ONNX Model Zoo's mobilenetv2-12.onnx (needs the internet)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WEIGHTS, type ModelCard } from '../src/backbone/mobilenet.js';
import { convertMobileNetV2 } from './convert/convert.js';
import { loadNsfwjsMobileNet } from './convert/keras-model.js';

const { values } = parseArgs({ options: { force: { type: 'boolean', default: false }, zoo: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log([
    'Usage: npm run weights [-- --force] [--zoo]',
    '',
    'Builds weights/mobilenet_v2_1.0_224.onnx and its model card from nsfwjs@4.4.0.',
    '  --force  rebuild even when the file and its card match (default: false)',
    "  --zoo    also download the ONNX Model Zoo's mobilenetv2-12.onnx into weights/ (needs the internet; default: false)",
  ].join('\n'));
  process.exit(0);
}

const cardPath = DEFAULT_WEIGHTS.replace(/\.onnx$/, '.json');
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const current = (): boolean => {
  if (!existsSync(DEFAULT_WEIGHTS) || !existsSync(cardPath)) return false;
  try {
    return (JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard).sha256 === sha(readFileSync(DEFAULT_WEIGHTS));
  } catch {
    return false;
  }
};

/** Written beside the target and renamed, so a crash never leaves a truncated file behind. */
function writeAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.partial`, bytes);
  renameSync(`${path}.partial`, path);
}

if (!values.force && current()) {
  console.log(`${DEFAULT_WEIGHTS} is up to date`);
} else {
  const t0 = performance.now();
  const { bytes, params } = convertMobileNetV2(loadNsfwjsMobileNet());
  const card: ModelCard = { format: 'wgrad-backbone/1', sha256: sha(bytes), inputName: 'input', outputName: 'features', layout: 'nhwc', preprocessing: 'unit', params };
  writeAtomic(DEFAULT_WEIGHTS, bytes);
  writeAtomic(cardPath, JSON.stringify(card, null, 2) + '\n');
  console.log(`wrote ${DEFAULT_WEIGHTS}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${params.toLocaleString('en')} parameters, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const ZOO_URL = 'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12.onnx';
const ZOO_PATH = DEFAULT_WEIGHTS.replace('mobilenet_v2_1.0_224.onnx', 'mobilenetv2-12.onnx');
if (values.zoo) {
  if (existsSync(ZOO_PATH)) console.log(`${ZOO_PATH} is already there`);
  else {
    console.log(`downloading ${ZOO_URL}`);
    const response = await fetch(ZOO_URL);
    if (!response.ok) throw new Error(`download failed: HTTP ${response.status} ${response.statusText}`);
    writeAtomic(ZOO_PATH, new Uint8Array(await response.arrayBuffer()));
    console.log(`wrote ${ZOO_PATH}; load it with MobileNetV2.load({ path: '${ZOO_PATH}' }) (reading it needs: npm install onnx-proto)`);
  }
}
