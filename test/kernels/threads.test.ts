/**
 * The threaded WebAssembly backend: helper worker_threads on a shared memory split the large
 * products by columns. Each element of C is computed by one thread exactly as the single-threaded
 * kernel computes it, so the results are bit for bit the same — dense and sparse paths, every
 * transpose, accumulate on and off, offsets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PARALLEL_MIN_MACS, wasmBackend, wasmThreadsSupported, type WasmBackend } from '../../engine/kernels';
import { Rng } from '../../engine/rng';

/** Waits until the helpers have entered their loop (the backend splits nothing before). */
async function ready(be: WasmBackend): Promise<void> {
  const [A, B, C] = be.allocate([64 * 128, 128 * 128, 64 * 128]);
  const deadline = Date.now() + 10_000;
  while (be.parallelProducts === 0) {
    if (Date.now() > deadline) throw new Error('the helper threads never started');
    be.gemm(false, false, 64, 128, 128, A, 0, B, 0, C, 0, false);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!wasmThreadsSupported())('threaded wasm backend', () => {
  const one = wasmBackend();
  const two = wasmBackend({ threads: 2, parallelMinMacs: 1 << 12 });
  const three = wasmBackend({ threads: 3, parallelMinMacs: 1 << 12 });
  afterAll(() => {
    two.dispose();
    three.dispose();
  });

  it('names its threads and leaves a one-thread backend alone', () => {
    expect(one.threads).toBe(1);
    expect(one.name).toBe(one.fma ? 'wasm-simd-fma-f32' : 'wasm-simd-f32');
    expect(two.threads).toBe(2);
    expect(two.name).toBe(`${one.name} (2 threads)`);
    expect(two.fma).toBe(one.fma);
    expect(two.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(PARALLEL_MIN_MACS).toBe(1 << 20);
  });

  it('splits products between threads and gives exactly the single-threaded results', async () => {
    await ready(two);
    await ready(three);
    let split = two.parallelProducts + three.parallelProducts;
    for (const [tA, tB, M, N, K, zeros, acc, off] of [
      [false, true, 64, 128, 784, 0, false, 0], // W2's first layer forward
      [true, false, 128, 784, 64, 0.5, true, 0], // its weight gradient: the sparse path
      [true, false, 128, 784, 64, 0, true, 3],
      [false, false, 64, 128, 64, 0.5, false, 5], // sparse, A not transposed
      [false, true, 64, 128, 784, 0.8, true, 2], // a first layer on digits: sparse, B transposed first
      [true, true, 33, 100, 257, 0, false, 1], // past KC, uneven columns
      [false, false, 129, 1030, 9, 0, true, 0], // past MC and NC
      [false, true, 7, 40, 300, 0, false, 2],
    ] as const) {
      const results: Float32Array[] = [];
      for (const be of [one, two, three]) {
        const [A, B, C] = be.allocate([off + M * K, off + K * N, off + M * N]);
        const r = new Rng(M * 1000 + N);
        for (let i = 0; i < A.length; i++) A[i] = r.uniform() < zeros ? 0 : r.range(-1, 1);
        for (let i = 0; i < B.length; i++) B[i] = r.range(-1, 1);
        for (let i = 0; i < C.length; i++) C[i] = r.range(-1, 1);
        be.gemm(tA, tB, M, N, K, A, off, B, off, C, off, acc);
        results.push((C as Float32Array).slice());
      }
      for (const other of results.slice(1)) {
        let differ = 0;
        for (let i = 0; i < other.length; i++) if (!Object.is(other[i], results[0][i])) differ++;
        expect(differ, `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}×${N}×${K}`).toBe(0);
      }
    }
    expect(two.parallelProducts + three.parallelProducts).toBeGreaterThan(split + 10);
    for (const be of [one, two, three]) expect(be.sparseProducts.transposed, be.name).toBeGreaterThan(0);
    split = two.parallelProducts;
    // below the size at which a split pays, the product stays in this thread
    const [A, B, C] = two.allocate([8 * 8, 8 * 8, 8 * 8]);
    two.gemm(false, false, 8, 8, 8, A, 0, B, 0, C, 0, false);
    expect(two.parallelProducts).toBe(split);
  });

  it('after dispose, products run in the calling thread', () => {
    const be = wasmBackend({ threads: 2, parallelMinMacs: 1 });
    be.dispose();
    const [A, B, C] = be.allocate([4, 4, 4]);
    A.set([1, 2, 3, 4]);
    B.set([1, 0, 0, 1]);
    be.gemm(false, false, 2, 2, 2, A, 0, B, 0, C, 0, false);
    expect(Array.from(C)).toEqual([1, 2, 3, 4]);
    expect(be.parallelProducts).toBe(0);
  });
});
