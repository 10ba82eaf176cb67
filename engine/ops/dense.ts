/**
 * `dense(a, n, act)`: language sugar for a fully connected layer. The language creates its
 * params and lowers it to matmul → add → the activation (language/lower.ts); the engine never
 * sees a dense node.
 */
import { err, ok } from '../result';
import { fmtShape } from '../shape';
import type { SugarEntry } from './types';

export const dense: SugarEntry = {
  name: 'dense',
  sugar: true,
  syntax: { kind: 'call' },
  params: [{ name: 'a' }, { name: 'n', kind: 'number' }, { name: 'act', kind: 'activation', optional: true }],
  doc:
    'Fully connected layer act(W a + b): creates params NAME.W: [n, d] (glorot) and NAME.b: [n] (zeros), ' +
    'where NAME is the named value the call belongs to. act: any one-argument built-in, softmax, ' +
    'log_softmax, or a one-argument function.',
  rule: '[d] -> [n]',
  shape([a], { n = 0 }) {
    if (a.length === 1) return ok([n]);
    return err(`dense(${fmtShape(a)}, ${n}): the input must be a vector [d], got rank ${a.length}; rule [d] -> [${n}]`);
  },
};
