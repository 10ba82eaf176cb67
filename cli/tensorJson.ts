/**
 * Tensors as JSON (the `P.json` / `B.json` formats of `nnlens grad`): nested arrays in
 * row-major order. Reading checks the shape against what the model declares and says exactly
 * which key is wrong and how.
 */

/** A usage error: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The shape of a nested array, or a description of why it is not rectangular. */
export function shapeOfNested(v: unknown): { shape: number[] } | { error: string } {
  if (typeof v === 'number') return { shape: [] };
  if (!Array.isArray(v)) return { error: `expected a number or an array, found ${describe(v)}` };
  if (v.length === 0) return { shape: [0] };
  const first = shapeOfNested(v[0]);
  if ('error' in first) return { error: `at [0]: ${first.error}` };
  for (let i = 1; i < v.length; i++) {
    const s = shapeOfNested(v[i]);
    if ('error' in s) return { error: `at [${i}]: ${s.error}` };
    if (fmtShape(s.shape) !== fmtShape(first.shape)) {
      return { error: `ragged array: element [0] has shape ${fmtShape(first.shape)} but [${i}] has ${fmtShape(s.shape)}` };
    }
  }
  return { shape: [v.length, ...first.shape] };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return typeof v;
}

/** Flattens a nested array of the expected shape into a Float64Array; throws UsageError. */
export function readTensor(file: string, key: string, v: unknown, expected: readonly number[]): Float64Array {
  const s = shapeOfNested(v);
  if ('error' in s) throw new UsageError(`${file}: "${key}" is not a tensor: ${s.error}`);
  if (fmtShape(s.shape) !== fmtShape(expected)) {
    throw new UsageError(`${file}: "${key}" has shape ${fmtShape(s.shape)} but the model declares ${fmtShape(expected)}`);
  }
  const out = new Float64Array(expected.reduce((a, b) => a * b, 1));
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
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(toNested(data, rest, offset + i * stride));
  return out;
}
