/**
 * Shared by the PyTorch parity tests: where PyTorch is, whether it can be imported, running
 * `nnlens` (the built CLI) and Python, random P.json / B.json contents, and the element-wise
 * relative error the suite compares with.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng, type IRModel, type Shape } from '../../engine/index';

/** The system Python with torch (a pyenv python3 earlier on PATH has none). */
export const PYTHON = process.env.NNLENS_TORCH_PYTHON ?? '/usr/bin/python3';
export const ROOT = resolve(__dirname, '../..');
export const CLI = join(ROOT, 'out/cli.js');
export const PARITY = __dirname;

let torchReason: string | null | undefined;

/** Null when `PYTHON -c "import torch"` works; otherwise why the PyTorch tests are skipped. */
export function torchUnavailable(): string | null {
  if (torchReason !== undefined) return torchReason;
  if (!existsSync(PYTHON)) torchReason = `${PYTHON} not found`;
  else {
    const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 });
    torchReason =
      r.status === 0 ? null : `${PYTHON} cannot import torch/numpy: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  }
  if (torchReason) console.warn(`PyTorch tests SKIPPED: ${torchReason}`);
  return torchReason;
}

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `nnlens-${prefix}-`));
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 300_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `node out/cli.js ARGS`. */
export function nnlens(args: string[], cwd?: string): Run {
  return run(process.execPath, [CLI, ...args], { cwd });
}

/** Parses stdout as JSON, or fails with everything the process said. */
export function jsonOf<T>(r: Run, what: string): T {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}\n${r.stderr}\n${r.stdout.slice(0, 2000)}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what} printed no JSON:\n${r.stdout.slice(0, 2000)}\n${r.stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors

export type Nested = number | Nested[];

export function nested(data: ArrayLike<number>, shape: Shape, offset = 0): Nested {
  if (shape.length === 0) return data[offset];
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: Nested[] = [];
  for (let i = 0; i < n; i++) out.push(nested(data, rest, offset + i * stride));
  return out;
}

export function flat(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (v === null) return [NaN];
  if (!Array.isArray(v)) throw new Error(`not a tensor: ${JSON.stringify(v)}`);
  return v.flatMap(flat);
}

function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** P.json contents for a model from flat float64 values by name. */
export function paramsJson(model: IRModel, values: Record<string, ArrayLike<number>>): Record<string, Nested> {
  return Object.fromEntries(model.params.map((p) => [p.name, nested(values[p.name], p.shape)]));
}

/** Every param moved by a Gaussian step (so zeros/ones/constant inits are no longer special). */
export function perturbed(values: Record<string, ArrayLike<number>>, scale: number, seed: number): Record<string, Float64Array> {
  const rng = new Rng(seed);
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(values)) out[k] = Float64Array.from(v, (a) => a + scale * rng.normal());
  return out;
}

export type TargetKind = 'onehot' | 'soft' | 'binary' | 'normal';

/** One example of a target: one-hot or probability rows along the last axis, 0/1, or N(0, 1). */
export function targetExample(kind: TargetKind, shape: Shape, rng: Rng): Float64Array {
  const n = size(shape);
  const out = new Float64Array(n);
  const k = shape.length ? shape[shape.length - 1] : 1;
  for (let row = 0; row < n; row += k) {
    if (kind === 'onehot') out[row + rng.int(k)] = 1;
    else if (kind === 'soft') {
      let s = 0;
      for (let j = 0; j < k; j++) s += out[row + j] = 0.05 + rng.uniform();
      for (let j = 0; j < k; j++) out[row + j] /= s;
    } else for (let j = 0; j < k; j++) out[row + j] = kind === 'binary' ? rng.int(2) : rng.normal();
  }
  return out;
}

/** B.json contents: `n` examples, inputs N(0, 1), targets of the given kind. */
export function batchJson(model: IRModel, n: number, targets: TargetKind, seed: number): Record<string, Nested> {
  const rng = new Rng(seed);
  const out: Record<string, Nested> = {};
  for (const d of model.inputs) {
    const rows: Nested[] = [];
    for (let i = 0; i < n; i++) rows.push(nested(Float64Array.from({ length: size(d.shape) }, () => rng.normal()), d.shape));
    out[d.name] = rows;
  }
  for (const d of model.targets) {
    const rows: Nested[] = [];
    for (let i = 0; i < n; i++) rows.push(nested(targetExample(targets, d.shape, rng), d.shape));
    out[d.name] = rows;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** The floor of the relative error's denominator. */
export const TINY = 1e-12;

export function relError(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), TINY);
}

export interface Worst {
  error: number;
  /** "loss" or "W1[3]" (flat index). */
  where: string;
  ours: number;
  theirs: number;
}

/** The largest element-wise relative error between two {loss, grads} results. */
export function worstError(
  ours: { loss: number | null; grads: Record<string, unknown> },
  theirs: { loss: number | null; grads: Record<string, unknown> },
  names: string[],
): Worst {
  let worst: Worst = { error: relError(ours.loss ?? NaN, theirs.loss ?? NaN), where: 'loss', ours: ours.loss ?? NaN, theirs: theirs.loss ?? NaN };
  for (const name of names) {
    if (!(name in ours.grads) || !(name in theirs.grads)) throw new Error(`no gradient for ${name}`);
    const a = flat(ours.grads[name]);
    const b = flat(theirs.grads[name]);
    if (a.length !== b.length) throw new Error(`${name}: ${a.length} elements against ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      const e = relError(a[i], b[i]);
      if (e > worst.error || Number.isNaN(e)) worst = { error: e, where: `${name}[${i}]`, ours: a[i], theirs: b[i] };
    }
  }
  return worst;
}

export function fmtWorst(w: Worst): string {
  return `${w.error.toExponential(2)} at ${w.where} (ours ${w.ours}, PyTorch ${w.theirs})`;
}
