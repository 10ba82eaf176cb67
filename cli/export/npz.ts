/**
 * NumPy `.npz` files written from TypeScript: a zip archive (stored, not compressed) of `.npy`
 * arrays, which `numpy.load` reads.
 *
 * - `.npy` (format 1.0, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 *   the magic `\x93NUMPY`, version 1.0, a little-endian uint16 header length, the header (a Python
 *   dict literal with `descr`, `fortran_order` and `shape`, padded with spaces and a newline so
 *   that the data starts at a multiple of 64 bytes), then the data, row-major.
 * - zip (PKWARE APPNOTE 6.3): one local header and the data per member, a central directory, its
 *   end record. Method 0 (stored), CRC-32 of the data; no zip64, so a member stays below 4 GiB.
 */
import { crc32 } from 'node:zlib';

export type NpyArray =
  | { dtype: 'float64'; shape: readonly number[]; data: ArrayLike<number> }
  | { dtype: 'float32'; shape: readonly number[]; data: ArrayLike<number> }
  | { dtype: 'uint8'; shape: readonly number[]; data: ArrayLike<number> };

const DESCR = { float64: '<f8', float32: '<f4', uint8: '|u1' } as const;
const BYTES = { float64: 8, float32: 4, uint8: 1 } as const;

export function npy(a: NpyArray): Uint8Array {
  const count = a.shape.reduce((p, d) => p * d, 1);
  if (count !== a.data.length) throw new Error(`npy: shape [${a.shape.join(', ')}] holds ${count} values, got ${a.data.length}`);
  const shape = `(${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`;
  let header = `{'descr': '${DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + count * BYTES[a.dtype]);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < count; i++) {
    const v = a.data[i];
    if (a.dtype === 'float64') view.setFloat64(i * 8, v, true);
    else if (a.dtype === 'float32') view.setFloat32(i * 4, v, true);
    else view.setUint8(i, v);
  }
  return out;
}

/** A zip archive of the given files, stored (no compression). */
export function zipStore(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  // 1980-01-01 00:00, the earliest DOS date: the archive's bytes depend only on its contents
  const time = 0;
  const date = (0 << 9) | (1 << 5) | 1;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    if (f.data.length >= 0xffffffff) throw new Error(`zip: ${f.name} is too large for a zip without zip64`);
    const crc = crc32(f.data) >>> 0;
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true); // version needed: 2.0
    l.setUint16(6, 0x0800, true); // UTF-8 names
    l.setUint16(8, 0, true); // stored
    l.setUint16(10, time, true);
    l.setUint16(12, date, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, f.data.length, true);
    l.setUint32(22, f.data.length, true);
    l.setUint16(26, name.length, true);
    l.setUint16(28, 0, true);
    local.set(name, 30);
    const entry = new Uint8Array(46 + name.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true); // made by
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x0800, true);
    c.setUint16(10, 0, true);
    c.setUint16(12, time, true);
    c.setUint16(14, date, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, f.data.length, true);
    c.setUint32(24, f.data.length, true);
    c.setUint16(28, name.length, true);
    // extra, comment, disk, internal and external attributes: 0
    c.setUint32(42, offset, true);
    entry.set(name, 46);
    parts.push(local, f.data);
    central.push(entry);
    offset += local.length + f.data.length;
  }
  const centralSize = central.reduce((s, e) => s + e.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, files.length, true);
  e.setUint16(10, files.length, true);
  e.setUint32(12, centralSize, true);
  e.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, end]);
}

/** An `.npz` file: each array as NAME.npy in a stored zip. */
export function npz(arrays: Record<string, NpyArray>): Uint8Array {
  return zipStore(Object.entries(arrays).map(([name, a]) => ({ name: `${name}.npy`, data: npy(a) })));
}
