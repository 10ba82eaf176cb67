/**
 * `csv(path, label:, classes:, normalize:)` — a header row, then one example per row.
 *
 * The file is streamed: read in chunks (1 MiB by default) through a streaming UTF-8 decoder and
 * split into records without ever holding the whole file as one string. `scanCsv` validates every
 * row and counts them (this is what `describeData` caches); asked to (`keep`), the same pass also
 * keeps the parsed numbers, so a file that is validated and then trained on is parsed once.
 * `readCsv` fills exactly-sized Float64Arrays from a file scanned before (files too large to keep).
 *
 * Format: comma-separated; fields may be double-quoted (`"a, b"`, `""` for a quote, newlines
 * inside quotes); a UTF-8 byte-order mark, CRLF line ends, spaces around fields and blank lines
 * are ignored. Row numbers in errors are line numbers of the file (the header is row 1);
 * column numbers are 1-based and come with the column's name.
 *
 * Labels: the column named by `label` (a header name or a 0-based index; default the last one).
 * Without `classes` it must be numeric and becomes a [1] label. With `classes: k` it becomes a
 * one-hot [k] vector: when every label is an integer, the integers are the class indices (0..k-1);
 * otherwise the labels are class names, numbered in order of first appearance in the file.
 *
 * `normalize: true` z-scores every feature column with the mean and (population) standard
 * deviation of *all* rows, before any train/validation split; a constant column becomes 0.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DataError, type Dataset } from './types';

export interface CsvOptions {
  label: string | number | null;
  classes: number | null;
  normalize: boolean;
}

export interface CsvScan {
  n: number;
  /** Number of feature columns. */
  features: number;
  /** The label column, 0-based, and all header names. */
  labelColumn: number;
  header: string[];
  /** With classes: 'index' (integer labels) or 'name' (names in order of first appearance). */
  labelMode: 'number' | 'index' | 'name';
  classNames?: string[];
}

/** A growing Float64Array (no per-value allocation). */
class Grow {
  a: Float64Array;
  n = 0;
  constructor(capacity: number) {
    this.a = new Float64Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a trimmed numeric field, or returns NaN. */
export function parseNumber(s: string): number {
  return NUMBER.test(s) ? Number(s) : NaN;
}

/**
 * Calls `onRecord(fields, row)` for every non-blank record of the file, with `row` the 1-based
 * line number where the record starts. Fields are trimmed and unquoted.
 */
export function forEachRecord(
  file: string,
  onRecord: (fields: string[], row: number) => void,
  chunkBytes = 1 << 20,
): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    const decoder = new TextDecoder('utf-8', { fatal: false });
    let carry = '';
    let line = 0; // lines consumed so far
    let first = true;
    // A record still open inside quotes: the text so far and the row it started on.
    let pending: string | null = null;
    let pendingRow = 0;

    const handleLine = (text: string) => {
      line++;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.endsWith('\r')) text = text.slice(0, -1);
      let rec: string;
      let row: number;
      if (pending !== null) {
        rec = pending + '\n' + text;
        row = pendingRow;
      } else {
        rec = text;
        row = line;
      }
      if (rec.indexOf('"') < 0) {
        pending = null;
        if (rec.trim() === '') return;
        const fields = rec.split(',');
        for (let i = 0; i < fields.length; i++) fields[i] = fields[i].trim();
        onRecord(fields, row);
        return;
      }
      const fields = splitQuoted(rec);
      if (fields === null) {
        pending = rec;
        pendingRow = row;
        return;
      }
      pending = null;
      onRecord(fields, row);
    };

    for (;;) {
      const got = readSync(fd, buf, 0, chunkBytes, null);
      const text = got > 0 ? decoder.decode(buf.subarray(0, got), { stream: true }) : decoder.decode();
      let start = 0;
      const chunk = carry + text;
      for (;;) {
        const nl = chunk.indexOf('\n', start);
        if (nl < 0) break;
        handleLine(chunk.slice(start, nl));
        start = nl + 1;
      }
      carry = chunk.slice(start);
      if (got <= 0) break;
    }
    if (carry !== '' || pending !== null) handleLine(carry);
    if (pending !== null) {
      throw new DataError(`row ${pendingRow}: a quoted field is never closed`, pendingRow);
    }
  } finally {
    closeSync(fd);
  }
}

/** Splits one record with quotes; null when a quoted field is still open at the end. */
function splitQuoted(rec: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoted = false;
  for (let i = 0; i < rec.length; i++) {
    const ch = rec[i];
    if (inQuotes) {
      if (ch === '"') {
        if (rec[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      inQuotes = true;
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(quoted ? field : field.trim());
      field = '';
      quoted = false;
    } else if (quoted) {
      // characters after a closing quote: keep them (lenient), ignore spaces
      if (ch.trim() !== '') field += ch;
    } else field += ch;
  }
  if (inQuotes) return null;
  fields.push(quoted ? field : field.trim());
  if (fields.length === 1 && fields[0] === '' && !quoted) return [];
  return fields;
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return `${k}${s}`;
}

/** Finds the label column from the header. */
function labelColumn(header: string[], label: CsvOptions['label'], where: string): number {
  if (label === null) return header.length - 1;
  if (typeof label === 'number') {
    if (!Number.isInteger(label) || label < 0 || label >= header.length) {
      throw new DataError(
        `${where}: label: ${label} is not a column index; the file has ${header.length} columns (0..${header.length - 1})`,
        1,
      );
    }
    return label;
  }
  const hits: number[] = [];
  header.forEach((h, i) => {
    if (h === label) hits.push(i);
  });
  if (hits.length === 0) {
    const lower = header.findIndex((h) => h.toLowerCase() === label.toLowerCase());
    const hint = lower >= 0 ? ` — did you mean "${header[lower]}"?` : '';
    throw new DataError(
      `${where}: no column named "${label}"${hint} (columns: ${header.map((h) => `"${h}"`).join(', ')})`,
      1,
    );
  }
  if (hits.length > 1) {
    throw new DataError(
      `${where}: the column name "${label}" appears ${hits.length} times (columns ${hits.map((h) => h + 1).join(', ')}); name the label by its 0-based index`,
      1,
      hits[1] + 1,
    );
  }
  return hits[0];
}

function colName(header: string[], c: number): string {
  return `column ${c + 1} (${header[c] === '' ? 'unnamed' : `"${header[c]}"`})`;
}

/**
 * Validates the whole file and returns its shape. `where` names the source in messages
 * (e.g. `csv "data/iris.csv"`). Throws DataError with 1-based row and column.
 */
export function scanCsv(file: string, where: string, opts: CsvOptions, chunkBytes?: number): CsvScan;
/**
 * The same scan, keeping the parsed examples as well when they are at most `keep.limit` numbers
 * (`data` is then the Dataset `readCsv` would read; null for a larger file).
 */
export function scanCsv(
  file: string,
  where: string,
  opts: CsvOptions,
  chunkBytes: number | undefined,
  keep: { limit: number },
): CsvScan & { data: Dataset | null };
export function scanCsv(
  file: string,
  where: string,
  opts: CsvOptions,
  chunkBytes?: number,
  keep?: { limit: number },
): CsvScan | (CsvScan & { data: Dataset | null }) {
  let header: string[] | null = null;
  let lab = -1;
  let n = 0;
  const k = opts.classes;
  if (k !== null && (!Number.isInteger(k) || k < 1)) {
    throw new DataError(`${where}: classes must be a positive integer, got ${k}`);
  }
  // classes: integer labels seen so far, and names in order of first appearance.
  let allIntegers = true;
  let firstOutOfRange: { row: number; value: number } | null = null;
  const names = new Map<string, number>();
  let overflow: { row: number; name: string } | null = null;
  // kept values: features, and per row the label's number (NaN for a name) and name index
  let limit = keep ? keep.limit : 0;
  let xs: Grow | null = limit > 0 ? new Grow(1024) : null;
  let labelNum: Grow | null = xs ? new Grow(64) : null;
  let labelName: Grow | null = xs && k !== null ? new Grow(64) : null;

  const wrap = (e: unknown): never => {
    if (e instanceof DataError) {
      throw new DataError(`${where} ${e.message}`, e.row, e.column);
    }
    throw e;
  };

  try {
    forEachRecord(
      file,
      (fields, row) => {
        if (header === null) {
          header = fields;
          if (header.length < 2) {
            throw new DataError(
              `${where}: the header (row ${row}) has ${header.length} column; a csv needs at least one feature column and a label column`,
              row,
            );
          }
          lab = labelColumn(header, opts.label, where);
          return;
        }
        const h: string[] = header;
        if (fields.length !== h.length) {
          throw new DataError(
            `${where} row ${row}: ${fields.length} value${fields.length === 1 ? '' : 's'}, but the header has ${h.length} columns`,
            row,
          );
        }
        for (let c = 0; c < fields.length; c++) {
          const s = fields[c];
          if (c === lab) {
            if (s === '') {
              throw new DataError(`${where} row ${row}, ${colName(h, c)}: the label is empty`, row, c + 1);
            }
            const v = parseNumber(s);
            if (labelNum) labelNum.push(v);
            if (k === null) {
              if (Number.isNaN(v)) {
                throw new DataError(
                  `${where} row ${row}, ${colName(h, c)}: the label "${s}" is not a number (for class names, add classes: k)`,
                  row,
                  c + 1,
                );
              }
              continue;
            }
            if (allIntegers) {
              if (Number.isInteger(v)) {
                if ((v < 0 || v >= k) && firstOutOfRange === null) firstOutOfRange = { row, value: v };
              } else allIntegers = false;
            }
            if (overflow === null && !names.has(s)) {
              if (names.size === k) overflow = { row, name: s };
              else names.set(s, names.size);
            }
            if (labelName) labelName.push(names.get(s) ?? -1);
            continue;
          }
          const v = parseNumber(s);
          if (xs) xs.push(v);
          if (Number.isNaN(v)) {
            throw new DataError(
              s === ''
                ? `${where} row ${row}, ${colName(h, c)}: the value is empty`
                : `${where} row ${row}, ${colName(h, c)}: "${s}" is not a number`,
              row,
              c + 1,
            );
          }
        }
        n++;
        if (xs && xs.n + n * (k ?? 1) > limit) {
          // too large to keep: only validate
          xs = labelNum = labelName = null;
          limit = 0;
        }
      },
      chunkBytes,
    );
  } catch (e) {
    if (e instanceof DataError && !e.message.startsWith(where)) wrap(e);
    throw e;
  }

  const h = header as string[] | null;
  if (h === null) throw new DataError(`${where}: the file is empty (expected a header row)`);
  if (n === 0) throw new DataError(`${where}: no data rows after the header`);

  let labelMode: CsvScan['labelMode'] = 'number';
  let classNames: string[] | undefined;
  if (k !== null) {
    const lc = colName(h, lab);
    if (allIntegers) {
      labelMode = 'index';
      const bad = firstOutOfRange as { row: number; value: number } | null;
      if (bad) {
        throw new DataError(
          `${where} row ${bad.row}, ${lc}: class ${bad.value} is outside 0..${k - 1} (classes: ${k})`,
          bad.row,
          lab + 1,
        );
      }
    } else {
      labelMode = 'name';
      const o = overflow as { row: number; name: string } | null;
      if (o) {
        throw new DataError(
          `${where} row ${o.row}, ${lc}: "${o.name}" is a ${ordinal(k + 1)} distinct class, but classes: ${k} (seen before: ${[...names.keys()].map((s) => `"${s}"`).join(', ')})`,
          o.row,
          lab + 1,
        );
      }
      classNames = [...names.keys()];
    }
  }
  const scan: CsvScan = { n, features: h.length - 1, labelColumn: lab, header: h, labelMode, classNames };
  if (!keep) return scan;
  if (!xs || !labelNum) return { ...scan, data: null };
  const d = scan.features;
  const x = xs.a.length === n * d ? xs.a : xs.a.slice(0, n * d);
  const kk = k ?? 1;
  const y = new Float64Array(n * kk);
  for (let i = 0; i < n; i++) {
    if (labelMode === 'number') y[i] = labelNum.a[i];
    else y[i * kk + (labelMode === 'index' ? labelNum.a[i] : labelName!.a[i])] = 1;
  }
  if (opts.normalize) zScoreColumns(x, n, d);
  const data: Dataset = {
    xShape: [d],
    yShape: [kk],
    n,
    oneHot: k !== null,
    ...(classNames ? { classNames } : {}),
    x,
    y,
  };
  return { ...scan, data };
}

/** Reads a file already validated by `scanCsv` into a Dataset. */
export function readCsv(file: string, scan: CsvScan, opts: CsvOptions, chunkBytes?: number, where = 'csv'): Dataset {
  const changed = () => new DataError(`${where}: the file changed while it was being read; try again`);
  const { n, features: d, labelColumn: lab, labelMode } = scan;
  const k = opts.classes ?? 1;
  const x = new Float64Array(n * d);
  const y = new Float64Array(n * k);
  const classIndex = new Map<string, number>();
  scan.classNames?.forEach((s, i) => classIndex.set(s, i));
  let i = 0;
  let header = true;
  forEachRecord(
    file,
    (fields) => {
      if (header) {
        header = false;
        return;
      }
      if (i >= n) throw changed();
      let o = i * d;
      for (let c = 0; c < fields.length; c++) {
        if (c === lab) continue;
        x[o++] = Number(fields[c]);
      }
      const s = fields[lab];
      if (labelMode === 'number') y[i] = Number(s);
      else {
        const cls = labelMode === 'index' ? Number(s) : classIndex.get(s);
        if (cls === undefined || !(cls >= 0 && cls < k)) throw changed();
        y[i * k + cls] = 1;
      }
      i++;
    },
    chunkBytes,
  );
  if (i !== n) throw changed();
  if (opts.normalize) zScoreColumns(x, n, d);
  return {
    xShape: [d],
    yShape: [k],
    n,
    oneHot: opts.classes !== null,
    ...(scan.classNames ? { classNames: scan.classNames } : {}),
    x,
    y,
  };
}

/** Z-scores each of the d columns of an n×d row-major matrix in place (population std). */
export function zScoreColumns(x: Float64Array, n: number, d: number): void {
  for (let c = 0; c < d; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + c];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const t = x[i * d + c] - mean;
      v += t * t;
    }
    const std = Math.sqrt(v / n);
    const inv = std > 0 ? 1 / std : 1;
    for (let i = 0; i < n; i++) x[i * d + c] = (x[i * d + c] - mean) * inv;
  }
}
