/**
 * Methods on Tensor that need ops or the device. They are attached here, not in tensor.ts, so that the tensor
 * module depends on nothing above it.
 */
import { backward } from './autograd.ts';
import * as bin from './ops/binary.ts';
import { matmul, type MatmulOptions } from './ops/matmul.ts';
import { fromHost } from './ops/op.ts';
import * as red from './ops/reduce.ts';
import * as shp from './ops/shape.ts';
import { logSoftmax, softmax } from './ops/softmax.ts';
import * as un from './ops/unary.ts';
import type { Shape } from './shape.ts';
import { Tensor, type BackendName, type HostArray } from './tensor.ts';

export type Nested = number | Nested[];

declare module './tensor.ts' {
  interface Tensor {
    /** The values on the host: Float32Array on WebGPU, Float64Array on the CPU reference, Int32Array for int32. */
    data(): Promise<HostArray>;
    /** The values as nested arrays. */
    array(): Promise<Nested>;
    /** The value of a one-element tensor. */
    item(): Promise<number>;
    /** A copy on another backend. */
    to(backend: BackendName): Promise<Tensor>;
    backward(grad?: Tensor): void;
    add(b: Tensor | number): Tensor;
    sub(b: Tensor | number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    relu(): Tensor;
    matmul(b: Tensor, options?: MatmulOptions): Tensor;
    sum(axes?: red.Axes, keepdims?: boolean): Tensor;
    mean(axes?: red.Axes, keepdims?: boolean): Tensor;
    max(axes?: red.Axes, keepdims?: boolean): Tensor;
    reshape(shape: Shape): Tensor;
    transpose(axis0?: number, axis1?: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    detach(): Tensor;
  }
}

const proto = Tensor.prototype;

proto.data = async function (this: Tensor): Promise<HostArray> {
  const storage = this.storage;
  if (storage.cpu) return storage.cpu.slice(0, this.size);
  const bytes = await storage.device!.read(storage.gpu!, this.size * 4);
  return this.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
};

proto.array = async function (this: Tensor): Promise<Nested> {
  const flat = await this.data();
  const build = (dim: number, offset: number): Nested => {
    if (dim === this.rank) return flat[offset];
    const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
};

proto.item = async function (this: Tensor): Promise<number> {
  if (this.size !== 1) throw new RangeError(`item(): tensor has ${this.size} elements, not 1.`);
  return (await this.data())[0];
};

proto.to = async function (this: Tensor, backend: BackendName): Promise<Tensor> {
  const t = fromHost(await this.data(), this.shape, { dtype: this.dtype, backend });
  t.hostInts = this.hostInts;
  return t;
};

proto.backward = function (this: Tensor, grad?: Tensor) {
  backward(this, grad);
};

proto.add = function (b) { return bin.add(this, b); };
proto.sub = function (b) { return bin.sub(this, b); };
proto.mul = function (b) { return bin.mul(this, b); };
proto.div = function (b) { return bin.div(this, b); };
proto.neg = function () { return un.neg(this); };
proto.exp = function () { return un.exp(this); };
proto.log = function () { return un.log(this); };
proto.relu = function () { return un.relu(this); };
proto.matmul = function (b, options) { return matmul(this, b, options); };
proto.sum = function (axes, keepdims) { return red.sum(this, axes, keepdims); };
proto.mean = function (axes, keepdims) { return red.mean(this, axes, keepdims); };
proto.max = function (axes, keepdims) { return red.max(this, axes, keepdims); };
proto.reshape = function (shape) { return shp.reshape(this, shape); };
proto.transpose = function (a0, a1) { return shp.transpose(this, a0, a1); };
proto.permute = function (perm) { return shp.permute(this, perm); };
proto.softmax = function (axis) { return softmax(this, axis); };
proto.logSoftmax = function (axis) { return logSoftmax(this, axis); };
proto.detach = function () { return shp.detach(this); };
