import { createRequire } from 'node:module';

// onnx-proto is CommonJS: protobufjs message classes generated from onnx.proto.
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as typeof import('onnx-proto');
export { onnx };

export type Attribute = number | number[] | string;

/** Builds an ONNX graph node by node, with float32 initializers. */
export class GraphBuilder {
  readonly nodes: import('onnx-proto').onnx.INodeProto[] = [];
  readonly initializers: import('onnx-proto').onnx.ITensorProto[] = [];
  private count = 0;

  /** A float32 initializer; returns its name. */
  constant(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  node(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.count++}`;
    const attribute = Object.entries(attributes).map(([name, v]) => {
      const A = onnx.AttributeProto.AttributeType;
      if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
      return { name, type: A.INT, i: v };
    });
    this.nodes.push({ opType, input: inputs, output: [out], attribute, name: out });
    return out;
  }

  /** Serialises a model with one float input and one float output (dims: numbers, or strings for symbolic ones). */
  encode(input: { name: string; dims: (number | string)[] }, output: { name: string; dims: (number | string)[] }, doc: string): Uint8Array {
    const valueInfo = (v: { name: string; dims: (number | string)[] }) => ({
      name: v.name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'wgrad',
      docString: doc,
      graph: { name: 'graph', node: this.nodes, initializer: this.initializers, input: [valueInfo(input)], output: [valueInfo(output)] },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
