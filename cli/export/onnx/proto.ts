/**
 * ONNX's protobuf messages (onnx/onnx.proto, IR version 7) as plain TypeScript data, and their
 * encoding with the small writer in ./protobuf.ts. Only what an exported model uses: a graph of
 * nodes with attributes, float32 and int64 initializers, and typed inputs and outputs whose
 * dimensions are numbers or named (dynamic) axes.
 *
 * Field numbers are onnx.proto's; repeated scalars are written unpacked, as proto2 (the syntax of
 * onnx.proto) writes them.
 */
import { ProtoWriter } from './protobuf';

/** TensorProto.DataType. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
/** AttributeProto.AttributeType. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): OnnxAttr => ({ kind: 'int', value }),
  float: (value: number): OnnxAttr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttr => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttr => ({ kind: 'string', value }),
};

export interface OnnxGraphNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, OnnxAttr>;
  doc?: string;
}

export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  /** float32 values (written as raw little-endian bytes) or int64 values. */
  data: { type: 'float'; values: Float32Array } | { type: 'int64'; values: readonly number[] };
  doc?: string;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** A number for a fixed dimension, a string for a named (dynamic) one such as "batch". */
  dims: readonly (number | string)[];
  doc?: string;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxGraphNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  doc?: string;
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  doc?: string;
  metadata?: Record<string, string>;
}

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttr): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).int(20, AttributeType.FLOAT);
      break;
    case 'int':
      w.int(3, a.value).int(20, AttributeType.INT);
      break;
    case 'string':
      w.string(4, a.value).int(20, AttributeType.STRING);
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      w.int(20, AttributeType.FLOATS);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      w.int(20, AttributeType.INTS);
      break;
  }
}

function writeNode(w: ProtoWriter, n: OnnxGraphNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attrs)) w.message(5, (aw) => writeAttribute(aw, name, a));
  if (n.doc) w.string(6, n.doc);
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  if (t.data.type === 'float') {
    w.int(2, DataType.FLOAT);
    w.string(8, t.name);
    const bytes = new Uint8Array(t.data.values.length * 4);
    const view = new DataView(bytes.buffer);
    t.data.values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    w.bytes(9, bytes);
  } else {
    w.int(2, DataType.INT64);
    for (const v of t.data.values) w.int(7, v);
    w.string(8, t.name);
  }
  if (t.doc) w.string(12, t.doc);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
  if (v.doc) w.string(3, v.doc);
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (nw) => writeNode(nw, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (tw) => writeTensor(tw, t));
  if (g.doc) w.string(10, g.doc);
  for (const v of g.inputs) w.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.message(12, (vw) => writeValueInfo(vw, v));
}

/** The bytes of an `.onnx` file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.doc) w.string(6, m.doc);
  w.message(7, (gw) => writeGraph(gw, m.graph));
  w.message(8, (ow) => ow.string(1, '').int(2, m.opsetVersion));
  for (const [key, value] of Object.entries(m.metadata ?? {})) w.message(14, (kw) => kw.string(1, key).string(2, value));
  return w.finish();
}
