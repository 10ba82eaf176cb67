/**
 * `nnlens export FILE --model NAME --to onnx -o OUT.onnx`: the model's forward pass as an ONNX
 * model (opset 13, IR version 7), written by NN Lens itself.
 *
 * - Inputs: the model's inputs the output needs, named as in the file, float32, with a dynamic
 *   leading axis `batch` (every input has one, spec §2).
 * - Output: the model's output value (./output.ts: the value the loss reads as its prediction),
 *   named after it, float32, batch-first.
 * - Params: float32 initializers named as in the file (`dense` params as `h.W`).
 * - Each named value on the way is a node output with the value's name, and its node's doc
 *   string is the `.nn` statement (Netron shows both).
 *
 * `withLoss` (used by the tests, not the command line) also takes the targets as inputs and
 * outputs the per-example losses [batch], named after the loss.
 */
import type { IRFunction, IRModel, IRNode, IRProgram } from '../../../engine/ir';
import { modelOutput } from '../output';
import { fusedProducer } from '../../../engine/exec/program';
import { nodeAttr, nodeEntry } from '../../../engine/ops/index';
import { GraphBuilder } from './emit';
import { DataType, encodeModel, type OnnxGraphNode, type OnnxValueInfo } from './proto';

export const ONNX_IR_VERSION = 7;
/** The opset the catalog's emitters write (engine/ops/onnx.ts). */
export const ONNX_OPSET = 13;
/** The name of the dynamic batch axis of every input and output. */
export const BATCH_AXIS = 'batch';

export interface OnnxExportOptions {
  /** Every param's values, by name (row-major). */
  weights: Readonly<Record<string, ArrayLike<number>>>;
  withLoss?: boolean;
  /** Also output every named value the graph computes (the tests compare each with the engine). */
  allValues?: boolean;
  producerVersion?: string;
  /** The `.nn` statement that defines a named value (node doc strings). */
  statementText?: (valueName: string) => string | null;
  /** Free text for the model's doc string (where it came from). */
  doc?: string;
}

export interface OnnxExport {
  bytes: Uint8Array;
  inputs: { name: string; shape: number[] }[];
  output: { name: string; shape: number[]; batched: boolean };
  /** The graph's outputs: the output, then (withLoss) the loss, then (allValues) named values, with their nodes. */
  outputs: { name: string; node: number }[];
  /** The ONNX operator types used, sorted. */
  opTypes: string[];
  nodeCount: number;
}

export class OnnxExportError extends Error {}

export function exportOnnx(program: IRProgram, model: IRModel, opts: OnnxExportOptions): OnnxExport {
  const out = modelOutput(model);
  if (!out) throw new OnnxExportError(`model ${model.name} has no output: no named value that does not depend on its target`);
  const nodes = model.nodes;
  const functions = new Map<string, IRFunction>(program.functions.map((f) => [f.name, f]));

  // the engine's fusion: cross_entropy(softmax(z), t) and binary_cross_entropy(sigmoid(z), t) from z
  const fusedArg = new Map<number, number>();
  for (const n of nodes) {
    const y = fusedProducer(n, nodes);
    if (y) fusedArg.set(n.id, y.args[0]);
  }
  // what a node needs computed: a fused loss reads the logits, not the probabilities
  const argsOf = (n: IRNode) => (fusedArg.has(n.id) ? [fusedArg.get(n.id)!, n.args[1]] : n.args);

  // what the outputs need
  const needed = new Set<number>();
  const roots = [out.node, ...(opts.withLoss ? [model.loss.node] : []), ...(opts.allValues ? model.values.map((v) => v.node) : [])];
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    stack.push(...argsOf(nodes[id]));
  }

  const valueName = new Map<number, string>();
  for (const v of model.values) if (!valueName.has(v.node)) valueName.set(v.node, v.name);
  if (opts.withLoss) valueName.set(model.loss.node, valueName.get(model.loss.node) ?? model.loss.name);
  const reserved = [
    ...model.inputs.map((d) => d.name),
    ...model.targets.map((d) => d.name),
    ...model.params.map((d) => d.name),
    ...model.values.map((d) => d.name),
    model.loss.name,
    out.name,
  ];
  const b = new GraphBuilder(reserved, functions);
  const name = new Map<number, string>();
  const inputs: OnnxValueInfo[] = [];
  const inputShapes: { name: string; shape: number[] }[] = [];
  const initializers = [];
  const dims = (n: IRNode) => [...(n.batched ? [BATCH_AXIS] : []), ...n.shape];

  for (const n of nodes) {
    if (!needed.has(n.id)) continue;
    if (n.op === 'input' || n.op === 'target') {
      name.set(n.id, n.name!);
      inputs.push({ name: n.name!, elemType: DataType.FLOAT, dims: [BATCH_AXIS, ...n.shape], doc: `${n.op} ${n.name}: [${n.shape.join(', ')}] per example` });
      inputShapes.push({ name: n.name!, shape: n.shape });
      continue;
    }
    if (n.op === 'param') {
      const w = opts.weights[n.name!];
      if (!w) throw new OnnxExportError(`no weights for param ${n.name}`);
      name.set(n.id, n.name!);
      initializers.push({ name: n.name!, dims: n.shape, data: { type: 'float' as const, values: Float32Array.from(w) } });
      continue;
    }
    if (n.op === 'gradRef') throw new OnnxExportError('a grad reference is not part of a forward pass');
    const since = b.nodes.length;
    let r: string;
    if (n.op === 'const') r = b.constant(n.value!);
    else {
      const entry = nodeEntry(n);
      const z = fusedArg.get(n.id);
      r = entry.onnx(b, n.args.map((a) => name.get(a) ?? ''), {
        node: n,
        attr: nodeAttr(n, entry),
        args: n.args.map((a) => ({ shape: nodes[a].shape, batched: nodes[a].batched })),
        batchedOut: n.batched,
        logits: z === undefined ? undefined : name.get(z),
      });
    }
    const wanted = valueName.get(n.id) ?? (n.id === out.node ? out.name : null);
    if (wanted !== null) {
      b.nameValue(r, wanted, since, opts.statementText?.(wanted) ?? undefined);
      name.set(n.id, wanted);
    } else name.set(n.id, r);
  }
  // an output that is a leaf (or a named value under another name) gets its name through Identity
  const outputs: OnnxValueInfo[] = [];
  const outputNodes: { name: string; node: number }[] = [{ name: out.name, node: out.node }];
  const outNode = nodes[out.node];
  if (name.get(out.node) !== out.name) b.nameValue(name.get(out.node)!, out.name, b.nodes.length);
  outputs.push({ name: out.name, elemType: DataType.FLOAT, dims: dims(outNode), doc: `the model's output, ${out.named ? `value ${out.name}` : 'the prediction the loss reads'}` });
  if (opts.withLoss) {
    const lossNode = nodes[model.loss.node];
    outputs.push({ name: name.get(lossNode.id)!, elemType: DataType.FLOAT, dims: dims(lossNode), doc: `the loss ${model.loss.name} of each example` });
    outputNodes.push({ name: name.get(lossNode.id)!, node: lossNode.id });
  }

  if (opts.allValues) {
    const listed = new Set(outputs.map((o) => o.name));
    for (const v of model.values) {
      const n = nodes[v.node];
      const vn = name.get(v.node)!;
      if (listed.has(vn) || n.op === 'input' || n.op === 'param' || n.op === 'const') continue;
      listed.add(vn);
      outputs.push({ name: vn, elemType: DataType.FLOAT, dims: dims(n) });
      outputNodes.push({ name: vn, node: v.node });
    }
  }
  const graphNodes = fuseGemmBias(b.nodes, initializers, new Set([...reserved, ...outputs.map((o) => o.name)]));
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'nnlens',
    producerVersion: opts.producerVersion ?? 'dev',
    doc: opts.doc,
    metadata: { model: model.name, output: out.name },
    graph: {
      name: model.name,
      nodes: graphNodes,
      initializers: [...initializers, ...b.constants],
      inputs,
      outputs,
      doc: `model ${model.name}: ${inputs.map((i) => i.name).join(', ')} → ${out.name}`,
    },
  });
  return {
    bytes,
    inputs: inputShapes,
    output: { name: out.name, shape: outNode.shape, batched: outNode.batched },
    outputs: outputNodes,
    opTypes: [...new Set(graphNodes.map((n) => n.opType))].sort(),
    nodeCount: graphNodes.length,
  };
}

/**
 * `Add(Gemm(x, W), b)` with b a param of shape [m] (W: [m, n]) and the Gemm's output read by that
 * Add alone is one `Gemm(x, W, b)`: a `dense` layer or the lecture's `W @ x + b` as one node, as
 * Netron shows a linear layer. A Gemm whose output is a named value stays apart.
 */
function fuseGemmBias(nodes: OnnxGraphNode[], params: { name: string; dims: readonly number[] }[], named: Set<string>): OnnxGraphNode[] {
  const dims = new Map(params.map((p) => [p.name, p.dims]));
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map(nodes.map((n) => [n.outputs[0], n]));
  const dropped = new Set<OnnxGraphNode>();
  for (const add of nodes) {
    if (add.opType !== 'Add') continue;
    for (const [g, bias] of [add.inputs, [...add.inputs].reverse()]) {
      const gemm = producer.get(g);
      const w = gemm ? dims.get(gemm.inputs[1]) : undefined;
      const bd = dims.get(bias);
      if (!gemm || gemm.opType !== 'Gemm' || gemm.inputs.length !== 2 || uses.get(g) !== 1 || named.has(g)) continue;
      if (!w || !bd || bd.length !== 1 || w.length !== 2 || bd[0] !== w[0] || gemm.attrs.transB?.kind !== 'int' || gemm.attrs.transB.value !== 1) continue;
      gemm.inputs.push(bias);
      gemm.outputs = add.outputs;
      gemm.name = add.name.replace(/\/Add$/, '/Gemm');
      if (add.doc) gemm.doc = add.doc;
      dropped.add(add);
      break;
    }
  }
  // the Gemm keeps its place: its inputs (x, and the params W and b) are there before it
  return nodes.filter((n) => !dropped.has(n));
}
