/** How the debugger writes numbers: six significant digits to read, every digit to copy. */
import { describe, expect, test } from 'vitest';
import { fmt6, nestedFull, summary, withShape } from '../../debug/format';
import { splitComparison } from '../../debug/evaluator';

describe('numbers and tensors in the Variables view', () => {
  test('six significant digits, trailing zeros kept; exact short numbers as they are', () => {
    expect(fmt6(2.125495870984)).toBe('2.12550');
    expect(fmt6(-0.01234567)).toBe('-0.0123457');
    expect(fmt6(1 / 3)).toBe('0.333333');
    expect(fmt6(0.5)).toBe('0.5');
    expect(fmt6(30)).toBe('30');
    expect(fmt6(1.23456789e-7)).toBe('1.23457e-7');
    expect(fmt6(-98765432.1)).toBe('-9.87654e+7');
    expect(fmt6(Infinity)).toBe('Infinity');
    expect(fmt6(NaN)).toBe('NaN');
    expect(fmt6(0)).toBe('0');
  });

  test('a summary: a vector’s first numbers, a matrix’s first rows; the clipboard: every number, nested', () => {
    const v = Float64Array.from({ length: 8 }, (_, i) => i / 7);
    expect(summary(v, [8])).toBe('[0, 0.142857, 0.285714, 0.428571, 0.571429, 0.714286, …]');
    expect(summary(v, [2, 4])).toBe('[[0, 0.142857, 0.285714, …], [0.571429, 0.714286, 0.857143, …]]');
    expect(summary(v, [4, 2])).toBe('[[0, 0.142857], [0.285714, 0.428571], …]');
    expect(withShape(v, [2, 4])).toBe('[2, 4] [[0, 0.142857, 0.285714, …], [0.571429, 0.714286, 0.857143, …]]');
    expect(withShape([2.5], [])).toBe('2.5');
    const full = nestedFull(v, [2, 4]);
    expect(JSON.parse(full)).toEqual([Array.from(v.slice(0, 4)), Array.from(v.slice(4))]);
    expect(full).toContain(String(1 / 7)); // 0.14285714285714285: all 17 digits
  });

  test('a comparison at the top of a condition is split off; inside parentheses or twice it is not', () => {
    expect(splitComparison('max(abs(grad z1)) > 1')).toEqual({ left: 'max(abs(grad z1))', op: '>', right: '1' });
    expect(splitComparison('sum(z) <= -0.5')).toEqual({ left: 'sum(z)', op: '<=', right: '-0.5' });
    expect(splitComparison('a > b > c')).toBeNull();
    expect(splitComparison('relu(a - b)')).toBeNull();
    expect(splitComparison('x =')).toBeNull();
  });
});
