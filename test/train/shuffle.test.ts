import { describe, expect, it } from 'vitest';
import { EpochShuffler } from '../../engine/index';
import { EpochOrder } from '../../engine/train/shuffle';

describe('EpochOrder', () => {
  it.each([
    [1, 0],
    [2, 1],
    [3, 42],
    [17, 7],
    [1000, 3_735_928_559],
    [1800, 2.5],
    [513, -9],
    [64, 2 ** 40 + 3],
  ])('gives EpochShuffler’s orders, epoch after epoch (n = %i, seed %d)', (n, seed) => {
    const a = new EpochShuffler(n, seed);
    const b = new EpochOrder(n, seed);
    for (let e = 0; e < 6; e++) expect(Array.from(b.next())).toEqual(Array.from(a.next()));
    expect(b.order).toBe(b.next()); // one array, reshuffled in place
  });
});
