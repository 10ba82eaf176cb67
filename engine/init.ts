/**
 * Initial parameter values (§2: `param NAME: [..] = INIT`, default glorot).
 *
 * Each param draws from its own generator, seeded from hash(seed, name): a param's initial
 * values depend only on the seed, its name, shape and init — adding, removing or reordering
 * other params changes nothing.
 *
 * Fans, as PyTorch (`torch.nn.init._calculate_fan_in_and_fan_out`) for rank ≥ 2:
 *   shape [out, in, k1, k2, …]: fan_in = in · k1·k2·…, fan_out = out · k1·k2·…
 * PyTorch refuses rank < 2; we choose: a vector [n] has fan_in = fan_out = n, a scalar 1.
 *
 *   glorot: U(−a, a), a = sqrt(6 / (fan_in + fan_out))   (torch xavier_uniform_, gain 1)
 *   he:     N(0, 2 / fan_in)                               (torch kaiming_normal_, fan_in, relu)
 */
import type { InitSpec, IRModel, IRParam, Shape } from './ir';
import { Rng } from './rng';

export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let receptive = 1;
  for (let k = 2; k < shape.length; k++) receptive *= shape[k];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** A 32-bit seed from a numeric seed and a name (FNV-1a over the name, mixed with the seed). */
export function paramSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (Math.floor(seed) >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  h ^= Math.floor(seed / 4294967296) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fills `out` with the initial values of a param. */
export function initParam(param: Pick<IRParam, 'name' | 'shape' | 'init'>, seed: number, out: Float64Array | Float32Array): void {
  const rng = new Rng(paramSeed(seed, param.name));
  const init: InitSpec = param.init;
  const n = out.length;
  switch (init.kind) {
    case 'zeros':
      out.fill(0);
      return;
    case 'ones':
      out.fill(1);
      return;
    case 'constant':
      out.fill(init.value);
      return;
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = rng.normal(init.mean, init.std);
      return;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = rng.range(init.lo, init.hi);
      return;
    case 'glorot': {
      const { fanIn, fanOut } = fans(param.shape);
      const a = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) out[i] = rng.range(-a, a);
      return;
    }
    case 'he': {
      const { fanIn } = fans(param.shape);
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
      return;
    }
  }
}

/** Initial values of every param of a model, by name (flat, row-major, float64). */
export function initParams(model: IRModel, seed: number): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const p of model.params) {
    const a = new Float64Array(p.size);
    initParam(p, seed, a);
    out[p.name] = a;
  }
  return out;
}
