/**
 * Chainable op methods on Tensor (t.add(u), t.sum().backward()), attached when the package entry loads, as
 * TensorFlow.js does with its chained ops. Library code calls the op functions; only users' code relies on these.
 * Readback (data, array, item, to) is part of the Tensor class itself.
 */
import { backward } from './autograd/backward.js';
import * as bin from './ops/binary.js';
import { matmul, type MatmulOptions } from './ops/matmul/index.js';
import * as red from './ops/reduce.js';
import * as shp from './ops/shape.js';
import { logSoftmax, softmax } from './ops/softmax.js';
import * as un from './ops/unary.js';
import type { Shape } from './tensor/dims.js';
import { Tensor } from './tensor/tensor.js';

declare module './tensor/tensor.js' {
  interface Tensor {
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
