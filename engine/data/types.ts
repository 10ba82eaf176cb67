/**
 * Data sources (§6 of the spec): what they yield and how they fail.
 * Implemented in engine/data/*.ts; `describeData` is what the language's validator uses to check
 * a `train M on D` binding, `loadData` is what training and checking use.
 */
import type { DataSpec, Shape } from '../ir';

export interface DataContext {
  /** The folder of the `.nn` file; `csv` paths are relative to it. */
  baseDir: string;
  /**
   * The folder tree data files must stay inside: the workspace root when an editor gives one,
   * else `baseDir`.
   */
  workspaceRoot?: string;
}

export interface DataInfo {
  /** Shape of one example's features and label. */
  xShape: Shape;
  yShape: Shape;
  /** Number of examples. */
  n: number;
  /** True when labels are one-hot class vectors (accuracy applies). */
  oneHot: boolean;
  /** For one-hot labels built from names (csv): the class names, in index order. */
  classNames?: string[];
}

export interface Dataset extends DataInfo {
  /** Features, row-major: n × prod(xShape). */
  x: Float64Array;
  /** Labels, row-major: n × prod(yShape). */
  y: Float64Array;
}

/** A data source that cannot be used. `row` and `column` are 1-based where they apply. */
export class DataError extends Error {
  constructor(
    message: string,
    readonly row?: number,
    readonly column?: number | string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
