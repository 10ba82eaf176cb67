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
  // eight rows at a time, interleaved: eight streams of cache misses in flight instead of one (the
  // data set is far larger than L2; W2's 64 rows of 3 KB: 32 → 14 µs)
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const ip = idx + (<usize>i << 2);
    const s0 = src + <usize>load<u32>(ip) * rowBytes;
    const s1 = src + <usize>load<u32>(ip, 4) * rowBytes;
    const s2 = src + <usize>load<u32>(ip, 8) * rowBytes;
    const s3 = src + <usize>load<u32>(ip, 12) * rowBytes;
    const s4 = src + <usize>load<u32>(ip, 16) * rowBytes;
    const s5 = src + <usize>load<u32>(ip, 20) * rowBytes;
    const s6 = src + <usize>load<u32>(ip, 24) * rowBytes;
    const s7 = src + <usize>load<u32>(ip, 28) * rowBytes;
    const d = dst + <usize>i * rowBytes;
    for (let o: usize = 0; o < vecBytes; o += 16) {
      v128.store(d + o, v128.load(s0 + o));
      v128.store(d + rowBytes + o, v128.load(s1 + o));
      v128.store(d + 2 * rowBytes + o, v128.load(s2 + o));
      v128.store(d + 3 * rowBytes + o, v128.load(s3 + o));
      v128.store(d + 4 * rowBytes + o, v128.load(s4 + o));
      v128.store(d + 5 * rowBytes + o, v128.load(s5 + o));
      v128.store(d + 6 * rowBytes + o, v128.load(s6 + o));
      v128.store(d + 7 * rowBytes + o, v128.load(s7 + o));
    }
    for (let o = vecBytes; o < rowBytes; o += 4) {
      store<f32>(d + o, load<f32>(s0 + o));
      store<f32>(d + rowBytes + o, load<f32>(s1 + o));
      store<f32>(d + 2 * rowBytes + o, load<f32>(s2 + o));
      store<f32>(d + 3 * rowBytes + o, load<f32>(s3 + o));
      store<f32>(d + 4 * rowBytes + o, load<f32>(s4 + o));
      store<f32>(d + 5 * rowBytes + o, load<f32>(s5 + o));
      store<f32>(d + 6 * rowBytes + o, load<f32>(s6 + o));
      store<f32>(d + 7 * rowBytes + o, load<f32>(s7 + o));
    }
  }
  for (; i < count; i++) {
    const s = src + <usize>load<u32>(idx + (<usize>i << 2)) * rowBytes;
    const d = dst + <usize>i * rowBytes;
    let o: usize = 0;
    for (; o < vecBytes; o += 16) v128.store(d + o, v128.load(s + o));
    for (; o < rowBytes; o += 4) store<f32>(d + o, load<f32>(s + o));
  }
}
