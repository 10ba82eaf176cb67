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
import { attr, type OnnxAttr, type OnnxNode, type OnnxTensor } from './proto';

export { attr, type OnnxAttr };

export interface OnnxEmit {
  /** Adds a node with one output; returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** A constant: float32 by default (a number or a 1-D list), or int64 (axes, shapes). */
  constant(value: number | readonly number[], type?: 'float' | 'int64'): string;
}

export interface OnnxArgInfo {
  /** Per-example shape. */
  shape: Shape;
  /** Has a leading batch axis at run time. */
  batched: boolean;
}

export interface OnnxOpInfo {
  /** The IR node: its op, per-example shape, batchedness and attributes (p, alpha, fn, value). */
  node: IRNode;
  /** One entry per input name the emitter receives. */
  args: readonly OnnxArgInfo[];
  /**
   * cross_entropy of a softmax and binary_cross_entropy of a sigmoid are emitted from the
   * logits, as the engine computes them: the first input is then z, not y.
   */
  fused: boolean;
  /** The program's user functions, by name (`call` expands them elementwise). */
  functions: ReadonlyMap<string, IRFunction>;
}

export type OnnxEmitter = (b: OnnxEmit, inputs: readonly string[], info: OnnxOpInfo) => string;

/** Collects nodes and constants; names every value uniquely, never as one of the model's own names. */
export class GraphBuilder implements OnnxEmit {
  readonly nodes: OnnxNode[] = [];
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

  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}): string {
    const out = this.fresh(`${opType}_${this.nodes.length}`);
    this.nodes.push({ opType, inputs: [...inputs], outputs: [out], name: out, attrs });
    return out;
  }

  constant(value: number | readonly number[], type: 'float' | 'int64' = 'float'): string {
    const values = typeof value === 'number' ? [value] : [...value];
    const key = `${type}:${typeof value === 'number' ? 'scalar' : 'list'}:${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    const had = this.constantNames.get(key);
    if (had !== undefined) return had;
    const name = this.fresh(type === 'int64' ? `axes_${this.constants.length}` : `const_${this.constants.length}`);
    this.constants.push({
      name,
      dims: typeof value === 'number' ? [] : [values.length],
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
