/**
 * The workspace rule for data files: a `csv` path is resolved against the `.nn` file's folder
 * and must stay inside `ctx.workspaceRoot ?? ctx.baseDir` — both as written (no `..` escape, no
 * absolute path elsewhere) and after following symbolic links (realpath).
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DataError, type DataContext } from './types';

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

export interface ResolvedFile {
  /** The real path (symlinks resolved). */
  real: string;
  mtimeMs: number;
  size: number;
}

/**
 * Resolves a data file's path and enforces the workspace rule. Throws DataError for a path
 * outside the workspace (checked before existence, so nothing is revealed about files outside),
 * a missing file, or something that is not a file.
 */
export function resolveDataFile(path: string, ctx: DataContext): ResolvedFile {
  if (path.trim() === '') throw new DataError('csv: the file path is empty');
  const root = resolve(ctx.workspaceRoot ?? ctx.baseDir);
  const lexical = resolve(ctx.baseDir, path);
  if (!isInside(root, lexical)) {
    throw new DataError(`csv: "${path}" is outside the workspace (${root}); data files must be inside it`);
  }
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    throw new DataError(`csv: file not found: "${path}" (looked for ${lexical})`);
  }
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    realRoot = root;
  }
  if (!isInside(realRoot, real)) {
    throw new DataError(
      `csv: "${path}" leads outside the workspace through a symbolic link (to ${real}); data files must be inside ${root}`,
    );
  }
  const st = statSync(real);
  if (!st.isFile()) throw new DataError(`csv: "${path}" is not a file`);
  return { real, mtimeMs: st.mtimeMs, size: st.size };
}
