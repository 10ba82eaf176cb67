/** Shared helpers of the engine tests: random data and an independent central-difference check. */
import { expect } from 'vitest';
import type { IRModel, IRProgram } from '../../engine/ir';
import { Rng } from '../../engine/rng';
import { compileModel, type CompiledModel, type CompileOptions } from '../../engine/exec/program';
import { referenceBackend } from '../../engine/kernels/backend';

export function randn(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Compiles in float64 'all' mode, loads random params and data. */
export function setup(
  prog: IRProgram,
  model: IRModel,
  B: number,
  seed = 1,
  opts: CompileOptions = {},
): CompiledModel {
  const p = compileModel(prog, model, referenceBackend('f64'), { grads: 'all', ...opts });
  p.setBatchSize(B);
  const rng = new Rng(seed);
  for (const k of Object.keys(p.params)) p.params[k].set(randn(rng, p.params[k].length));
  for (const k of Object.keys(p.data)) p.data[k].set(randn(rng, p.data[k].length));
  return p;
}

/**
 * Central differences of the loss with respect to every element of `buf` (a param or input
 * buffer of the program), step h.
 */
export function numericGrad(p: CompiledModel, buf: Float64Array | Float32Array, h = 1e-6): Float64Array {
  const out = new Float64Array(buf.length);
  for (let i = 0; i < buf.length; i++) {
    const x = buf[i];
    buf[i] = x + h;
    const up = p.forward();
    buf[i] = x - h;
    const down = p.forward();
    buf[i] = x;
    out[i] = (up - down) / (2 * h);
  }
  p.forward();
  return out;
}

/** Asserts analytic ≈ numeric elementwise: |a − n| ≤ tol · max(1, |a|, |n|). */
export function expectClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, tol = 1e-6, what = ''): void {
  expect(analytic.length).toBe(numeric.length);
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i];
    const n = numeric[i];
    const err = Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
    if (!(err <= tol)) {
      throw new Error(`${what}[${i}]: analytic ${a} vs numeric ${n} (error ${err} > ${tol})`);
    }
  }
}

/**
 * Checks every param's and every input's/target's analytic gradient against central
 * differences. The program must be compiled with grads: 'all'.
 */
export function checkAllGradients(p: CompiledModel, tol = 1e-6): void {
  p.forward();
  p.backward();
  for (const [name, buf] of Object.entries(p.params)) {
    const analytic = Float64Array.from(p.grads[name]);
    expectClose(analytic, numericGrad(p, buf), tol, `param ${name}`);
  }
  for (const [name, buf] of Object.entries(p.data)) {
    const id = p.dataNodeId(name)!;
    const g = p.grad(id);
    if (!g) continue;
    const analytic = Float64Array.from(g);
    expectClose(analytic, numericGrad(p, buf), tol, `data ${name}`);
  }
}
