// npm run weights: builds weights/mobilenet_v2_1.0_224.onnx from the nsfwjs Keras model (see weights/README.md).
// npm run weights -- --zoo: also downloads the ONNX Model Zoo's mobilenetv2-12.onnx (needs the internet).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { buildDefaultWeights, DEFAULT_WEIGHTS } from '../src/backbone/mobilenet.ts';

const ZOO_URL = 'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12.onnx';
const ZOO_PATH = DEFAULT_WEIGHTS.replace('mobilenet_v2_1.0_224.onnx', 'mobilenetv2-12.onnx');

const t0 = performance.now();
const built = buildDefaultWeights();
console.log(`wrote ${built.path}: ${(built.bytes / 2 ** 20).toFixed(1)} MiB, ${built.params.toLocaleString('en')} parameters, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

if (process.argv.includes('--zoo')) {
  if (existsSync(ZOO_PATH)) console.log(`${ZOO_PATH} is already there`);
  else {
    console.log(`downloading ${ZOO_URL}`);
    const response = await fetch(ZOO_URL);
    if (!response.ok) throw new Error(`download failed: HTTP ${response.status} ${response.statusText}`);
    mkdirSync(DEFAULT_WEIGHTS.replace(/[^/]+$/, ''), { recursive: true });
    writeFileSync(ZOO_PATH, new Uint8Array(await response.arrayBuffer()));
    console.log(`wrote ${ZOO_PATH}; load it with MobileNetV2.load({ path: '${ZOO_PATH}' })`);
  }
}
