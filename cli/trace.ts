/**
 * `nnlens trace FILE --model NAME [--example N] [--weights W.json] [--json]` (§10): the forward
 * and backward pass of one example in float64 — every named tensor's value and ∂Cⁿ/∂X, the
 * edges between them, the `backward` block's lines with the user's and the true values.
 *
 * Exit 0 with the trace; 1 when the file has errors (they are printed); 2 on unusable arguments
 * (no such model, an example out of range, weights that do not fit the model).
 */
import { dirname, resolve } from 'node:path';
import { traceJson, traceModel, type Trace, type TraceNode } from '../engine/session/trace';
import { formatDiagnostic, sortDiagnostics, toCliDiagnostic } from './diagnostics';
import { readParams } from './grad';
import { analyzeCliFile } from './load';
import { fmtShape, UsageError } from './tensorJson';

export interface TraceOptions {
  model?: string;
  example?: string;
  weights?: string;
  workspaceRoot?: string;
}

/** The trace a command asked for, or the exit code after the errors were printed. */
export async function loadTrace(file: string, opts: TraceOptions, command: string): Promise<Trace | number> {
  if (!opts.model) throw new UsageError(`nnlens ${command} needs --model NAME`);
  let example = 1;
  if (opts.example !== undefined) {
    example = Number(opts.example);
    if (!/^\s*\d+\s*$/.test(opts.example) || !Number.isSafeInteger(example) || example < 1) {
      throw new UsageError(`--example must be a positive whole number (1 is the first example), not ${opts.example}`);
    }
  }
  const analysis = await analyzeCliFile(file, opts.workspaceRoot);
  const known = [...analysis.program.models.map((m) => m.name), ...analysis.skippedModels];
  if (!known.includes(opts.model)) {
    throw new UsageError(`${file} has no model ${opts.model}${known.length ? ` (models: ${known.join(', ')})` : ''}`);
  }
  const errors = sortDiagnostics(analysis.diagnostics.filter((d) => d.severity === 'error').map(toCliDiagnostic));
  const model = analysis.program.models.find((m) => m.name === opts.model);
  if (!model || errors.length) {
    for (const d of errors) process.stderr.write(formatDiagnostic(file, d, false) + '\n');
    const what = model ? `${file} has ${errors.length} error${errors.length === 1 ? '' : 's'}` : `model ${opts.model} has errors`;
    process.stderr.write(`${what}; nothing traced\n`);
    return 1;
  }
  const params = opts.weights ? readParams(opts.weights, model) : undefined;
  const r = traceModel({
    program: analysis.program,
    model: model.name,
    example,
    ctx: { baseDir: dirname(resolve(file)), workspaceRoot: opts.workspaceRoot },
    params,
    weightsLabel: opts.weights ? `the weights of ${opts.weights}` : 'the initial weights',
  });
  if (!r.ok) throw new UsageError(r.error.message);
  return r.value;
}

export async function runTrace(file: string, opts: TraceOptions & { json: boolean }): Promise<number> {
  const t = await loadTrace(file, opts, 'trace');
  if (typeof t === 'number') return t;
  if (opts.json) process.stdout.write(JSON.stringify(traceJson(t)) + '\n');
  else process.stdout.write(traceText(t));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The readable form

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
}

/** A tensor in one short line: all of it when small, else its first numbers and its range. */
export function fmtTensor(v: ArrayLike<number>, max = 6): string {
  const n = v.length;
  if (n === 0) return '[]';
  if (n === 1) return fmtNum(v[0]);
  const head = Array.from({ length: Math.min(n, max) }, (_, i) => fmtNum(v[i])).join(', ');
  if (n <= max) return `[${head}]`;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  return `[${head}, … ${n - max} more] (min ${fmtNum(lo)}, max ${fmtNum(hi)})`;
}

export function traceText(t: Trace): string {
  const out: string[] = [];
  const src = t.examples.source === 'random' ? 'the random check data' : `data ${t.examples.source}`;
  out.push(`${t.model}: example ${t.example} of ${t.examples.count} (${src}), ${t.weights} — loss C = ${fmtNum(t.loss)}`);
  if (t.nonFinite) out.push(`warning: ${t.nonFinite}`);
  const amp = new Map(t.amplifiers.map((a) => [a.statement, a]));
  const label = (x: TraceNode) => `∂C/∂${x.name}`;
  const width = Math.max(6, ...t.nodes.map((x) => label(x).length));
  for (const x of t.nodes) {
    const what = x.expr !== null ? `${x.kind === 'loss' ? 'loss ' : ''}${x.name} = ${x.expr}` : `${x.kind} ${x.name}`;
    out.push('', `${what}: ${fmtShape(x.shape)} (line ${x.line})`);
    out.push(`  ${'value'.padEnd(width)}  ${fmtTensor(x.value)}`);
    if (x.grad) out.push(`  ${label(x).padEnd(width)}  ${fmtTensor(x.grad)}`);
    const a = amp.get(x.name);
    if (a) out.push(`  ${`${a.fn}′(z)`.padEnd(width)}  ${fmtTensor(a.slope)}   (the amplifier: ∂C/∂z = ${a.fn}′(z) × ∂C/∂${x.name}, z = ${a.zText})`);
  }
  if (t.backward.length) {
    out.push('', 'backward block (yours against the true gradient):');
    for (const l of t.backward) {
      const mark = l.status === 'ok' ? '✓' : l.status === 'wrong' ? '✗' : l.status === 'dependent' ? '≈' : '?';
      out.push(`  ${mark} line ${l.line}: grad ${l.name}`);
      out.push(`      yours ${l.user ? fmtTensor(l.user) : 'cannot be evaluated'}`, `      true  ${fmtTensor(l.truth)}`);
      if (l.status === 'wrong' || l.status === 'dependent') out.push(`      ${l.message}`);
    }
  }
  out.push('', `edges: ${t.edges.map((e) => `${e.from} -${e.op}→ ${e.to}`).join(', ')}`, '');
  return out.join('\n');
}
