/**
 * Data sources (§6 of the spec). See docs/data.md for the user-facing description.
 *
 * - `describeData(spec, ctx)`: shapes and size of a data set, synchronously and cheaply — the
 *   language's validator calls it on every keystroke. Results (and errors) for csv files are
 *   cached by real path, modification time, size and the csv options; generators and tables are
 *   described without generating anything.
 * - `loadData(spec, ctx)`: the examples themselves, as float64 rows. A csv file is parsed once:
 *   the pass that validates it (`describeData`) keeps its numbers (up to 4,000,000), and
 *   `loadData` copies them; a larger file is read again.
 * - `cachedData(spec, ctx)`: those examples only when they need no parsing (null otherwise), for
 *   a thread that must not block (the language server hands them to the training worker).
 * - Training helpers: `splitData`, `EpochShuffler`, `gatherBatch` (./batching).
 *
 * Every failure is a `DataError` (with 1-based row/column where they apply).
 */
import type { DataSpec } from '../ir';
import { scanCsv, readCsv, type CsvScan, type CsvOptions } from './csv';
import { checkDigitsArgs, digits16, digitsAvailable, DIGITS_SIDE } from './digits';
import { checkGeneratorArgs, checkTable, generate, table, tableOneHot, xor } from './generators';
import { DataError, type DataContext, type DataInfo, type Dataset } from './types';
import { resolveDataFile } from './workspace';

export { DataError } from './types';
export type { DataContext, DataInfo, Dataset } from './types';
export { DATA_DEFAULTS, xor, circle, gauss, spiral, table } from './generators';
export { digits16, downsampleArea, areaWeights } from './digits';
export { splitData, subset, EpochShuffler, gatherBatch, batchesPerEpoch, type SplitData } from './batching';
export { zScoreColumns } from './csv';

type CsvSpec = Extract<DataSpec, { kind: 'csv' }>;

interface CsvCacheEntry {
  mtimeMs: number;
  size: number;
  optionsKey: string;
  scan?: CsvScan;
  error?: DataError;
  data?: Dataset;
}

const CACHE_LIMIT = 64;
/** Keep parsed rows only for files up to this many numbers. */
const DATA_CACHE_LIMIT = 4_000_000;
const csvCache = new Map<string, CsvCacheEntry>();

function csvOptions(spec: CsvSpec): CsvOptions {
  return { label: spec.label, classes: spec.classes, normalize: spec.normalize };
}

function csvWhere(spec: CsvSpec): string {
  return `csv "${spec.path}"`;
}

/**
 * Looks up (or builds) the cache entry of a csv spec; resolves the path every time. Building it
 * parses the file once, keeping up to `keep` numbers: those within DATA_CACHE_LIMIT stay in the
 * cache, a larger set is returned as `parsed` only.
 */
function csvEntry(spec: CsvSpec, ctx: DataContext, keep = DATA_CACHE_LIMIT): { file: string; entry: CsvCacheEntry; parsed?: Dataset } {
  const f = resolveDataFile(spec.path, ctx);
  const opts = csvOptions(spec);
  const optionsKey = JSON.stringify([opts.label, opts.classes, opts.normalize, spec.path]);
  const key = `${f.real}\0${optionsKey}`;
  let entry = csvCache.get(key);
  let parsed: Dataset | undefined;
  if (!entry || entry.mtimeMs !== f.mtimeMs || entry.size !== f.size) {
    entry = { mtimeMs: f.mtimeMs, size: f.size, optionsKey };
    try {
      // one pass: validated, counted and parsed
      const { data, ...scan } = scanCsv(f.real, csvWhere(spec), opts, undefined, { limit: keep });
      entry.scan = scan;
      if (data && data.x.length + data.y.length <= DATA_CACHE_LIMIT) entry.data = data;
      else if (data) parsed = data;
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      entry.error = e;
    }
  }
  // refresh LRU position
  csvCache.delete(key);
  csvCache.set(key, entry);
  while (csvCache.size > CACHE_LIMIT) csvCache.delete(csvCache.keys().next().value as string);
  return parsed ? { file: f.real, entry, parsed } : { file: f.real, entry };
}

/** Forgets cached csv descriptions and rows (for tests and long-lived servers). */
export function clearDataCache(): void {
  csvCache.clear();
}

/** Shapes and size of a data set; throws DataError when it cannot be used. */
export function describeData(spec: DataSpec, ctx: DataContext): DataInfo {
  switch (spec.kind) {
    case 'xor':
      return { xShape: [2], yShape: [1], n: 4, oneHot: false };
    case 'circle':
    case 'gauss':
      checkGeneratorArgs(spec);
      return { xShape: [2], yShape: [1], n: spec.n, oneHot: false };
    case 'spiral':
      checkGeneratorArgs(spec);
      return { xShape: [2], yShape: [spec.classes], n: spec.n, oneHot: true };
    case 'digits16':
      checkDigitsArgs(spec.limit, spec.seed, digitsAvailable());
      return { xShape: [DIGITS_SIDE * DIGITS_SIDE], yShape: [10], n: spec.limit, oneHot: true };
    case 'table':
      checkTable(spec.rows);
      return {
        xShape: [spec.rows[0].x.length],
        yShape: [spec.rows[0].y.length],
        n: spec.rows.length,
        oneHot: tableOneHot(spec.rows),
      };
    case 'csv': {
      const { entry } = csvEntry(spec, ctx);
      if (entry.error) throw entry.error;
      const s = entry.scan as CsvScan;
      return {
        xShape: [s.features],
        yShape: [spec.classes ?? 1],
        n: s.n,
        oneHot: spec.classes !== null,
        ...(s.classNames ? { classNames: s.classNames.slice() } : {}),
      };
    }
  }
}

function copyDataset(d: Dataset): Dataset {
  return {
    ...d,
    xShape: d.xShape.slice(),
    yShape: d.yShape.slice(),
    ...(d.classNames ? { classNames: d.classNames.slice() } : {}),
    x: d.x.slice(),
    y: d.y.slice(),
  };
}

/**
 * The examples of a data set when they cost no parsing: a csv file already parsed in this thread
 * (a copy), or a generator or table (made here; cheap). Null for a csv file that was not parsed
 * yet or is too large to keep, and for digits16 (read from disk). Throws DataError as loadData.
 */
export function cachedData(spec: DataSpec, ctx: DataContext): Dataset | null {
  switch (spec.kind) {
    case 'csv': {
      const { entry } = csvEntry(spec, ctx);
      if (entry.error) throw entry.error;
      return entry.data ? copyDataset(entry.data) : null;
    }
    case 'digits16':
      return null;
    default:
      return loadData(spec, ctx);
  }
}

/** The examples of a data set (float64, row-major); throws DataError when it cannot be used. */
export function loadData(spec: DataSpec, ctx: DataContext): Dataset {
  switch (spec.kind) {
    case 'xor':
      return xor();
    case 'circle':
    case 'gauss':
    case 'spiral':
      return generate(spec);
    case 'digits16':
      return digits16(spec.limit, spec.seed);
    case 'table':
      return table(spec.rows);
    case 'csv': {
      const { file, entry, parsed } = csvEntry(spec, ctx, Infinity);
      if (entry.error) throw entry.error;
      if (entry.data) return copyDataset(entry.data);
      if (parsed) return parsed;
      // validated earlier in this thread, too large to keep: read it again
      return readCsv(file, entry.scan as CsvScan, csvOptions(spec), undefined, csvWhere(spec));
    }
  }
}
