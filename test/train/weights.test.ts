/**
 * The weights file (P.json): written fast, it must be exactly what its definition says — each
 * number the shortest decimal (from 6 significant digits) that reads back as the same float32,
 * printed as JSON prints that number, nested as the param's shape, one param per line.
 */
import { describe, expect, it } from 'vitest';
import { Rng, shortestFloat32, weightsJson } from '../../engine/index';

/** The definition, the slow way: toPrecision(6, 7, 8, 9) until Math.fround gives the float32 back. */
function definition(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const f = Math.fround(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return Number(f.toPrecision(9));
}

function nested(v: ArrayLike<number>, shape: number[], at = 0): unknown {
  if (shape.length === 0) return definition(v[at]);
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nested(v, rest, at + i * stride));
}

/** Float32s of every kind: weights-like, any bit pattern, subnormal, huge, round numbers. */
function samples(n: number): Float64Array {
  const rng = new Rng(11);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = new Float64Array(n);
  const fixed = [0.5, 1, -2, 100, 1e-7, 3e-45, 1.4e-45, 3.4028234663852886e38, 1e21, 1e22, 123456790, 0.1, -0.30000001192092896, 1e-6, 9.999999e-7];
  for (let i = 0; i < n; i++) {
    if (i < fixed.length) out[i] = Math.fround(fixed[i]);
    else if (i % 3 === 0) {
      u[0] = Math.floor(rng.uniform() * 2 ** 32);
      out[i] = Number.isFinite(f[0]) ? f[0] : 1;
    } else out[i] = Math.fround(rng.normal() * 10 ** rng.range(-40, 38));
  }
  return out;
}

describe('weights files', () => {
  it('each number is the shortest decimal that reads back as the same float32 (300,000 of every kind)', () => {
    const v = samples(300_000);
    let differ = 0;
    for (let i = 0; i < v.length; i++) {
      const got = shortestFloat32(v[i]);
      if (!Object.is(got, definition(v[i]))) differ++;
      if (Math.fround(got) !== Math.fround(v[i])) throw new Error(`${v[i]} does not read back: ${got}`);
    }
    expect(differ).toBe(0);
  });

  it('the file is the definition’s JSON, one param per line, and reads back as the same float32s', () => {
    const v = samples(20_000);
    const params = [
      { name: 'W1', shape: [100, 150] },
      { name: 'h.W', shape: [3, 4, 5] },
      { name: 'b', shape: [17] },
      { name: 's', shape: [] as number[] },
    ];
    const values: Record<string, Float64Array> = {};
    let at = 0;
    for (const p of params) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      values[p.name] = v.slice(at, at + n);
      at += n;
    }
    values.b[3] = NaN; // written as null, as JSON.stringify does
    const text = weightsJson(params, values);
    const expected = `{\n${params.map((p) => `  ${JSON.stringify(p.name)}: ${JSON.stringify(nested(values[p.name], p.shape))}`).join(',\n')}\n}\n`;
    expect(text).toBe(expected);
    const back = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['W1', 'h.W', 'b', 's']);
    const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
    for (const p of params) {
      const got = flat(back[p.name]);
      got.forEach((g, i) => {
        const want = values[p.name][i];
        if (Number.isNaN(want)) expect(g).toBeNull();
        else expect(Math.fround(g)).toBe(Math.fround(want));
      });
    }
  });
});
