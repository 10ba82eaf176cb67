/**
 * Tensors as JSON (the `P.json` / `B.json` formats of `nnlens grad`): nested arrays in
 * row-major order. Reading checks the shape against what the model declares and says exactly
 * which key is wrong and how.
 */

import { err, ok, type Result } from '../engine/result';
import { fmtShape, sameShape, sizeOf } from '../engine/shape';

/** A usage error: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** (cli/check.ts reads it from here.) */
export { fmtShape };

/** The shape of a nested array, or a description of why it is not rectangular. */
export function shapeOfNested(v: unknown): Result<number[], string> {
  if (typeof v === 'number') return ok([]);
  if (!Array.isArray(v)) return err(`expected a number or an array, found ${describe(v)}`);
  if (v.length === 0) return ok([0]);
  const first = shapeOfNested(v[0]);
  if (!first.ok) return err(`at [0]: ${first.error}`);
  for (let i = 1; i < v.length; i++) {
    const s = shapeOfNested(v[i]);
    if (!s.ok) return err(`at [${i}]: ${s.error}`);
    if (!sameShape(s.value, first.value)) {
      return err(`ragged array: element [0] has shape ${fmtShape(first.value)} but [${i}] has ${fmtShape(s.value)}`);
    }
  }
  return ok([v.length, ...first.value]);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return typeof v;
}

/** Flattens a nested array of the expected shape into a Float64Array; throws UsageError. */
export function readTensor(file: string, key: string, v: unknown, expected: readonly number[]): Float64Array {
  const s = shapeOfNested(v);
  if (!s.ok) throw new UsageError(`${file}: "${key}" is not a tensor: ${s.error}`);
  if (!sameShape(s.value, expected)) {
    throw new UsageError(`${file}: "${key}" has shape ${fmtShape(s.value)} but the model declares ${fmtShape(expected)}`);
  }
  const out = new Float64Array(sizeOf(expected));
  let i = 0;
  const walk = (x: unknown): void => {
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new UsageError(`${file}: "${key}" holds a non-finite number`);
      out[i++] = x;
    } else for (const y of x as unknown[]) walk(y);
  };
  walk(v);
  return out;
}

/** A flat row-major array as nested arrays of the given shape. */
export function toNested(data: ArrayLike<number>, shape: readonly number[], offset = 0): unknown {
  if (shape.length === 0) return data[offset];
  const [n, ...rest] = shape;
  const stride = sizeOf(rest);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(toNested(data, rest, offset + i * stride));
  return out;
}
