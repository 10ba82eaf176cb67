// WebAssembly SIMD float32 matrix product, written in AssemblyScript.
// Compiled by scripts/gen-wasm.mjs (`asc --enable simd -O3 --runtime stub`); loaded by
// engine/kernels/wasm.ts, which owns the memory layout.
//
//   C[M×N] (+)= op(A)[M×K] · op(B)[K×N]     (row-major; the contract of referenceGemm)
//
// Pointers are byte addresses in this module's linear memory; `scratch` points at
// scratchBytes() bytes that the caller reserved for packing.
//
// The shape of the computation (a small version of the BLIS/GotoBLAS scheme):
//   for each block of KC values of k:
//     for each block of NC columns: pack op(B) into panels of NR = 8 columns, k-major
//       for each block of MC rows:  pack op(A) into panels of MR = 4 rows, k-major
//         for each 4×8 tile of C: the micro-kernel — 8 f32x4 accumulators; per k it loads
//         8 B values (two vectors) and broadcasts 4 A values, 8 multiply-adds (64 flops; see madd).
// Packing turns every transpose variant into the same contiguous micro-kernel input and pads
// the edges with zeros, so the micro-kernel never branches; a partial tile at the bottom or
// right edge goes through a small buffer and only its valid part is stored.
//
// A sparse op(A) (the gradient of a relu layer: half of it exact zeros; a batch of digits, the input
// of a first layer: about 80%) takes another path (`gemmSparse`), with B row-major or, stored N×K,
// transposed first (planSparse): each row of op(A) becomes a list of its nonzero (k, value) pairs,
// and each row of C is Σ over that list of value · B[k, ·], 28 columns at a time in seven
// vector accumulators (eight make V8 spill them), then 16, the B block L1-resident. Zero terms add nothing to a float sum (except
// the sign of a zero sum, and 0·∞ = NaN, which B of finite values never has), so it gives the
// dense kernel's result at the cost of the nonzero terms only.
//
// Every entry point computes the columns [j0, j1) of C (`gemmCols`), which is how the threaded
// module (threads.ts) splits a product between workers.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 1024;

const PACK_A_BYTES: i32 = MC * KC * 4;
const PACK_B_BYTES: i32 = KC * NC * 4;
const TILE_BYTES: i32 = MR * NR * 4;

/** Sparse path: at most this many rows of op(A), and rows × K entries, in the lists. */
const LIST_ROWS: i32 = 4096;
const LIST_ENTRIES: i32 = 1 << 17;
/** …and a B stored N×K (transB) of at most BT_BYTES, transposed after them into K×N. */
const BT_BYTES: i32 = 1 << 20;
const BT_OFFSET: i32 = LIST_ROWS * 4 + LIST_ENTRIES * 8;
const LIST_BYTES: i32 = BT_OFFSET + BT_BYTES;
/** Columns of C per block of the sparse kernel: 16 (4 vectors), after blocks of 28 (7 vectors). */
const SB: i32 = 16;
const SB7: i32 = 28;

/** Bytes of scratch memory `gemm` needs (packed A block, packed B block, one edge tile). */
export function scratchBytes(): i32 {
  return PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
}

/** Bytes of the sparse path's lists (after the scratch of `gemm`). */
export function listBytes(): i32 {
  return LIST_BYTES;
}

// The sparse path is on unless a test turns it off (setSparse(0)) to compare it with the dense kernel.
let sparseOn: bool = true;

/** Products planned for the sparse path so far: [B row-major, B transposed]. */
let sparseRowMajor: i32 = 0;
let sparseTransposed: i32 = 0;

/** Turns the sparse path on (1, the default) or off (0) for this instance. */
export function setSparse(on: i32): void {
  sparseOn = on != 0;
}

/** How many products took the sparse path: with B row-major (transposed: 0), or stored N×K (1). */
export function sparseProducts(transposed: i32): i32 {
  return transposed ? sparseTransposed : sparseRowMajor;
}

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

// c + a·b, four lanes. In the build with relaxed SIMD (ASC_FEATURE_RELAXED_SIMD, the "fma" modules of
// scripts/gen-wasm.mjs) a fused multiply-add, one rounding, where the CPU has one (x64 FMA3, arm64);
// else a multiply and an add. Every kernel of this file adds its terms through it in the same order,
// so the dense, sparse and threaded paths of one build give the same bits up to K = KC; past it the
// dense kernel adds each KC block's sum to C, while the sparse kernel sums all of k in one chain.
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// A row piece of C from an accumulator: stored, or added to what C holds (C + acc, in that order).
@inline
function putC(p: usize, acc: v128, add: bool): void {
  v128.store(p, add ? f32x4.add(v128.load(p), acc) : acc);
}

// Stores the transpose of the 4×4 block whose rows are r0..r3 as four vectors, `stride` bytes
// apart: column q of the block (r0[q], r1[q], r2[q], r3[q]) goes to dst + q·stride.
@inline
function storeTransposed4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // r2[0] r3[0] r2[1] r3[1]
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // r0[2] r1[2] r0[3] r1[3]
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // r2[2] r3[2] r2[3] r3[3]
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

// Packs rows [i0, i0+mc) × k-range [k0, k0+kc) of op(A) into MR-row panels:
// dst[panel][k][r] = op(A)(i0 + panel·MR + r, k0 + k), zero beyond row M.
@inline
function packA(transA: bool, M: i32, K: i32, a: usize, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const i = i0 + p;
    if (transA) {
      // A stored K×M: op(A)(i, k) = A[k·M + i]; four rows are adjacent in memory.
      let src = a + (<usize>k0 * M + i) * 4;
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += <usize>M * 4;
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(dst + r * 4, r < rows ? load<f32>(src + r * 4) : 0);
          src += <usize>M * 4;
          dst += 16;
        }
      }
    } else {
      // A stored M×K: op(A)(i, k) = A[i·K + k].
      const src = a + (<usize>i * K + k0) * 4;
      const ld = <usize>K * 4;
      if (rows == MR) {
        // four k at a time: load 4 k-values of each row, transpose the 4×4 block
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const s = src + <usize>k * 4;
          storeTransposed4(v128.load(s), v128.load(s + ld), v128.load(s + 2 * ld), v128.load(s + 3 * ld), dst, 16);
          dst += 64;
        }
        for (; k < kc; k++) {
          const s = src + <usize>k * 4;
          store<f32>(dst, load<f32>(s));
          store<f32>(dst, load<f32>(s + ld), 4);
          store<f32>(dst, load<f32>(s + 2 * ld), 8);
          store<f32>(dst, load<f32>(s + 3 * ld), 12);
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(dst + r * 4, r < rows ? load<f32>(src + <usize>r * ld + <usize>k * 4) : 0);
          dst += 16;
        }
      }
    }
  }
}

// Packs k-range [k0, k0+kc) × columns [j0, j0+nc) of op(B) into NR-column panels:
// dst[panel][k][c] = op(B)(k0 + k, j0 + panel·NR + c), zero beyond column N.
@inline
function packB(transB: bool, N: i32, K: i32, b: usize, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let q = 0; q < nc; q += NR) {
    const cols = min(NR, nc - q);
    const j = j0 + q;
    if (transB && cols == NR) {
      // B stored N×K: op(B)(k, j) = B[j·K + k]. Four k at a time: 4 k-values of each of the 8
      // columns, transposed as two 4×4 blocks into rows of the panel.
      const s = b + (<usize>j * K + k0) * 4;
      const ld = <usize>K * 4;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = s + <usize>k * 4;
        storeTransposed4(v128.load(o), v128.load(o + ld), v128.load(o + 2 * ld), v128.load(o + 3 * ld), dst, NR * 4);
        storeTransposed4(v128.load(o + 4 * ld), v128.load(o + 5 * ld), v128.load(o + 6 * ld), v128.load(o + 7 * ld), dst + 16, NR * 4);
        dst += 4 * NR * 4;
      }
      for (; k < kc; k++) {
        const o = s + <usize>k * 4;
        for (let c = 0; c < NR; c++) store<f32>(dst + c * 4, load<f32>(o + <usize>c * ld));
        dst += NR * 4;
      }
    } else if (transB) {
      // A partial panel of B stored N×K: as a whole one, four k at a time, with zero vectors in
      // place of the columns past N (never loaded: they may lie outside the matrix).
      const s = b + (<usize>j * K + k0) * 4;
      const ld = <usize>K * 4;
      const zero = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = s + <usize>k * 4;
        let r0 = zero, r1 = zero, r2 = zero, r3 = zero, r4 = zero, r5 = zero, r6 = zero;
        r0 = v128.load(o); // cols ≥ 1
        if (cols > 1) r1 = v128.load(o + ld);
        if (cols > 2) r2 = v128.load(o + 2 * ld);
        if (cols > 3) r3 = v128.load(o + 3 * ld);
        if (cols > 4) r4 = v128.load(o + 4 * ld);
        if (cols > 5) r5 = v128.load(o + 5 * ld);
        if (cols > 6) r6 = v128.load(o + 6 * ld);
        storeTransposed4(r0, r1, r2, r3, dst, NR * 4);
        storeTransposed4(r4, r5, r6, zero, dst + 16, NR * 4);
        dst += 4 * NR * 4;
      }
      for (; k < kc; k++) {
        const o = s + <usize>k * 4;
        for (let c = 0; c < NR; c++) store<f32>(dst + c * 4, c < cols ? load<f32>(o + <usize>c * ld) : 0);
        dst += NR * 4;
      }
    } else {
      // B stored K×N: op(B)(k, j) = B[k·N + j]; eight columns are adjacent in memory.
      let s = b + (<usize>k0 * N + j) * 4;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(s));
          v128.store(dst, v128.load(s, 16), 16);
          s += <usize>N * 4;
          dst += NR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<f32>(dst + c * 4, c < cols ? load<f32>(s + c * 4) : 0);
          s += <usize>N * 4;
          dst += NR * 4;
        }
      }
    }
  }
}

// The 4×8 micro-kernel: tile = Σ_k ap[k][0..4) ⊗ bp[k][0..8), added to or stored into C
// (row stride ldc bytes) when the tile is whole; otherwise written to `tile` for the caller.
@inline
function micro(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (rows == MR && cols == NR) {
    if (add) {
      v128.store(c, f32x4.add(v128.load(c), c00));
      v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c10));
      v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c20));
      v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c30));
      v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
    } else {
      v128.store(c, c00);
      v128.store(c, c01, 16);
      c += ldc;
      v128.store(c, c10);
      v128.store(c, c11, 16);
      c += ldc;
      v128.store(c, c20);
      v128.store(c, c21, 16);
      c += ldc;
      v128.store(c, c30);
      v128.store(c, c31, 16);
    }
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * ldc;
    const tr = tile + r * NR * 4;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(tr + j * 4);
      store<f32>(cr + j * 4, add ? load<f32>(cr + j * 4) + v : v);
    }
  }
}

/**
 * C (+)= op(A)·op(B). transA: A is stored K×M; transB: B is stored N×K. With accumulate 0 the
 * product overwrites C, else it is added to C. `scratch` holds scratchBytes() + listBytes() bytes.
 */
export function gemm(
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
): void {
  const lists = scratch + <usize>scratchBytes();
  const sparse = planSparse(transA, transB, M, N, K, a, b, lists);
  gemmCols(transA, transB, M, N, K, a, b, c, accumulate, scratch, sparse, lists, 0, N);
}

/** The columns [j0, j1) of C (+)= op(A)·op(B); `sparse` from planSparse (lists at `lists`). */
export function gemmCols(
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
  sparse: i32,
  lists: usize,
  j0: i32,
  j1: i32,
): void {
  if (M <= 0 || j1 <= j0) return;
  const ldc = <usize>N * 4;
  if (K <= 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldc + (<usize>j0 << 2), 0, <usize>(j1 - j0) << 2);
    return;
  }
  if (sparse) {
    // sparse == 2: B was stored N×K and planSparse transposed it after the lists
    gemmSparse(M, N, K, sparse == 2 ? lists + BT_OFFSET : b, c, accumulate != 0, lists, j0, j1);
    return;
  }
  const packA_ = scratch;
  const packB_ = scratch + PACK_A_BYTES;
  const tile = packB_ + PACK_B_BYTES;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const add = accumulate != 0 || k0 > 0;
    for (let jb = j0; jb < j1; jb += NC) {
      const nc = min(NC, j1 - jb);
      packB(transB != 0, N, K, b, k0, kc, jb, nc, packB_);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packA(transA != 0, M, K, a, i0, mc, k0, kc, packA_);
        for (let q = 0; q < nc; q += NR) {
          const bp = packB_ + <usize>q * kc * 4;
          const cols = min(NR, nc - q);
          for (let p = 0; p < mc; p += MR) {
            const ap = packA_ + <usize>p * kc * 4;
            const rows = min(MR, mc - p);
            micro(kc, ap, bp, c + (<usize>(i0 + p) * N + jb + q) * 4, ldc, rows, cols, add, tile);
          }
        }
      }
    }
  }
}

// ---- the sparse path -------------------------------------------------------------------------

/**
 * Whether C (+)= op(A)·op(B) takes the sparse path, and if so, op(A)'s nonzero entries written to
 * `lists`: counts[m] (i32 × M), then for row m at entries + m·K·8: (byte offset of row k of B,
 * value) pairs, k ascending. Only for a product large enough to be worth it, lists that fit, and an
 * op(A) with enough zeros:
 * - B row-major (K×N): at least 35% zeros (a relu layer's gradient has about half). Returns 1.
 * - B stored N×K (a layer's weights in its forward product, op(A) its input: a batch of digits is
 *   about 80% zeros): at least 70% zeros, at least 16 rows, B of finite values and at most
 *   BT_BYTES. B is transposed after the lists (K×N, row-major), which costs about as much as 3
 *   dense rows of the product. Returns 2.
 * Else 0 (the dense kernel). A B holding ±∞ or NaN is left to the dense kernel, which multiplies
 * them by op(A)'s zeros as IEEE says (NaN). The first case's B is not checked: it is data or a
 * layer's input in a weight gradient, but weights in `x @ W` and in the input gradient ∂O·W, where
 * an ∞ weight times a skipped zero gives no NaN. A run that far gone is caught anyway: the loss or
 * the weights turn non-finite (the trainer checks both), as with a NaN behind relu.
 */
export function planSparse(transA: i32, transB: i32, M: i32, N: i32, K: i32, a: usize, b: usize, lists: usize): i32 {
  if (!sparseOn || N < SB || M > LIST_ROWS || <i64>M * K > <i64>LIST_ENTRIES) return 0;
  if (<i64>M * N * K < 1 << 18) return 0;
  if (transB != 0 && (M < 16 || <i64>K * N * 4 > <i64>BT_BYTES)) return 0;
  const total = M * K;
  // below about a third of zeros the dense kernel is as fast; with B to transpose, about 70 %. A
  // first eighth of op(A) with less than half that many is taken as the answer (dense data costs
  // an eighth of a count)
  const need: i32 = transB != 0 ? 14 : 7; // in twentieths
  const sample = (total >> 3) & ~3;
  const sampleZeros = countZeros(a, sample);
  if (sampleZeros * 40 < sample * need) return 0;
  const zeros = sampleZeros + countZeros(a + (<usize>sample << 2), total - sample);
  if (zeros * 20 < total * need) return 0;
  if (transB != 0 && !transposeFinite(N, K, b, lists + BT_OFFSET)) return 0;
  const counts = lists;
  const entries = lists + LIST_ROWS * 4;
  const rowB = <usize>N << 2;
  memory.fill(counts, 0, <usize>M << 2);
  // op(A)(m, k) is A[k·M + m] (transA: stride M) or A[m·K + k] (stride 1)
  const step: usize = transA ? <usize>M << 2 : 4;
  const rowStart: usize = transA ? 4 : <usize>K << 2;
  const listStride: usize = <usize>K * 8;
  let m = 0;
  // four rows at a time: four independent counts (each entry's address depends on its row's count
  // so far — one row alone is a chain of dependent adds), one 8-byte store per entry (the byte
  // offset of B's row, then the value's bits), and ±0 told apart by the bits without the sign
  for (; m + 4 <= M; m += 4) {
    let s0 = a + <usize>m * rowStart;
    let s1 = s0 + rowStart;
    let s2 = s1 + rowStart;
    let s3 = s2 + rowStart;
    const e0 = entries + <usize>m * listStride;
    const e1 = e0 + listStride;
    const e2 = e1 + listStride;
    const e3 = e2 + listStride;
    let n0 = 0, n1 = 0, n2 = 0, n3 = 0;
    let off: u64 = 0;
    for (let k = 0; k < K; k++) {
      const v0 = load<u32>(s0);
      const v1 = load<u32>(s1);
      const v2 = load<u32>(s2);
      const v3 = load<u32>(s3);
      store<u64>(e0 + (<usize>n0 << 3), off | (<u64>v0 << 32));
      store<u64>(e1 + (<usize>n1 << 3), off | (<u64>v1 << 32));
      store<u64>(e2 + (<usize>n2 << 3), off | (<u64>v2 << 32));
      store<u64>(e3 + (<usize>n3 << 3), off | (<u64>v3 << 32));
      n0 += i32(v0 << 1 != 0);
      n1 += i32(v1 << 1 != 0);
      n2 += i32(v2 << 1 != 0);
      n3 += i32(v3 << 1 != 0);
      s0 += step;
      s1 += step;
      s2 += step;
      s3 += step;
      off += <u64>rowB;
    }
    const cm = counts + (<usize>m << 2);
    store<i32>(cm, n0);
    store<i32>(cm, n1, 4);
    store<i32>(cm, n2, 8);
    store<i32>(cm, n3, 12);
  }
  for (; m < M; m++) {
    let src = a + <usize>m * rowStart;
    const em = entries + <usize>m * K * 8;
    let n = 0;
    let off: usize = 0;
    for (let k = 0; k < K; k++) {
      const v = load<f32>(src);
      src += step;
      // branch-free: every entry is written, only a nonzero one is kept (half the values are
      // zeros, at random: a branch would be mispredicted every other time)
      const e = em + (<usize>n << 3);
      store<u32>(e, <u32>off);
      store<f32>(e, v, 4);
      n += i32(v != 0);
      off += rowB;
    }
    store<i32>(counts + (<usize>m << 2), n);
  }
  if (transB != 0) {
    sparseTransposed++;
    return 2;
  }
  sparseRowMajor++;
  return 1;
}

/**
 * dst (K×N, row-major) = the transpose of B (stored N×K), 4×4 blocks at a time; false (dst then
 * partly written) when B holds ±∞ or NaN: x·0 is ±0 for every finite x, NaN otherwise.
 */
function transposeFinite(N: i32, K: i32, b: usize, dst: usize): bool {
  const zero = f32x4.splat(0);
  let bad = zero;
  const ld = <usize>K << 2;
  const ldd = <usize>N << 2;
  const N4 = N & ~3;
  const K4 = K & ~3;
  // four rows of dst at a time, written in order (the 16-byte pieces of B's N rows that they read
  // stay in L1 for the next four)
  for (let k = 0; k < K4; k += 4) {
    const s = b + (<usize>k << 2);
    const d = dst + <usize>k * ldd;
    for (let j = 0; j < N4; j += 4) {
      const o = s + <usize>j * ld;
      const r0 = v128.load(o);
      const r1 = v128.load(o + ld);
      const r2 = v128.load(o + 2 * ld);
      const r3 = v128.load(o + 3 * ld);
      bad = v128.or(bad, v128.or(v128.or(f32x4.mul(r0, zero), f32x4.mul(r1, zero)), v128.or(f32x4.mul(r2, zero), f32x4.mul(r3, zero))));
      storeTransposed4(r0, r1, r2, r3, d + (<usize>j << 2), ldd);
    }
  }
  // the edges: the last K mod 4 rows of dst, the last N mod 4 columns
  for (let j = 0; j < N; j++) {
    for (let k = j < N4 ? K4 : 0; k < K; k++) {
      const v = load<f32>(b + <usize>j * ld + (<usize>k << 2));
      if (!(v * 0 == 0)) return false;
      store<f32>(dst + <usize>k * ldd + (<usize>j << 2), v);
    }
  }
  // the OR of ±0 has at most the sign bit set; with a NaN among them, exponent bits too
  return !v128.any_true(v128.and(bad, i32x4.splat(0x7fffffff)));
}

/** How many of n float32 values are ±0 (NaN is not). */
function countZeros(a: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) acc = i32x4.sub(acc, f32x4.eq(v128.load(a + (<usize>i << 2)), zero)); // true lanes are −1
  let z = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < n; i++) if (load<f32>(a + (<usize>i << 2)) == 0) z++;
  return z;
}

/** Columns [j0, j1) of C (+)= op(A)·B from op(A)'s lists (see planSparse); B row-major K×N. */
function gemmSparse(M: i32, N: i32, K: i32, b: usize, c: usize, add: bool, lists: usize, j0: i32, j1: i32): void {
  const counts = lists;
  const entries = lists + LIST_ROWS * 4;
  const ldc = <usize>N << 2;
  let jb = j0;
  // 28 columns at a time first: seven vector accumulators, seven independent chains of fused
  // multiply-adds (a multiply-add takes 4 cycles and two can start per cycle: four chains, as in the
  // 16-wide loop below, leave half of that unused). With the 7 loads of B and the broadcast, 15 of
  // the 16 vector registers: 8 accumulators (32 columns) make V8 spill, as it loads B first.
  for (; jb + SB7 <= j1; jb += SB7) {
    const bj = b + (<usize>jb << 2);
    for (let m = 0; m < M; m++) {
      const n = load<i32>(counts + (<usize>m << 2));
      let e = entries + <usize>m * K * 8;
      const end = e + (<usize>n << 3);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0);
      for (; e < end; e += 8) {
        const r = bj + <usize>load<u32>(e);
        const v = v128.load32_splat(e, 4);
        c0 = madd(v, v128.load(r), c0);
        c1 = madd(v, v128.load(r, 16), c1);
        c2 = madd(v, v128.load(r, 32), c2);
        c3 = madd(v, v128.load(r, 48), c3);
        c4 = madd(v, v128.load(r, 64), c4);
        c5 = madd(v, v128.load(r, 80), c5);
        c6 = madd(v, v128.load(r, 96), c6);
      }
      const cr = c + <usize>m * ldc + (<usize>jb << 2);
      putC(cr, c0, add);
      putC(cr + 16, c1, add);
      putC(cr + 32, c2, add);
      putC(cr + 48, c3, add);
      putC(cr + 64, c4, add);
      putC(cr + 80, c5, add);
      putC(cr + 96, c6, add);
    }
  }
  for (; jb + SB <= j1; jb += SB) {
    const bj = b + (<usize>jb << 2);
    for (let m = 0; m < M; m++) {
      const n = load<i32>(counts + (<usize>m << 2));
      let e = entries + <usize>m * K * 8;
      const end = e + (<usize>n << 3);
      const end2 = e + (<usize>(n & ~1) << 3);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      // two entries per iteration (fewer loop overheads), still added in order of k
      for (; e < end2; e += 16) {
        const r = bj + <usize>load<u32>(e);
        const v = v128.load32_splat(e, 4);
        const s = bj + <usize>load<u32>(e, 8);
        const w = v128.load32_splat(e, 12);
        c0 = madd(w, v128.load(s), madd(v, v128.load(r), c0));
        c1 = madd(w, v128.load(s, 16), madd(v, v128.load(r, 16), c1));
        c2 = madd(w, v128.load(s, 32), madd(v, v128.load(r, 32), c2));
        c3 = madd(w, v128.load(s, 48), madd(v, v128.load(r, 48), c3));
      }
      if (e < end) {
        const r = bj + <usize>load<u32>(e);
        const v = v128.load32_splat(e, 4);
        c0 = madd(v, v128.load(r), c0);
        c1 = madd(v, v128.load(r, 16), c1);
        c2 = madd(v, v128.load(r, 32), c2);
        c3 = madd(v, v128.load(r, 48), c3);
      }
      const cr = c + <usize>m * ldc + (<usize>jb << 2);
      putC(cr, c0, add);
      putC(cr + 16, c1, add);
      putC(cr + 32, c2, add);
      putC(cr + 48, c3, add);
    }
  }
  if (jb >= j1) return;
  // the last, narrower block: four columns at a time, then one
  const w = j1 - jb;
  const w4 = w & ~3;
  for (let m = 0; m < M; m++) {
    const n = load<i32>(counts + (<usize>m << 2));
    const e0 = entries + <usize>m * K * 8;
    const end = e0 + (<usize>n << 3);
    const cr = c + <usize>m * ldc + (<usize>jb << 2);
    let q = 0;
    for (; q < w4; q += 4) {
      const bq = b + (<usize>(jb + q) << 2);
      let acc = f32x4.splat(0);
      for (let e = e0; e < end; e += 8) acc = madd(v128.load32_splat(e, 4), v128.load(bq + <usize>load<u32>(e)), acc);
      const o = <usize>q << 2;
      putC(cr + o, acc, add);
    }
    for (; q < w; q++) {
      const bq = b + (<usize>(jb + q) << 2);
      // one lane of madd: fused in the fma build, as the dense kernel's edge columns are
      let acc = f32x4.splat(0);
      for (let e = e0; e < end; e += 8) acc = madd(v128.load32_splat(e, 4), v128.load32_splat(bq + <usize>load<u32>(e)), acc);
      const o = <usize>q << 2;
      const v = f32x4.extract_lane(acc, 0);
      store<f32>(cr + o, add ? load<f32>(cr + o) + v : v);
    }
  }
}
