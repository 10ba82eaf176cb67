/**
 * The formatter keeps column alignment (issue 9): runs aligned by hand, as in
 * examples/digits.nn, stay aligned — re-aligned where spacing or indentation changes — and the
 * lecture's notation (Greek names, comparisons) is spaced like any other operator.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NnFormatter } from '../../server/formatter';
import { createServices, example } from './helpers';

const { Nn } = createServices();
afterAll(() => Nn.lens.Engine.dispose());
const formatter = Nn.lsp.Formatter as NnFormatter;
const format = (text: string) => formatter.format(text, { tabSize: 2, insertSpaces: true })!.join('\n');

describe('column alignment', () => {
  it('leaves digits.nn and lecture.nn as written: their aligned columns stay', () => {
    for (const f of ['digits.nn', 'lecture.nn']) expect(format(example(f)), f).toBe(example(f));
    expect(format(example('digits.nn'))).toContain('  input  x: [256]');
    expect(format(example('digits.nn'))).toContain('  param b1: [H]      = zeros');
    expect(format(example('digits.nn'))).toContain('  y  = softmax(z2)');
  });

  it('re-aligns a run whose spacing and indentation change, and is idempotent', () => {
    const before = [
      'model M {',
      'input  x:[256]',
      'target t:[10]',
      'param W1:[H,256] = normal(0,0.1)',
      'param b1:[H]     = zeros',
      'z1 = W1@x+b1',
      'y  = softmax(z1)',
      'loss C=cross_entropy(y,t)',
      '}',
    ].join('\n');
    const after = [
      'model M {',
      '  input  x: [256]',
      '  target t: [10]',
      '  param W1: [H, 256] = normal(0, 0.1)',
      '  param b1: [H]      = zeros',
      '  z1 = W1 @ x + b1',
      '  y  = softmax(z1)',
      '  loss C = cross_entropy(y, t)',
      '}',
    ].join('\n');
    expect(format(before)).toBe(after);
    expect(format(after)).toBe(after);
  });

  it('does not align what was not aligned, and spaces comparisons and Greek names', () => {
    const before = ['model M {', 'input x:[2]', 'target  t:[1]', 'σz=W@x', 'ŷ=(σz>=0)*(x<-1)', '}'].join('\n');
    expect(format(before)).toBe(['model M {', '  input x: [2]', '  target t: [1]', '  σz = W @ x', '  ŷ = (σz >= 0) * (x < -1)', '}'].join('\n'));
  });
});
