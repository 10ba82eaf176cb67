/**
 * Shape rules several ops share. Each returns the per-example result shape or a message that
 * names the operation, the shapes and the rule (spec §3); the language reports the message as a
 * `shape-mismatch` diagnostic, the executor refuses a hand-built IR with it.
 */
import type { Shape } from '../ir';
import { err, ok, type Result } from '../result';
import { broadcastConflict, broadcastShapes, fmtShape } from '../shape';

export type ShapeResult = Result<Shape, string>;

export const BROADCAST_RULE = 'rule: NumPy broadcasting (dimensions aligned from the right must be equal or 1)';

/** An elementwise function of one tensor: the shape of its argument. */
export function sameAsFirst(args: readonly Shape[]): ShapeResult {
  return ok(args[0].slice());
}

/** A reduction of one example to a scalar. */
export function scalarResult(): ShapeResult {
  return ok([]);
}

/** `a OP b` elementwise: NumPy broadcasting. */
export function broadcastRule(verb: string, symbol: string, a: Shape, b: Shape): ShapeResult {
  const shape = broadcastShapes(a, b);
  if (shape) return ok(shape);
  const [da, db] = broadcastConflict(a, b);
  return err(`${verb} ${fmtShape(a)} ${symbol} ${fmtShape(b)}: shapes do not broadcast (${da} vs ${db}); ${BROADCAST_RULE}`);
}
