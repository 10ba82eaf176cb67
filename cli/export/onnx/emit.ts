/**
 * What an op's ONNX emitter sees: `OnnxEmit`, the minimal interface it adds nodes and constants
 * through, and `OnnxOpInfo`, the IR node it emits with the per-example shapes and batchedness of
 * its arguments. `GraphBuilder` implements `OnnxEmit` and collects the graph.
 *
 * Values are batch-first at run time, exactly as in the engine (spec §2): an argument with
 * `batched: true` has a leading batch axis before its per-example shape; params and constants
 * have none. An emitter returns the name of the value it computed, with the node's per-example
 * shape (and a batch axis when `node.batched`).
 */
import type { IRFunction, IRNode, Shape } from '../../../engine/ir';
import { attr, type OnnxAttr, type OnnxGraphNode, type OnnxTensor } from './proto';

/** An attribute as an emitter writes it: a number (int or float, by the op's schema), a string, ints. */
export type OnnxAttrValue = number | string | readonly number[];

export interface OnnxEmit {
  /**
   * Adds a node with one output; returns the output's name. `axes` is written as an attribute for
   * every op; the builder makes it the int64 input that opset 13 wants where it wants one.
   */
  node(opType: string, inputs: readonly string[], attrs?: Readonly<Record<string, OnnxAttrValue>>): string;
  /** A float32 constant: a scalar, or `value` with `shape` (default: a 1-D list). */
  constant(value: number | readonly number[], shape?: readonly number[]): string;
}

export interface OnnxArgInfo {
  /** Per-example shape. */
  shape: Shape;
  /** Has a leading batch axis at run time. */
  batched: boolean;
}

/** One IR node as its emitter sees it. */
export interface OnnxNode {
  /** The IR node: its op, per-example shape, batchedness and attributes (p, alpha, fn, value). */
  readonly node: IRNode;
  /** The node's numeric attribute (p, alpha), 0 when it has none. */
  readonly attr: number;
  /** One entry per input name the emitter receives. */
  readonly args: readonly OnnxArgInfo[];
  readonly batchedOut: boolean;
  /**
   * cross_entropy of a softmax and binary_cross_entropy of a sigmoid are emitted from the
   * logits, as the engine computes them: the first input is then z, not y.
   */
  readonly fused: boolean;
  /** The program's user functions, by name (`call` expands them elementwise). */
  readonly functions: ReadonlyMap<string, IRFunction>;
}

export type OnnxEmitter = (b: OnnxEmit, inputs: readonly string[], n: OnnxNode) => string;

/** Attributes ONNX types as floats (every other number is an int). */
const FLOAT_ATTRS = new Set(['LeakyRelu.alpha', 'Elu.alpha', 'Gemm.alpha', 'Gemm.beta', 'Selu.alpha', 'Selu.gamma', 'HardSigmoid.alpha', 'HardSigmoid.beta']);
/** Ops whose axes are an int64 input in opset 13. */
const AXES_INPUT = new Set(['Unsqueeze', 'Squeeze', 'ReduceSum']);

/** Collects nodes and constants; names every value uniquely, never as one of the model's own names. */
export class GraphBuilder implements OnnxEmit {
  readonly nodes: OnnxGraphNode[] = [];
  readonly constants: OnnxTensor[] = [];
  private readonly used: Set<string>;
  private readonly constantNames = new Map<string, string>();
  private counter = 0;

  /** `reserved`: names the graph gives its inputs, params and named values. */
  constructor(reserved: Iterable<string>) {
    this.used = new Set(reserved);
  }

  /** A fresh value name derived from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  node(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, OnnxAttrValue>> = {}): string {
    const ins = [...inputs];
    const typed: Record<string, OnnxAttr> = {};
    for (const [name, v] of Object.entries(attrs)) {
      if (name === 'axes' && AXES_INPUT.has(opType) && typeof v !== 'number' && typeof v !== 'string') {
        ins.push(this.intConstant(v));
        continue;
      }
      if (typeof v === 'string') typed[name] = attr.string(v);
      else if (typeof v === 'number') {
        if (FLOAT_ATTRS.has(`${opType}.${name}`)) typed[name] = attr.float(v);
        else if (Number.isInteger(v)) typed[name] = attr.int(v);
        else throw new Error(`onnx: ${opType}.${name} is an integer attribute, got ${v}`);
      } else typed[name] = attr.ints(v);
    }
    const out = this.fresh(`${opType}_${this.nodes.length}`);
    this.nodes.push({ opType, inputs: ins, outputs: [out], name: out, attrs: typed });
    return out;
  }

  constant(value: number | readonly number[], shape?: readonly number[]): string {
    const values = typeof value === 'number' ? [value] : [...value];
    const dims = shape ?? (typeof value === 'number' ? [] : [values.length]);
    return this.addConstant('float', values, dims);
  }

  /** An int64 constant of one dimension (axes). */
  intConstant(values: readonly number[]): string {
    return this.addConstant('int64', values, [values.length]);
  }

  private addConstant(type: 'float' | 'int64', values: readonly number[], dims: readonly number[]): string {
    const key = `${type}:[${dims.join(',')}]:${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    const had = this.constantNames.get(key);
    if (had !== undefined) return had;
    const name = this.fresh(type === 'int64' ? `axes_${this.constants.length}` : `const_${this.constants.length}`);
    this.constants.push({
      name,
      dims,
      data: type === 'int64' ? { type: 'int64', values } : { type: 'float', values: Float32Array.from(values) },
    });
    this.constantNames.set(key, name);
    return name;
  }

  /**
   * Gives the value `value` the name `name`: renames the output of the node that computed it
   * when that node was added since `since` (and the inputs of later nodes that read it), else
   * adds an Identity node. `doc` describes the node (Netron shows it).
   */
  nameValue(value: string, name: string, since: number, doc?: string): void {
    let k = -1;
    for (let i = this.nodes.length - 1; i >= since; i--) if (this.nodes[i].outputs.includes(value)) k = i;
    if (k < 0) {
      this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name], name: `${name}/Identity`, attrs: {}, doc });
      return;
    }
    for (let i = k; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      n.outputs = n.outputs.map((o) => (o === value ? name : o));
      if (i > k) n.inputs = n.inputs.map((x) => (x === value ? name : x));
    }
    const n = this.nodes[k];
    n.name = `${name}/${n.opType}`;
    if (doc) n.doc = doc;
  }
}
