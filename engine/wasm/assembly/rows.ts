// Row-broadcast kernels over a row-major [rows × cols] float32 matrix (one row per example): adding
// a bias row, and its gradient (column sums). WebAssembly SIMD, four columns at a time, then a
// scalar tail per row. Pointers are byte addresses in this module's memory.

/** y[r, j] = x[r, j] + b[j]; y may equal x. */
export function addBias(rows: i32, cols: i32, x: usize, b: usize, y: usize): void {
  const c4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let j = 0;
    for (; j < c4; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.add(v128.load(xr + o), v128.load(b + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, load<f32>(xr + o) + load<f32>(b + o));
    }
  }
}

/**
 * s[j] += Σ_r g[r, j], adding the rows in order (the same float32 roundings as accumulating
 * example by example).
 */
export function biasGradient(rows: i32, cols: i32, g: usize, s: usize): void {
  const c4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  let j = 0;
  for (; j < c4; j += 4) {
    const o = <usize>j << 2;
    let acc = v128.load(s + o);
    for (let r = 0; r < rows; r++) acc = f32x4.add(acc, v128.load(g + <usize>r * rowBytes + o));
    v128.store(s + o, acc);
  }
  for (; j < cols; j++) {
    const o = <usize>j << 2;
    let acc = load<f32>(s + o);
    for (let r = 0; r < rows; r++) acc += load<f32>(g + <usize>r * rowBytes + o);
    store<f32>(s + o, acc);
  }
}

/**
 * Rows of src by index: dst[i, ·] = src[idx[i], ·] for i < count (rows of `cols` floats; idx holds
 * u32 row numbers, which must be rows of src). A training step's batch from its data set. (A
 * vector loop: `memory.copy` calls out of WebAssembly per row, which costs more than it copies.)
 */
export function gatherRows(count: i32, cols: i32, src: usize, idx: usize, dst: usize): void {
  const rowBytes = <usize>cols << 2;
  const vecBytes = <usize>(cols & ~3) << 2;
  for (let i = 0; i < count; i++) {
    const s = src + <usize>load<u32>(idx + (<usize>i << 2)) * rowBytes;
    const d = dst + <usize>i * rowBytes;
    let o: usize = 0;
    for (; o < vecBytes; o += 16) v128.store(d + o, v128.load(s + o));
    for (; o < rowBytes; o += 4) store<f32>(d + o, load<f32>(s + o));
  }
}
