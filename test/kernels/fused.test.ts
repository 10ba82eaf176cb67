import { describe, expect, it } from 'vitest';
import { biasGradient } from '../../engine/kernels';

describe('biasGradient', () => {
  it('sums the columns, overwriting or accumulating', () => {
    const dZ = Float32Array.from([9, 1, 2, 3, 4, 5, 6]); // offset 1: [[1,2,3],[4,5,6]]
    const db = Float32Array.from([7, 7, 7]);
    biasGradient(2, 3, dZ, 1, db, 0, false);
    expect(Array.from(db)).toEqual([5, 7, 9]);
    biasGradient(2, 3, dZ, 1, db, 0, true);
    expect(Array.from(db)).toEqual([10, 14, 18]);
  });
});
