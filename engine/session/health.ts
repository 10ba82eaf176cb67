/**
 * Gradient health: what the gradients at the current weights say about training before it
 * starts (or after it ran), from one float64 evaluation on a batch of examples. Warnings and
 * infos only — a badly initialised model is not an error.
 *
 * - `vanishing-gradient`: most units of a sigmoid/tanh saturated (σ'(z) < 0.01 on average over the batch),
 *   or a first layer whose gradient (relative to its weights) is 10⁴× smaller than the last's.
 * - `exploding-gradient`: ‖∂C/∂W‖ ≥ 1000, a first layer's relative gradient 10⁴× the last's, or
 *   one sgd step changing a tensor by more than 10× its size.
 * - `dead-relu`: relu units that are 0 on every example of the batch.
 * (NaN/Infinity is the gradient checker's `non-finite` error.)
 */
import type { Evaluation, Finding, IRModel, IRNode, IRProgram, Range } from '../index';
import { fmtNum, sizeOf } from '../index';
import { Codes } from '../codes';
import { consumers, forwardEnd } from './numbers';

/** σ'(z) (or tanh'(z)) below this is saturated. */
export const SATURATION = 0.01;
/** Share of a layer's units that must be saturated (or dead) for a warning. */
export const MAJORITY = 0.5;
/** ‖∂C/∂W‖ at or above this is exploding. */
export const EXPLODING_NORM = 1000;
/** Ratio of relative gradients (first layer / last layer) beyond which they vanish or explode. */
export const LAYER_RATIO = 1e4;
/** Examples a batch needs before a minority of dead units is worth mentioning. */
const MIN_EXAMPLES_FOR_INFO = 16;

const pct = (x: number) => `${Math.round(x * 100)}%`;
const count = (n: number) => n.toLocaleString('en-US');

interface Labelled {
  label: string;
  range: Range;
}

function labelOf(model: IRModel, node: IRNode, what: string): Labelled {
  const v = model.values.find((x) => x.node === node.id);
  if (v) return { label: v.name, range: v.range };
  if (model.loss.node === node.id) return { label: model.loss.name, range: model.loss.range };
  return { label: what, range: node.range };
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Health findings of one model from an evaluation at its current weights. */
export function healthFindings(program: IRProgram, model: IRModel, ev: Evaluation): Finding[] {
  if (ev.nonFinite) return []; // the checker reports it; nothing else is meaningful
  const out: Finding[] = [];
  const B = ev.batchSize;
  const end = forwardEnd(model);
  for (const n of model.nodes) {
    if (n.id > end || n.op !== 'unary' || !n.batched) continue;
    const s = sizeOf(n.shape);
    if (s === 0) continue;
    if (n.fn === 'sigmoid' || n.fn === 'tanh') out.push(...saturation(model, ev, n, s, B));
    else if (n.fn === 'relu') out.push(...deadRelu(model, ev, n, s, B));
  }
  out.push(...gradientNorms(program, model, ev));
  return out;
}

function saturation(model: IRModel, ev: Evaluation, n: IRNode, s: number, B: number): Finding[] {
  // A sigmoid feeding binary_cross_entropy is fused with it: its saturation does not stop the gradient.
  if (n.fn === 'sigmoid' && consumers(model, n.id).some((c) => c.op === 'binary_cross_entropy' && c.args[0] === n.id)) return [];
  const y = ev.node(n.id).value;
  const z = ev.node(n.args[0]).value;
  // A unit is saturated when its derivative, averaged over the batch, is below SATURATION: on
  // average less than 1% of the gradient gets through it.
  let saturated = 0;
  for (let u = 0; u < s; u++) {
    let sum = 0;
    for (let e = 0; e < B; e++) {
      const v = y[e * s + u];
      sum += n.fn === 'sigmoid' ? v * (1 - v) : 1 - v * v;
    }
    if (sum / B < SATURATION) saturated++;
  }
  if (saturated / s < MAJORITY) return [];
  let zmax = 0;
  for (let i = 0; i < z.length; i++) zmax = Math.max(zmax, Math.abs(z[i]));
  const { label, range } = labelOf(model, n, `${n.fn}(…)`);
  const d = n.fn === 'sigmoid' ? "σ'(z)" : "tanh'(z)";
  return [
    {
      code: Codes.VanishingGradient,
      severity: 'warning',
      range,
      message:
        `${pct(saturated / s)} of ${label}'s units (${count(saturated)} of ${count(s)}) have ${d} < ${SATURATION} on average ` +
        `over the ${B} examples: saturated ${n.fn} — the gradient through it vanishes (|z| reaches ${fmtNum(zmax)}). ` +
        `Smaller initial weights or normalized inputs keep ${n.fn} in its sensitive range.`,
    },
  ];
}

function deadRelu(model: IRModel, ev: Evaluation, n: IRNode, s: number, B: number): Finding[] {
  const y = ev.node(n.id).value;
  let dead = 0;
  for (let u = 0; u < s; u++) {
    let all = true;
    for (let e = 0; e < B && all; e++) if (y[e * s + u] !== 0) all = false;
    if (all) dead++;
  }
  if (dead === 0) return [];
  const majority = dead / s >= MAJORITY && (B >= 8 || dead === s);
  if (!majority && B < MIN_EXAMPLES_FOR_INFO) return [];
  const { label, range } = labelOf(model, n, 'relu(…)');
  return [
    {
      code: Codes.DeadRelu,
      severity: majority ? 'warning' : 'info',
      range,
      message:
        `${count(dead)} of ${count(s)} units of ${label} (${pct(dead / s)}) are 0 on all ${B} examples: dead ReLUs — ` +
        `relu'(z) = 0 for z < 0, so no gradient reaches their weights and they do not recover. ` +
        `He initialisation, a small positive bias, a lower learning rate or leaky_relu help.`,
    },
  ];
}

/** The forward position of a param's first matmul use (its layer), if it is a weight matrix. */
function layerOf(model: IRModel, id: number): number | undefined {
  const use = consumers(model, id).find((c) => c.op === 'matmul');
  return use?.id;
}

function gradientNorms(program: IRProgram, model: IRModel, ev: Evaluation): Finding[] {
  const out: Finding[] = [];
  const opt = program.trains.find((t) => t.model === model.name)?.options.optimizer;
  const lr = opt?.kind === 'sgd' ? opt.lr : undefined;
  const layers: { name: string; range: Range; layer: number; rel: number }[] = [];
  const flagged = new Set<string>();
  for (const p of model.params) {
    const info = ev.values.get(p.name);
    const g = ev.grads[p.name];
    if (!info || !g) continue;
    const gn = norm(g);
    const pn = norm(info.value);
    if (gn >= EXPLODING_NORM) {
      flagged.add(p.name);
      out.push({
        code: Codes.ExplodingGradient,
        severity: 'warning',
        range: p.range,
        message:
          `‖∂C/∂${p.name}‖ = ${fmtNum(gn)} at the current weights (largest element ${fmtNum(maxAbs(g))}): exploding ` +
          'gradient — lower the learning rate, scale the inputs or the initial weights down.',
      });
    } else if (lr !== undefined && pn > 0 && lr * gn > 10 * pn && lr * gn > 1) {
      flagged.add(p.name);
      out.push({
        code: Codes.ExplodingGradient,
        severity: 'warning',
        range: p.range,
        message:
          `one sgd step at lr ${fmtNum(lr)} would change ${p.name} by ${fmtNum(lr * gn)} (‖lr·∂C/∂${p.name}‖), ` +
          `${fmtNum((lr * gn) / pn)}× its size ‖${p.name}‖ = ${fmtNum(pn)}: the gradient is too large for this learning rate.`,
      });
    }
    const id = model.nodes.find((n) => n.op === 'param' && n.name === p.name)?.id;
    const layer = id === undefined ? undefined : layerOf(model, id);
    if (layer !== undefined && pn > 0 && p.shape.length === 2 && Number.isFinite(gn)) {
      layers.push({ name: p.name, range: p.range, layer, rel: gn / pn });
    }
  }
  if (layers.length >= 2) {
    layers.sort((a, b) => a.layer - b.layer);
    const first = layers[0];
    const last = layers[layers.length - 1];
    if (!flagged.has(first.name) && last.rel > 0) {
      const ratio = first.rel / last.rel;
      const through = `through ${layers.length} layers`;
      if (ratio < 1 / LAYER_RATIO) {
        out.push({
          code: Codes.VanishingGradient,
          severity: 'warning',
          range: first.range,
          message:
            `‖∂C/∂${first.name}‖/‖${first.name}‖ = ${fmtNum(first.rel)} is ${fmtNum(ratio)} of ` +
            `‖∂C/∂${last.name}‖/‖${last.name}‖ = ${fmtNum(last.rel)}: the gradient vanishes on its way back ${through}, ` +
            `so ${first.name} barely learns.`,
        });
      } else if (ratio > LAYER_RATIO) {
        out.push({
          code: Codes.ExplodingGradient,
          severity: 'warning',
          range: first.range,
          message:
            `‖∂C/∂${first.name}‖/‖${first.name}‖ = ${fmtNum(first.rel)} is ${fmtNum(ratio)}× ` +
            `‖∂C/∂${last.name}‖/‖${last.name}‖ = ${fmtNum(last.rel)}: the gradient explodes on its way back ${through}.`,
        });
      }
    }
  }
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
