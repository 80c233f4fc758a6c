import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { gpu } from './helpers.js';

const dir = `out/test/weights-${process.pid}`;
const makeModel = () =>
  new wg.Sequential([new wg.Dense(6, { activation: 'relu', name: 'hidden' }), new wg.MultiHeadSelfAttention(6, 3, { name: 'mhsa' }), new wg.GlobalAveragePooling1D(), new wg.Dense(2, { name: 'out' })], { name: 'model' });

const weights = suite('weight files (safetensors)');
weights.before(async () => {
  await gpu();
});

weights('save, reload into a fresh model, identical outputs', async () => {
  wg.manualSeed(1);
  const a = makeModel();
  const x = wg.randn([2, 4, 5], { seed: 9 });
  const ya = await a.call(x).data();
  await a.saveWeights(`${dir}/model.safetensors`);
  wg.manualSeed(2); // different initial weights
  const b = makeModel();
  b.call(x);
  assert.not.equal(Array.from(await b.call(x).data()), Array.from(ya));
  await b.loadWeights(`${dir}/model.safetensors`);
  assert.equal(Array.from(await b.call(x).data()), Array.from(ya));
});

weights('the file follows the safetensors layout: u64 header length, JSON header, F32 data at its offsets', async () => {
  const m = new wg.Dense(3, { name: 'd' });
  m.call(wg.ones([1, 2]));
  wg.writeHost(m.kernel!, [1, 2, 3, 4, 5, 6]);
  await m.saveWeights(`${dir}/dense.safetensors`);
  const bytes = readFileSync(`${dir}/dense.safetensors`);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.is((8 + n) % 8, 0, 'data is 8-byte aligned');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  assert.equal(header.kernel, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.equal(header.bias, { dtype: 'F32', shape: [3], data_offsets: [24, 36] });
  const kernel = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n, bytes.byteOffset + 8 + n + 24));
  assert.equal(Array.from(kernel), [1, 2, 3, 4, 5, 6]);
});

weights('a file that does not fit lists every difference and changes nothing', async () => {
  wg.manualSeed(1);
  const a = makeModel();
  a.call(wg.randn([2, 4, 5], { seed: 9 }));
  await a.saveWeights(`${dir}/model2.safetensors`);
  const other = new wg.Sequential([new wg.Dense(7, { name: 'hidden' }), new wg.Dense(2, { name: 'extra' })], { name: 'other' });
  other.call(wg.ones([1, 5]));
  const before = Array.from(await other.parameters()[0].data());
  try {
    await other.loadWeights(`${dir}/model2.safetensors`);
    assert.unreachable('should throw');
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, /shape of hidden\.kernel: file \[5,6\], model \[5,7\]/);
    assert.match(msg, /missing in file: extra\.kernel \[7,2\]/);
    assert.match(msg, /not in model: mhsa\.query_dense\.kernel \[6,6\]/);
  }
  assert.equal(Array.from(await other.parameters()[0].data()), before);
});

weights('an unbuilt model, a missing file and a corrupt file give clear errors', async () => {
  const fresh = new wg.Dense(2);
  await fresh.loadWeights(`${dir}/dense.safetensors`).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /call it once on an input so that it builds them/),
  );
  await fresh.loadWeights(`${dir}/nope.safetensors`).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /Cannot read weights file .*nope\.safetensors/),
  );

  writeFileSync(`${dir}/bad.safetensors`, 'hello');
  await fresh.loadWeights(`${dir}/bad.safetensors`).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /bad\.safetensors is not a valid safetensors file/),
  );
});

weights('a safetensors header is checked entry by entry; each error names the file and the entry', () => {
  const file = (header: unknown, data = new Uint8Array(16)) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const fails = (header: unknown, pattern: RegExp) =>
    assert.throws(() => wg.decodeSafetensors(file(header), 'model.safetensors'), (e: Error) => e instanceof wg.WgradError && /^model\.safetensors is not a valid safetensors file: /.test(e.message) && pattern.test(e.message));
  const ok = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
  assert.equal(Array.from(wg.decodeSafetensors(file({ w: ok })).tensors.w.data), [0, 0, 0, 0]);
  fails([ok], /header is not a JSON object/);
  fails({ w: 3 }, /tensor 'w' is not an object/);
  fails({ w: { ...ok, dtype: 'BF16' } }, /tensor 'w' has dtype "BF16"; wgrad reads F32, F64 and I32/);
  fails({ w: { ...ok, shape: [2, -2] } }, /tensor 'w' has shape \[2,-2\], not a list of non-negative whole numbers/);
  fails({ w: { ...ok, shape: '2x2' } }, /tensor 'w' has shape "2x2"/);
  fails({ w: { ...ok, data_offsets: [16, 0] } }, /tensor 'w' has data_offsets \[16,0\]/);
  fails({ w: { ...ok, data_offsets: [0] } }, /tensor 'w' has data_offsets \[0\]/);
  fails({ w: { ...ok, shape: [3, 2] } }, /tensor 'w' of shape \[3,2\] F32 needs 24 bytes, but its byte range \[0, 16\) holds 16/);
  fails({ w: { ...ok, data_offsets: [8, 24], shape: [4] } }, /tensor 'w''s byte range \[8, 24\) runs past the end of the data \(16 bytes; truncated\?\)/);
  fails({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, /tensors 'a' and 'b' overlap/);
  fails({ __metadata__: { format: 3 }, w: ok }, /'__metadata__' is not a map of strings/);
});

weights.run();