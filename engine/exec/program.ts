/**
 * The executor: an IR model compiled once into a program of bound kernels over one backend.
 *
 * Lifecycle
 *   const p = compileModel(program, model, backend, opts);   // analyse the graph, once
 *   p.setBatchSize(32);       // ONE backend.allocate call for every buffer; binds the kernels
 *                             // (a smaller size later reuses the buffers: no allocation)
 *   p.params.W1.set(...);     // params, inputs/targets, grads are plain typed arrays, in place
 *   p.data.x.set(...);
 *   const loss = p.forward(); // no allocation, no graph work, per step
 *   p.backward();             // p.grads.W1 now holds ∂L/∂W1, L = mean over the batch
 *
 * Buffers may move when the batch size changes (a WebAssembly backend may grow its memory), so
 * re-read `params`, `grads`, `data`, `extra` after `setBatchSize`; params and extra buffers keep
 * their contents across the change.
 *
 * Per-example rule (§2): batched nodes (those depending on an input or target, and everything
 * in the backward block that reads `grad X`) have a leading batch axis at run time; params,
 * consts and values computed only from them do not.
 */
import type { IRBackwardLine, IRModel, IRNode, IRProgram, LeafOp } from '../ir';
import type { Backend, FloatArray } from '../kernels/backend';
import { compileFunctions, type FunctionLib } from '../functions';
import { inferShape, nodeEntry } from '../ops/index';
import { fmtShape, sameShape, sizeOf } from '../shape';
import type { Fusion, OpKernel, Slot, SlotInfo } from './types';

/** Ops that are leaves of the graph (they compute nothing). */
export const LEAF_OPS: ReadonlySet<string> = new Set<LeafOp>(['input', 'target', 'param', 'const', 'gradRef']);

export interface CompileOptions {
  /**
   * Fuse softmax → cross_entropy and sigmoid → binary_cross_entropy: the loss is computed from
   * the logits (stable) and its gradient goes straight to the logits. Default true.
   */
  fuse?: boolean;
  /**
   * 'params' (training, default): gradients only flow where params need them.
   * 'all': every value of the forward graph, inputs and targets included, gets its exact
   * ∂L/∂value (hovers, gradient checks).
   */
  grads?: 'params' | 'all';
  /**
   * Derivatives of user functions used by backpropagation: 'user' (their grad lines where
   * given, default) or 'true' (automatic everywhere). Switchable with `setFunctionGrads`.
   */
  functionGrads?: 'user' | 'true';
  /**
   * Sizes of extra buffers to allocate in the same `backend.allocate` call as the program's
   * own (e.g. optimizer state). Available as `extra`; kept across `setBatchSize`.
   */
  extraBuffers?: number[];
  /** A compiled function library to share between programs of one IRProgram. */
  lib?: FunctionLib;
}

/** Where the values of a backward block's `grad X` references come from. */
export type GradRefSource =
  /** The user's own line for X (evaluation "as written"). */
  | 'written'
  /** A callback filling the per-example gradient of X ([B, ...shape of X]). */
  | ((name: string, out: FloatArray) => void);

interface FusedLoss {
  loss: number;
  y: number;
  z: number;
}

export class CompiledModel {
  readonly backend: Backend;
  readonly lib: FunctionLib;
  readonly fuse: boolean;
  readonly gradsMode: 'params' | 'all';

  /** Node by id. */
  readonly nodes: readonly IRNode[];
  /** Run-time batched flag by node id. */
  readonly batched: readonly boolean[];
  /** Node ids of the forward graph (not leaves), in evaluation order. */
  readonly forwardOrder: readonly number[];
  /** Node ids of the backward block (computing nodes and gradRef leaves), in evaluation order. */
  readonly backwardBlockOrder: readonly number[];
  /** Node ids that are ancestors of the loss (or the loss). */
  readonly lossAncestor: readonly boolean[];
  readonly lossNode: number;

  /** Current batch size (0 before the first `setBatchSize`). */
  batchSize = 0;
  /** Params by name (unbatched). */
  params: Record<string, FloatArray> = {};
  /** ∂L/∂param by name, L = mean over the batch of the per-example losses. */
  grads: Record<string, FloatArray> = {};
  /** Inputs and targets by name, [B, ...shape], example-major (views of exactly B examples). */
  data: Record<string, FloatArray> = {};
  /** The extra buffers requested by `CompileOptions.extraBuffers`. */
  extra: FloatArray[] = [];

  private readonly slots: Slot[] = [];
  private kernels: (OpKernel | null)[] = [];
  private readonly needGrad: boolean[];
  private readonly fused = new Map<number, FusedLoss>();
  private readonly fusedY = new Map<number, { ext: FloatArray | null; sum: FloatArray | null }>();
  private readonly fnGrads: { mode: 'user' | 'true' };
  private readonly extraSizes: number[];
  private gradBuffers: FloatArray[] = [];
  /** The gradient buffers `backward` zeroes: all but those a kernel stores on its first write. */
  private zeroedGrads: FloatArray[] = [];
  private capacity = 0;
  private scratch: FloatArray[][] = [];
  private dataFull: Record<string, FloatArray> = {};
  private backwardOrder: number[] = [];
  private readonly affected = new Map<string, { nodes: number[]; direct: number[] }>();
  private readonly lineFor = new Map<string, IRBackwardLine>();
  private readonly paramNode = new Map<string, number>();
  private readonly dataNode = new Map<string, number>();
  private readonly cyclicRefs = new Set<string>();
  private noLine: string[] | null = null;
  private lossView: FloatArray = EMPTY;

  constructor(
    readonly program: IRProgram,
    readonly model: IRModel,
    backend: Backend,
    opts: CompileOptions = {},
  ) {
    this.backend = backend;
    this.lib = opts.lib ?? compileFunctions(program.functions);
    this.fuse = opts.fuse ?? true;
    this.gradsMode = opts.grads ?? 'params';
    this.fnGrads = { mode: opts.functionGrads ?? 'user' };
    this.extraSizes = opts.extraBuffers ?? [];

    // ---- nodes by id, run-time batching, shapes --------------------------------------------
    const maxId = model.nodes.reduce((m, n) => Math.max(m, n.id), -1);
    const nodes: IRNode[] = new Array(maxId + 1);
    for (const n of model.nodes) {
      if (nodes[n.id]) throw new Error(`node id ${n.id} appears twice`);
      nodes[n.id] = n;
    }
    this.nodes = nodes;
    const batched: boolean[] = new Array(maxId + 1).fill(false);
    for (const n of model.nodes) {
      for (const a of n.args)
        if (!(a < n.id) || !nodes[a]) throw new Error(`node ${n.id} (${n.op}) uses node ${a}, which is not before it`);
      if (n.op === 'input' || n.op === 'target' || n.op === 'gradRef') batched[n.id] = true;
      else if (!LEAF_OPS.has(n.op)) batched[n.id] = n.args.some((a) => batched[a]);
      if (!LEAF_OPS.has(n.op)) {
        const inferred = inferShape(n, n.args.map((a) => nodes[a].shape));
        if (!inferred.ok) throw new Error(`node ${n.id} (${n.op}): ${inferred.error}`);
        if (!sameShape(inferred.value, n.shape))
          throw new Error(`node ${n.id} (${n.op}): shape ${fmtShape(n.shape)} but its operands give ${fmtShape(inferred.value)}`);
      } else if (n.op === 'const' && n.shape.length !== 0) {
        throw new Error(`node ${n.id}: a const must be a scalar`);
      }
    }
    this.batched = batched;

    // ---- the forward graph and the backward block -----------------------------------------
    this.lossNode = model.loss.node;
    const inForward: boolean[] = new Array(maxId + 1).fill(false);
    const mark = (id: number, into: boolean[]) => {
      const stack = [id];
      while (stack.length) {
        const k = stack.pop()!;
        if (into[k]) continue;
        into[k] = true;
        for (const a of nodes[k].args) stack.push(a);
      }
    };
    const lossAnc: boolean[] = new Array(maxId + 1).fill(false);
    mark(this.lossNode, lossAnc);
    mark(this.lossNode, inForward);
    for (const v of model.values) mark(v.node, inForward);
    for (const n of model.nodes) if (n.op === 'param' || n.op === 'input' || n.op === 'target') inForward[n.id] = true;
    this.lossAncestor = lossAnc;
    this.forwardOrder = model.nodes.filter((n) => inForward[n.id] && !LEAF_OPS.has(n.op)).map((n) => n.id).sort((a, b) => a - b);

    // backward block: every other node; a gradRef depends on the line it refers to.
    for (const l of model.backward ?? []) this.lineFor.set(l.target, l);
    this.backwardBlockOrder = this.orderBackwardBlock(inForward);

    // leaves by name
    for (const n of model.nodes) {
      if (n.op === 'param' && !this.paramNode.has(n.name!)) this.paramNode.set(n.name!, n.id);
      if ((n.op === 'input' || n.op === 'target') && !this.dataNode.has(n.name!)) this.dataNode.set(n.name!, n.id);
    }
    for (const p of model.params) {
      const id = this.paramNode.get(p.name);
      if (id !== undefined && !sameShape(nodes[id].shape, p.shape))
        throw new Error(`param ${p.name}: node shape ${fmtShape(nodes[id].shape)} differs from ${fmtShape(p.shape)}`);
    }

    // ---- fusion ------------------------------------------------------------------------------
    const consumers: number[] = new Array(maxId + 1).fill(0);
    for (const id of this.forwardOrder) for (const a of nodes[id].args) consumers[a]++;
    if (this.fuse) {
      for (const id of this.forwardOrder) {
        const n = nodes[id];
        const y = fusedProducer(n, nodes);
        if (y) this.fused.set(id, { loss: id, y: y.id, z: y.args[0] });
      }
    }

    // ---- which nodes carry a gradient ---------------------------------------------------------
    const dependsOnParam: boolean[] = new Array(maxId + 1).fill(false);
    for (const n of model.nodes) dependsOnParam[n.id] = n.op === 'param' || n.args.some((a) => dependsOnParam[a]);
    this.needGrad = model.nodes.reduce<boolean[]>((need, n) => {
      need[n.id] =
        inForward[n.id] &&
        n.op !== 'const' &&
        (n.op === 'param' || (lossAnc[n.id] && (this.gradsMode === 'all' || dependsOnParam[n.id])));
      return need;
    }, new Array(maxId + 1).fill(false));
    if (this.gradsMode === 'params') {
      // a fused softmax/sigmoid read only by its loss needs no gradient of its own
      for (const f of this.fused.values()) if (consumers[f.y] === 1) this.needGrad[f.y] = false;
    }

    for (const n of model.nodes) {
      this.slots[n.id] = {
        node: n,
        shape: n.shape,
        size: sizeOf(n.shape),
        batched: batched[n.id],
        v: EMPTY,
        g: null,
      };
    }
  }

  /**
   * Evaluation order of the backward block: its nodes (gradRef leaves included) after their
   * operands, and each `grad X` reference after the node of X's line. A reference that would
   * close a cycle is recorded in `cyclicRefs` (evaluation as written then refuses to run).
   */
  private orderBackwardBlock(inForward: boolean[]): number[] {
    const nodes = this.nodes;
    const order: number[] = [];
    const state = new Map<number, 1 | 2>();
    const visit = (id: number) => {
      if (inForward[id] || state.has(id)) return;
      state.set(id, 1);
      const n = nodes[id];
      for (const a of n.args) visit(a);
      if (n.op === 'gradRef') {
        const line = this.lineFor.get(n.name!);
        if (line && state.get(line.node) === 1) this.cyclicRefs.add(n.name!);
        else if (line) visit(line.node);
      }
      state.set(id, 2);
      if (n.op !== 'const') order.push(id);
    };
    for (const l of this.model.backward ?? []) visit(l.node);
    for (const n of this.model.nodes) visit(n.id);
    return order;
  }

  // ---- buffers ---------------------------------------------------------------------------------

  /**
   * Sets the batch size. The first time, and whenever B exceeds the capacity allocated so far,
   * allocates every buffer of the program (values, gradients, scratch, the backward block, the
   * extra buffers) in ONE `backend.allocate` call; a smaller B reuses the buffers (a training
   * loop's last, shorter batch costs no allocation). Then binds the kernels for B.
   * Params and extra buffers keep their values; after an allocation, inputs/targets and
   * everything else start at 0. Re-read `params`, `grads`, `data`, `extra` after calling it.
   */
  setBatchSize(B: number): void {
    if (!Number.isInteger(B) || B < 1) throw new Error(`batch size must be a positive integer, got ${B}`);
    if (B > this.capacity) this.allocateFor(B);
    this.bindFor(B);
  }

  /** The largest batch size the current buffers hold. */
  get batchCapacity(): number {
    return this.capacity;
  }

  private allocateFor(B: number): void {
    // keep params and extra buffers (their old memory may be invalidated by allocate)
    const keptParams = new Map<string, Float64Array>();
    for (const [k, v] of Object.entries(this.params)) keptParams.set(k, Float64Array.from(v));
    const keptExtra = this.extra.map((e) => Float64Array.from(e));

    const sizes: number[] = [];
    const assign: ((b: FloatArray) => void)[] = [];
    const want = (size: number, cb: (b: FloatArray) => void) => {
      sizes.push(size);
      assign.push(cb);
    };
    const len = (id: number) => this.slots[id].size * (this.batched[id] ? B : 1);

    // values and gradients; leaves with one name share one buffer
    const shared = new Map<string, { v: FloatArray | null; g: FloatArray | null; vWaiters: Slot[]; gWaiters: Slot[] }>();
    const gradBufs: FloatArray[] = [];
    for (const n of this.model.nodes) {
      const slot = this.slots[n.id];
      const key = n.op === 'param' || n.op === 'input' || n.op === 'target' ? `${n.op}:${n.name}` : null;
      if (key) {
        let e = shared.get(key);
        if (!e) {
          e = { v: null, g: null, vWaiters: [], gWaiters: [] };
          shared.set(key, e);
          const entry = e;
          want(len(n.id), (b) => {
            entry.v = b;
            for (const s of entry.vWaiters) s.v = b;
          });
          if (this.needGrad[n.id] || n.op === 'param' || this.gradsMode === 'all')
            want(len(n.id), (b) => {
              entry.g = b;
              gradBufs.push(b);
              for (const s of entry.gWaiters) s.g = b;
            });
        }
        e.vWaiters.push(slot);
        if (this.needGrad[n.id]) e.gWaiters.push(slot);
        else slot.g = null;
        continue;
      }
      want(len(n.id), (b) => (slot.v = b));
      if (this.needGrad[n.id])
        want(len(n.id), (b) => {
          slot.g = b;
          gradBufs.push(b);
        });
      else slot.g = null;
    }
    // fused losses: y's exact gradient from the loss, and y's total (true) gradient
    this.fusedY.clear();
    for (const f of this.fused.values()) {
      const rec = { ext: null as FloatArray | null, sum: null as FloatArray | null };
      this.fusedY.set(f.y, rec);
      if (this.gradsMode === 'all') {
        want(len(f.y), (b) => {
          rec.ext = b;
          gradBufs.push(b);
        });
        want(len(f.y), (b) => (rec.sum = b));
      }
    }
    // scratch
    const scratch: FloatArray[][] = [];
    for (const id of [...this.forwardOrder, ...this.backwardBlockOrder]) {
      const n = this.nodes[id];
      if (LEAF_OPS.has(n.op)) continue;
      const def = nodeEntry(n).kernel;
      const info = (k: number): SlotInfo => ({ shape: this.slots[k].shape, size: this.slots[k].size, batched: this.batched[k] });
      const req = def.scratch?.(n, n.args.map(info), info(id), B) ?? [];
      const list: FloatArray[] = [];
      scratch[id] = list;
      for (const s of req) want(s, (b) => list.push(b));
    }
    // params that no node uses still get buffers
    const loose = new Map<string, { v: FloatArray; g: FloatArray }>();
    for (const p of this.model.params) {
      if (this.paramNode.has(p.name)) continue;
      const e = { v: EMPTY as FloatArray, g: EMPTY as FloatArray };
      loose.set(p.name, e);
      want(p.size, (b) => (e.v = b));
      want(p.size, (b) => (e.g = b));
    }
    const extra: FloatArray[] = [];
    for (const s of this.extraSizes) want(s, (b) => extra.push(b));

    const bufs = this.backend.allocate(sizes);
    if (bufs.length !== sizes.length) throw new Error(`backend ${this.backend.name} returned ${bufs.length} buffers for ${sizes.length}`);
    bufs.forEach((b, i) => assign[i](b));

    this.capacity = B;
    this.gradBuffers = gradBufs;
    this.scratch = scratch;
    this.extra = extra;
    keptExtra.forEach((k, i) => {
      if (i < extra.length) extra[i].set(k.subarray(0, extra[i].length));
    });
    this.params = {};
    this.grads = {};
    for (const p of this.model.params) {
      const id = this.paramNode.get(p.name);
      const e = id !== undefined ? shared.get(`param:${p.name}`)! : null;
      this.params[p.name] = e ? e.v! : loose.get(p.name)!.v;
      this.grads[p.name] = e ? e.g! : loose.get(p.name)!.g;
      const kept = keptParams.get(p.name);
      if (kept) this.params[p.name].set(kept);
    }
    this.dataFull = {};
    for (const d of [...this.model.inputs, ...this.model.targets]) {
      const e = shared.get(`input:${d.name}`) ?? shared.get(`target:${d.name}`);
      if (e) this.dataFull[d.name] = e.v!;
    }
    for (const n of this.model.nodes) if (n.op === 'const') this.slots[n.id].v[0] = n.value!;
  }

  private bindFor(B: number): void {
    this.batchSize = B;
    this.lossView = this.slots[this.lossNode].v.subarray(0, this.batched[this.lossNode] ? B : 1);
    this.data = {};
    for (const d of [...this.model.inputs, ...this.model.targets]) {
      const full = this.dataFull[d.name];
      if (full) this.data[d.name] = full.subarray(0, B * sizeOf(d.shape));
    }
    this.kernels = [];
    const first = this.firstGradWrites();
    for (const id of [...this.forwardOrder, ...this.backwardBlockOrder]) {
      const n = this.nodes[id];
      if (LEAF_OPS.has(n.op)) continue;
      const f = this.fused.get(id);
      let fusion: Fusion | null = null;
      if (f) fusion = { z: this.slots[f.z], yExt: this.fusedY.get(f.y)!.ext };
      this.kernels[id] = nodeEntry(n).kernel.bind({
        firstGradWrite: first.get(id),
        B,
        node: n,
        out: this.slots[id],
        args: n.args.map((a) => this.slots[a]),
        scratch: this.scratch[id],
        backend: this.backend,
        lib: this.lib,
        fnGrads: this.fnGrads,
        fusion,
      });
    }
    this.backwardOrder = this.forwardOrder
      .filter((id) => this.lossAncestor[id] && this.needGrad[id] && this.kernels[id]!.backward)
      .reverse();
    // the gradients a kernel stores on its first write need no zeroing before the pass
    const stored = new Set<FloatArray>();
    for (const id of this.backwardOrder) {
      const s = this.kernels[id]!.storesGrad;
      if (s) this.nodes[id].args.forEach((a, i) => s[i] && stored.add(this.slots[a].g!));
    }
    this.zeroedGrads = this.gradBuffers.filter((g) => !stored.has(g));
    this.affected.clear();
  }

  /**
   * For each node of the backward pass, per argument: whether it is the first node of the pass
   * (reverse forward order, among the loss's ancestors that carry a gradient) to write that
   * argument's gradient, when the gradient is unbatched and belongs to that argument's slot alone
   * (a param used twice shares one buffer between its nodes). Every later writer adds to it.
   */
  private firstGradWrites(): Map<number, boolean[]> {
    const owners = new Map<FloatArray, number>();
    for (const s of this.slots) if (s?.g) owners.set(s.g, (owners.get(s.g) ?? 0) + 1);
    const written = new Set<number>();
    const out = new Map<number, boolean[]>();
    for (let i = this.forwardOrder.length - 1; i >= 0; i--) {
      const id = this.forwardOrder[i];
      if (!this.lossAncestor[id] || !this.needGrad[id] || LEAF_OPS.has(this.nodes[id].op)) continue;
      const args = this.nodes[id].args;
      const flags = args.map((a) => {
        const g = this.slots[a].g;
        return !written.has(a) && !!g && !this.batched[a] && owners.get(g) === 1 && args.indexOf(a) === args.lastIndexOf(a);
      });
      for (const a of args) written.add(a);
      // a fused loss writes the gradient of its softmax's (or sigmoid's) input too
      const f = this.fused.get(id);
      if (f) written.add(f.z).add(f.y);
      if (flags.some((f) => f)) out.set(id, flags);
    }
    return out;
  }

  private requireBatch(): void {
    if (this.batchSize === 0) throw new Error('call setBatchSize before running the program');
  }

  // ---- running --------------------------------------------------------------------------------

  /** Evaluates the forward graph; returns the loss (mean over the batch). Allocates nothing. */
  forward(): number {
    this.requireBatch();
    const order = this.forwardOrder;
    const k = this.kernels;
    for (let i = 0; i < order.length; i++) k[order[i]]!.forward();
    return this.loss();
  }

  /** The loss of the last forward pass: the mean of the per-example losses. */
  loss(): number {
    const v = this.slots[this.lossNode].v;
    const n = this.batched[this.lossNode] ? this.batchSize : 1;
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i];
    return s / n;
  }

  /** Per-example losses of the last forward pass ([B], or [1] for a loss without batch axis). */
  losses(): FloatArray {
    return this.lossView;
  }

  /**
   * Backpropagates from the loss of the last forward pass: afterwards `grads` (and, in 'all'
   * mode, `grad(id)` of every value) hold ∂L/∂·, L = mean over the batch. Allocates nothing.
   */
  backward(): void {
    this.requireBatch();
    const gb = this.zeroedGrads;
    for (let i = 0; i < gb.length; i++) gb[i].fill(0);
    const seed = this.slots[this.lossNode].g;
    if (seed) this.writeSeed(seed);
    const order = this.backwardOrder;
    const k = this.kernels;
    for (let i = 0; i < order.length; i++) k[order[i]]!.backward!();
  }

  /**
   * Backward pass one node at a time: after each node's backward, `after(id)` is called and
   * the pass stops when it returns true (used to find the op that first produces a
   * non-finite gradient). Returns the id it stopped at, or -1.
   */
  backwardStepwise(after: (id: number) => boolean): number {
    this.requireBatch();
    for (const b of this.gradBuffers) b.fill(0);
    const seed = this.slots[this.lossNode].g;
    if (seed) this.writeSeed(seed);
    for (const id of this.backwardOrder) {
      this.kernels[id]!.backward!();
      if (after(id)) return id;
    }
    return -1;
  }

  /** ∂L/∂Cⁿ = 1/B for every example (element-wise stores: no boxed number per step). */
  private writeSeed(seed: FloatArray): void {
    const batched = this.batched[this.lossNode];
    const n = batched ? this.batchSize : 1;
    const B = this.batchSize;
    for (let i = 0; i < n; i++) seed[i] = batched ? 1 / B : 1;
  }

  /** Switches the user-function derivatives backpropagation uses. */
  setFunctionGrads(mode: 'user' | 'true'): void {
    this.fnGrads.mode = mode;
  }

  get functionGrads(): 'user' | 'true' {
    return this.fnGrads.mode;
  }

  /**
   * Re-evaluates only the forward nodes that depend on the given param and returns the loss.
   * The other values must be those of a complete forward pass at the current inputs (the
   * gradient checker perturbs one param at a time). With `index`, only that element of the
   * param changed since the last evaluation (see `settleElement`), and ops that can (matmul)
   * recompute only the outputs that element feeds.
   */
  forwardAffected(param: string, index?: number): number {
    let plan = this.affected.get(param);
    if (!plan) {
      const dep: boolean[] = [];
      for (const n of this.model.nodes) if (n.op === 'param' && n.name === param) dep[n.id] = true;
      const direct: number[] = [];
      const nodes = this.forwardOrder.filter((k) => {
        const args = this.nodes[k].args;
        const uses = args.filter((a) => dep[a] && this.nodes[a].op === 'param');
        const d = args.some((a) => dep[a]);
        if (d) dep[k] = true;
        // a direct consumer reading the param through exactly one operand and nothing else changed
        const only = uses.length === 1 && args.every((a) => !dep[a] || this.nodes[a].op === 'param');
        direct.push(only && this.kernels[k]!.perturbed ? args.indexOf(uses[0]) : -1);
        return d;
      });
      plan = { nodes, direct: direct.filter((_, i) => dep[this.forwardOrder[i]]) };
      this.affected.set(param, plan);
    }
    const k = this.kernels;
    const { nodes, direct } = plan;
    for (let i = 0; i < nodes.length; i++) {
      const kernel = k[nodes[i]]!;
      if (index !== undefined && direct[i] >= 0) kernel.perturbed!(direct[i], index);
      else kernel.forward();
    }
    return this.loss();
  }

  /**
   * After `forwardAffected(param, index)` evaluations, once element `index` has its final
   * value again: recomputes the outputs the partially recomputing ops left at a perturbed
   * value, so that the next element can be perturbed. (Nodes further downstream are always
   * recomputed in full.)
   */
  settleElement(param: string, index: number): void {
    const plan = this.affected.get(param);
    if (!plan) return;
    for (let i = 0; i < plan.nodes.length; i++)
      if (plan.direct[i] >= 0) this.kernels[plan.nodes[i]]!.perturbed!(plan.direct[i], index);
  }

  // ---- the backward block -----------------------------------------------------------------------

  /**
   * Evaluates the backward block (after a forward pass). With 'written', each `grad X` reference
   * is the user's own line for X; with a callback, it is whatever the callback fills in (the
   * gradient checker passes the true per-example gradients). Read the lines with `value`.
   */
  evalBackwardBlock(source: GradRefSource): void {
    this.requireBatch();
    if (source === 'written' && this.cyclicRefs.size)
      throw new Error(`the backward block uses ${[...this.cyclicRefs].map((r) => `grad ${r}`).join(', ')} in its own definition`);
    const B = this.batchSize;
    const k = this.kernels;
    const order = this.backwardBlockOrder;
    for (let j = 0; j < order.length; j++) {
      const id = order[j];
      const n = this.nodes[id];
      if (n.op !== 'gradRef') {
        k[id]!.forward();
        continue;
      }
      const out = this.slots[id].v;
      if (source !== 'written') {
        source(n.name!, out);
        continue;
      }
      // the user's own line for the name, repeated per example when it has no batch axis
      const line = this.lineFor.get(n.name!);
      if (!line) throw new Error(`grad ${n.name} is used but has no line`);
      const src = this.slots[line.node];
      const v = src.v;
      const size = src.size;
      if (src.batched) for (let i = 0; i < B * size; i++) out[i] = v[i];
      else for (let e = 0; e < B; e++) for (let i = 0; i < size; i++) out[e * size + i] = v[i];
    }
  }

  /**
   * Gradients as the backward block writes them (`gradients: manual`): after a forward pass,
   * evaluates the block as written and sets each param's gradient to the mean over the batch of
   * its line. Params without a line get the automatic gradient; `paramsWithoutLine` names them.
   * Allocates nothing.
   */
  manualGradients(): readonly string[] {
    const auto = this.paramsWithoutLine;
    if (auto.length) this.backward();
    this.evalBackwardBlock('written');
    const ps = this.model.params;
    for (let i = 0; i < ps.length; i++) {
      const line = this.lineFor.get(ps[i].name);
      if (line) this.meanOverBatch(line.node, this.grads[ps[i].name]);
    }
    return auto;
  }

  /** Params the backward block has no line for (manual gradients use the automatic ones). */
  get paramsWithoutLine(): readonly string[] {
    return (this.noLine ??= this.model.params.filter((p) => !this.lineFor.has(p.name)).map((p) => p.name));
  }

  /** The mean over the batch of a node's per-example values, into `out` (size of one example). */
  meanOverBatch(id: number, out: FloatArray): void {
    const s = this.slots[id];
    if (!s.batched) {
      for (let i = 0; i < s.size; i++) out[i] = s.v[i];
      return;
    }
    const B = this.batchSize;
    out.fill(0);
    for (let e = 0; e < B; e++) {
      const o = e * s.size;
      for (let i = 0; i < s.size; i++) out[i] += s.v[o + i];
    }
    for (let i = 0; i < s.size; i++) out[i] /= B;
  }

  // ---- reading ---------------------------------------------------------------------------------

  slot(id: number): Readonly<Slot> {
    return this.slots[id];
  }

  /** A node's values ([B, ...shape] if batched, else [...shape]). */
  value(id: number): FloatArray {
    return this.slots[id].v;
  }

  /**
   * ∂L/∂value of a node (L = mean over the batch), exact even for the probabilities of a fused
   * loss; null when no gradient is kept for the node (see `CompileOptions.grads`).
   */
  grad(id: number): FloatArray | null {
    const s = this.slots[id];
    const f = this.fusedY.get(id);
    if (f && f.ext && f.sum) {
      const n = s.size * (s.batched ? this.batchSize : 1);
      for (let i = 0; i < n; i++) f.sum[i] = (s.g ? s.g[i] : 0) + f.ext[i];
      return f.sum;
    }
    return s.g;
  }

  /**
   * The per-example gradient ∂Cⁿ/∂valueⁿ of a batched node, [B, ...shape] (B × ∂L/∂value), into
   * `out`; false when the node is unbatched or has no gradient.
   */
  perExampleGrad(id: number, out: FloatArray): boolean {
    const g = this.grad(id);
    if (!g || !this.batched[id]) return false;
    const n = this.slots[id].size * this.batchSize;
    const B = this.batchSize;
    for (let i = 0; i < n; i++) out[i] = g[i] * B;
    return true;
  }

  paramNodeId(name: string): number | undefined {
    return this.paramNode.get(name);
  }

  dataNodeId(name: string): number | undefined {
    return this.dataNode.get(name);
  }

  /** The backward line for `grad X`, if any. */
  backwardLine(target: string): IRBackwardLine | undefined {
    return this.lineFor.get(target);
  }

  /** Forward nodes with kinks (relu, abs, leaky_relu, max, kinky user functions) on the loss's path. */
  kinkNodes(): number[] {
    return this.forwardOrder.filter((id) => this.lossAncestor[id] && this.kernels[id]?.kink);
  }

  kinkSize(id: number): number {
    return this.kernels[id]?.kink?.size ?? 0;
  }

  writeKink(id: number, codes: Int32Array): void {
    this.kernels[id]!.kink!.write(codes);
  }

  /** Fused loss nodes: loss id → the probability node y and the logits z. */
  fusedLosses(): ReadonlyMap<number, { y: number; z: number }> {
    return this.fused;
  }

  // ---- loading ---------------------------------------------------------------------------------

  /** Copies params (by name, flat row-major) into the program. Missing names are an error. */
  setParams(params: Readonly<Record<string, ArrayLike<number>>>): void {
    for (const p of this.model.params) {
      const src = params[p.name];
      if (!src) throw new Error(`no value for param ${p.name}`);
      if (src.length !== p.size) throw new Error(`param ${p.name}: ${src.length} numbers for shape ${fmtShape(p.shape)}`);
      this.params[p.name].set(src);
    }
  }

  /**
   * Loads a batch: sets the batch size to `batch.n` if it differs and copies every input and
   * target (by name, [n, ...shape] row-major).
   */
  setBatch(batch: Batch): void {
    if (batch.n !== this.batchSize) this.setBatchSize(batch.n);
    for (const d of [...this.model.inputs, ...this.model.targets]) {
      const buf = this.data[d.name];
      if (!buf) continue; // declared but unused by the graph
      const src = batch.data[d.name];
      const size = sizeOf(d.shape);
      if (!src) throw new Error(`the batch has no values for ${d.name}`);
      if (src.length !== batch.n * size)
        throw new Error(`${d.name}: ${src.length} numbers for ${batch.n} examples of shape ${fmtShape(d.shape)}`);
      buf.set(src);
    }
  }
}

/** A batch of examples: inputs and targets by name, each [n, ...shape] row-major. */
export interface Batch {
  n: number;
  data: Record<string, Float64Array | Float32Array | number[]>;
  /**
   * How messages number the examples: example e is row `rows[e]` (1-based) of its data set.
   * Without it, examples are numbered 1…n.
   */
  rows?: readonly number[];
}

const EMPTY = new Float64Array(0);

/**
 * For a loss fused with the op producing its first operand (softmax → cross_entropy,
 * sigmoid → binary_cross_entropy, as the catalog's `loss.fusedWith` says): that producer.
 */
export function fusedProducer(n: IRNode, nodes: readonly IRNode[]): IRNode | undefined {
  if (LEAF_OPS.has(n.op)) return undefined;
  const with_ = nodeEntry(n).loss?.fusedWith;
  const y = nodes[n.args[0]];
  if (!with_ || !y || LEAF_OPS.has(y.op)) return undefined;
  return nodeEntry(y).name === with_ ? y : undefined;
}

/** Compiles a model of a program for a backend. Call `setBatchSize` before running it. */
export function compileModel(
  program: IRProgram,
  model: IRModel,
  backend: Backend,
  opts?: CompileOptions,
): CompiledModel {
  return new CompiledModel(program, model, backend, opts);
}
