/**
 * The ONNX graph under construction: `GraphBuilder` implements the catalog's `OnnxEmit`
 * (engine/ops/types.ts), through which every op's emitter (the `onnx` of its catalog entry) adds
 * nodes and constants, and expands user functions elementwise, each op of a body by its own
 * emitter. Values are batch-first at run time, as in the engine (spec §2).
 */
import type { IRFunction, IRNode, ScalarExpr } from '../../../engine/ir';
import { scalarOp, type OnnxEmit } from '../../../engine/ops/index';
import { attr, type OnnxAttr, type OnnxGraphNode, type OnnxTensor } from './proto';

/** An attribute as an emitter writes it: a number (int or float, by the op's schema), a string, ints. */
export type OnnxAttrValue = number | string | readonly number[];

/** What an emitter sees as "the node" for an op inside a function body. */
const BODY_NODE: IRNode = { id: -1, op: 'call', args: [], shape: [], batched: false, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };

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

  /** `reserved`: names the graph gives its inputs, params and named values; `functions`: the program's. */
  constructor(
    reserved: Iterable<string>,
    private readonly functions: ReadonlyMap<string, IRFunction> = new Map(),
  ) {
    this.used = new Set(reserved);
  }

  /**
   * A user function over operands already broadcast together: its body expanded elementwise,
   * nested calls too; an argument the body does not read still broadcasts the result (Expand by
   * its Shape), since a function's value has the broadcast shape of its arguments.
   */
  call(fn: string, inputs: readonly string[]): string {
    const f = this.functions.get(fn);
    if (!f) throw new Error(`onnx: unknown function ${fn}`);
    const used = new Set<number>();
    const expand = (e: ScalarExpr): string => {
      if (e.k === 'arg') {
        used.add(e.index);
        return inputs[e.index];
      }
      if (e.k === 'num') return this.constant(e.value);
      if (e.k === 'call') return this.call(e.fn, e.args.map(expand));
      const op = scalarOp(e);
      if (!op) throw new Error(`onnx: no op for ${e.k} in ${fn}`);
      const operands = op.operands.map(expand);
      // operands of one shape: nothing to lift, so the per-example shapes do not matter here
      const same = { shape: [], batched: false };
      return op.entry.onnx(this, operands, { node: BODY_NODE, attr: op.attr, args: operands.map(() => same), batchedOut: false, logits: undefined });
    };
    let out = expand(f.body);
    inputs.forEach((x, i) => {
      if (!used.has(i)) out = this.node('Expand', [out, this.node('Shape', [x])]);
    });
    return out;
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
