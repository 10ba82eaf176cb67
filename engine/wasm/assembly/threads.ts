// The threaded module's entry point: every kernel of index.ts, over a shared memory imported from
// the host (compiled with `--enable simd,threads --importMemory --sharedMemory`), plus a matrix
// product split by columns between this thread and helper threads (worker_threads running
// `helperLoop` on their own instance of the same module and memory).
//
// The control block (ctlBytes() bytes, 64-byte aligned, in the shared memory):
//   +0    seq      job number; the caller bumps it to start a job (helpers wait on it)
//   +64   pending  helpers still working on the current job (the caller waits on it)
//   +128  quit     1: helpers return from helperLoop
//   +132  ready    helpers that have entered helperLoop
//   +192  the job: transA, transB, M, N, K, a, b, c, accumulate, parts, sparse, lists
// (the hot words on cache lines of their own). Synchronisation: the job is written with plain
// stores, then `seq` is bumped atomically (sequentially consistent: the helpers' atomic read of
// `seq` sees the job); a helper writes its columns of C, then decrements `pending` atomically.
// Both sides spin a while before they sleep in memory.atomic.wait32 — a step's products come tens
// of microseconds apart, and waking a sleeping thread costs about as much.

export * from './index';
import { gemmCols, planSparse, scratchBytes } from './gemm';

const SEQ: usize = 0;
const PENDING: usize = 64;
const QUIT: usize = 128;
const READY: usize = 132;
const JOB: usize = 192;
/** Spins (atomic loads) before sleeping: roughly 100–200 µs. */
const SPIN: i32 = 1 << 17;

export function ctlBytes(): i32 {
  return 256;
}

/** Columns of C per part: the parts' widths, multiples of 16 (the kernels' column blocks). */
function partCols(N: i32, parts: i32): i32 {
  const w = (N + parts - 1) / parts;
  return (w + 15) & ~15;
}

function runPart(ctl: usize, part: i32, scratch: usize): void {
  const j = ctl + JOB;
  const N = load<i32>(j, 12);
  const parts = load<i32>(j, 36);
  const w = partCols(N, parts);
  const j0 = part * w;
  const j1 = min(N, j0 + w);
  if (j0 >= j1) return;
  gemmCols(
    load<i32>(j, 0),
    load<i32>(j, 4),
    load<i32>(j, 8),
    N,
    load<i32>(j, 16),
    load<u32>(j, 20),
    load<u32>(j, 24),
    load<u32>(j, 28),
    load<i32>(j, 32),
    scratch,
    load<i32>(j, 40),
    load<u32>(j, 44),
    j0,
    j1,
  );
}

/**
 * C (+)= op(A)·op(B) as `gemm`, split by columns into `parts` = helpers + 1: this thread computes
 * the first part with `scratch` (scratchBytes() + listBytes() bytes, the sparse lists after the
 * packing space), the helpers the others; returns when all are done. Every helper must be in
 * helperLoop (see `ready`).
 */
export function gemmParallel(
  transA: i32,
  transB: i32,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  b: usize,
  c: usize,
  accumulate: i32,
  scratch: usize,
  ctl: usize,
  parts: i32,
): void {
  const lists = scratch + <usize>scratchBytes();
  const sparse = K > 0 && M > 0 && N > 0 ? planSparse(transA, transB, M, N, K, a, b, lists) : 0;
  const j = ctl + JOB;
  store<i32>(j, transA, 0);
  store<i32>(j, transB, 4);
  store<i32>(j, M, 8);
  store<i32>(j, N, 12);
  store<i32>(j, K, 16);
  store<u32>(j, <u32>a, 20);
  store<u32>(j, <u32>b, 24);
  store<u32>(j, <u32>c, 28);
  store<i32>(j, accumulate, 32);
  store<i32>(j, parts, 36);
  store<i32>(j, sparse, 40);
  store<u32>(j, <u32>lists, 44);
  atomic.store<i32>(ctl + PENDING, parts - 1);
  atomic.add<i32>(ctl + SEQ, 1);
  atomic.notify(ctl + SEQ, parts - 1);
  runPart(ctl, 0, scratch);
  let spins = 0;
  for (;;) {
    const left = atomic.load<i32>(ctl + PENDING);
    if (left == 0) break;
    if (++spins >= SPIN) {
      memory.atomic.wait32(ctl + PENDING, left, -1);
      spins = 0;
    }
  }
}

/**
 * A helper thread's loop: wait for a job, compute part `id` (1 … parts−1) of it with its own
 * packing `scratch`, report, repeat; returns when `quit` is set.
 */
export function helperLoop(ctl: usize, id: i32, scratch: usize): void {
  atomic.add<i32>(ctl + READY, 1);
  atomic.notify(ctl + READY);
  let seen = 0;
  for (;;) {
    let spins = 0;
    let s = atomic.load<i32>(ctl + SEQ);
    while (s == seen) {
      if (++spins >= SPIN) {
        memory.atomic.wait32(ctl + SEQ, seen, -1);
        spins = 0;
      }
      s = atomic.load<i32>(ctl + SEQ);
    }
    seen = s;
    if (atomic.load<i32>(ctl + QUIT) != 0) return;
    runPart(ctl, id, scratch);
    if (atomic.sub<i32>(ctl + PENDING, 1) == 1) atomic.notify(ctl + PENDING, 1);
  }
}
