/**
 * The shape rules of §3 as pure functions on per-example shapes. Each returns the result shape or
 * an error message that names the operation, both shapes and the rule.
 */
import type { Shape } from '../engine/ir';

export type RuleResult = { shape: Shape } | { error: string };

export function fmtShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/** Number of elements (a float: absurd shapes give huge or infinite counts, never allocation). */
export function numel(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const BROADCAST_RULE = 'rule: NumPy broadcasting (dimensions aligned from the right must be equal or 1)';

/** NumPy broadcasting of two shapes; undefined when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): Shape | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return undefined;
  }
  return out;
}

/** The first pair of right-aligned dimensions that do not broadcast. */
function broadcastConflict(a: Shape, b: Shape): [number, number] {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return [da, db];
  }
  return [0, 0];
}

const OP_NAMES: Record<string, string> = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide' };

/** `a + b`, `a - b`, `a * b`, `a / b`. */
export function elementwiseRule(op: string, a: Shape, b: Shape): RuleResult {
  const shape = broadcastShapes(a, b);
  if (shape) return { shape };
  const [da, db] = broadcastConflict(a, b);
  return {
    error:
      `${OP_NAMES[op] ?? op} ${fmtShape(a)} ${op} ${fmtShape(b)}: shapes do not broadcast ` +
      `(${da} vs ${db}); ${BROADCAST_RULE}`,
  };
}

/** Arguments of a user function (elementwise): all broadcast together. */
export function broadcastArgsRule(name: string, shapes: Shape[]): RuleResult {
  let acc: Shape = [];
  for (let i = 0; i < shapes.length; i++) {
    const next = broadcastShapes(acc, shapes[i]);
    if (!next) {
      const [da, db] = broadcastConflict(acc, shapes[i]);
      return {
        error:
          `${name}(${shapes.map(fmtShape).join(', ')}): argument shapes do not broadcast (${da} vs ${db}); ` +
          `a function is elementwise, so its arguments follow ${BROADCAST_RULE.replace('rule: ', '')}`,
      };
    }
    acc = next;
  }
  return { shape: acc };
}

const MATMUL_RULES = '[m,n] @ [n] -> [m], [m,n] @ [n,k] -> [m,k], [n] @ [n,k] -> [k], [n] @ [n] -> []';

/** `A @ B`, the four forms of §3. */
export function matmulRule(a: Shape, b: Shape): RuleResult {
  const head = `matmul ${fmtShape(a)} @ ${fmtShape(b)}`;
  if (a.length === 0 || b.length === 0) {
    return {
      error:
        `${head}: a scalar cannot be matrix-multiplied (use * to scale); ` +
        `rule: both operands are vectors or matrices (${MATMUL_RULES})`,
    };
  }
  if (a.length > 2 || b.length > 2) {
    const which = a.length > 2 ? `left operand has rank ${a.length}` : `right operand has rank ${b.length}`;
    return { error: `${head}: ${which}; rule: both operands are vectors or matrices (${MATMUL_RULES})` };
  }
  const inner = (x: number, y: number, form: string, out: Shape): RuleResult =>
    x === y ? { shape: out } : { error: `${head}: inner dimensions differ (${x} vs ${y}); rule ${form}` };
  if (a.length === 2 && b.length === 1) return inner(a[1], b[0], '[m,n] @ [n] -> [m]', [a[0]]);
  if (a.length === 2 && b.length === 2) return inner(a[1], b[0], '[m,n] @ [n,k] -> [m,k]', [a[0], b[1]]);
  if (a.length === 1 && b.length === 2) return inner(a[0], b[0], '[n] @ [n,k] -> [k]', [b[1]]);
  return inner(a[0], b[0], '[n] @ [n] -> []', []);
}

export function transposeRule(a: Shape): RuleResult {
  if (a.length === 2) return { shape: [a[1], a[0]] };
  return { error: `transpose ${fmtShape(a)}: needs a matrix, got rank ${a.length}; rule [m,n] -> [n,m]` };
}

export function outerRule(u: Shape, v: Shape): RuleResult {
  if (u.length === 1 && v.length === 1) return { shape: [u[0], v[0]] };
  const bad = u.length !== 1 ? `first argument has rank ${u.length}` : `second argument has rank ${v.length}`;
  return { error: `outer(${fmtShape(u)}, ${fmtShape(v)}): needs two vectors, ${bad}; rule [m], [n] -> [m,n]` };
}

export function dotRule(u: Shape, v: Shape): RuleResult {
  const head = `dot(${fmtShape(u)}, ${fmtShape(v)})`;
  if (u.length !== 1 || v.length !== 1) {
    const bad = u.length !== 1 ? `first argument has rank ${u.length}` : `second argument has rank ${v.length}`;
    return { error: `${head}: needs two vectors, ${bad}; rule [n], [n] -> []` };
  }
  if (u[0] !== v[0]) return { error: `${head}: sizes differ (${u[0]} vs ${v[0]}); rule [n], [n] -> []` };
  return { shape: [] };
}

export function lastAxisRule(name: string, a: Shape): RuleResult {
  if (a.length >= 1) return { shape: a.slice() };
  return {
    error: `${name} ${fmtShape(a)}: works over the last axis and a scalar has none; rule: rank >= 1, same shape`,
  };
}

export function lossRule(name: string, y: Shape, t: Shape): RuleResult {
  const head = `${name}(${fmtShape(y)}, ${fmtShape(t)})`;
  if (name === 'cross_entropy') {
    if (y.length === 0 || t.length === 0) {
      return { error: `${head}: needs class vectors, got a scalar; rule [k], [k] -> []` };
    }
    if (!sameShape(y, t)) return { error: `${head}: shapes differ; rule [k], [k] -> []` };
    return { shape: [] };
  }
  if (!sameShape(y, t)) return { error: `${head}: shapes differ; rule: equal shapes -> []` };
  return { shape: [] };
}

export function denseRule(a: Shape, n: number): RuleResult {
  if (a.length === 1) return { shape: [n] };
  return {
    error: `dense(${fmtShape(a)}, ${n}): the input must be a vector [d], got rank ${a.length}; rule [d] -> [${n}]`,
  };
}
