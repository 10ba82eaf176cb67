// What a debugger hover evaluates on a .nn line (client/debug/expressions.ts; no VS Code needed).
import { describe, expect, it } from 'vitest';
import { expressionAt } from '../../client/debug/expressions';

const at = (line: string, needle: string, offset = 0) => expressionAt(line, line.indexOf(needle) + offset)?.expression;

describe('the expression under the mouse', () => {
  it('a name, a dense layer’s param, a gradient', () => {
    const line = '  z2 = W2 @ a1 + b2';
    expect(at(line, 'W2')).toBe('W2');
    expect(at(line, 'W2', 1)).toBe('W2');
    expect(at(line, 'a1', 2)).toBe('a1'); // just after the name
    expect(at(line, 'z2')).toBe('z2');
    expect(at('  y = h.W @ x', 'h.W')).toBe('h.W');
    expect(at('  y = h.W @ x', 'W')).toBe('h.W');
    const g = '    grad W1 = outer(grad z1, x)';
    expect(at(g, 'W1')).toBe('grad W1');
    expect(at(g, 'z1')).toBe('grad z1');
    expect(at(g, 'grad z1')).toBe('grad z1');
    expect(expressionAt(g, g.indexOf('grad z1'))).toEqual({ expression: 'grad z1', start: g.indexOf('grad z1'), end: g.indexOf('grad z1') + 7 });
    expect(at(g, 'x')).toBe('x');
  });

  it('nothing for keywords, numbers, calls and blanks', () => {
    expect(at('  param W1: [30, 256] = normal(0, 0.1)', 'param')).toBeUndefined();
    expect(at('  param W1: [30, 256] = normal(0, 0.1)', '256')).toBeUndefined();
    expect(at('  param W1: [30, 256] = normal(0, 0.1)', 'normal')).toBeUndefined();
    expect(at('  a1 = sigmoid(z1)', 'sigmoid')).toBeUndefined();
    expect(at('  a1 = sigmoid(z1)', 'z1')).toBe('z1');
    expect(expressionAt('  a1 = sigmoid(z1)', 0)).toBeUndefined();
  });
});
