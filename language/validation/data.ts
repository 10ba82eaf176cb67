/**
 * Data sources (§6): a known source with valid arguments, and a data set that can be read (a
 * missing file, a bad row or column, a path outside the workspace are `data-error`s naming the
 * row and column).
 */
import { AstUtils, type ValidationAcceptor } from 'langium';
import { describeData, DataError } from '../../engine/data/index';
import type { DataInfo } from '../../engine/data/types';
import type { DataSpec } from '../../engine/ir';
import type { NnAnalysisCache } from '../analysis-cache';
import { Codes } from '../../engine/codes';
import { readDataSpec } from '../config';
import type { NnDataContextProvider } from '../data-context';
import * as ast from '../generated/ast';
import { report } from './report';

export type Described = { ok: true; info: DataInfo } | { ok: false; error?: DataError };

/** Describes the data of a declaration (spec errors give `{ ok: false }` without an error). */
export function describeDecl(cache: NnAnalysisCache, contexts: NnDataContextProvider, d: ast.DataDecl): Described {
  const { spec } = readDataSpec(cache.of(d), d);
  if (!spec) return { ok: false };
  return describeSpec(spec, contexts, d);
}

function describeSpec(spec: DataSpec, contexts: NnDataContextProvider, d: ast.DataDecl): Described {
  if (spec.kind === 'csv' && contexts.fileAccessBlocked) {
    return { ok: false, error: new DataError(`csv "${spec.path}": ${contexts.fileAccessBlocked}`) };
  }
  const ctx = contexts.contextFor(AstUtils.getDocument(d));
  if (!ctx) {
    if (spec.kind === 'csv') {
      return { ok: false, error: new DataError(`csv "${spec.path}": save the file first; csv paths are relative to it`) };
    }
    return safeDescribe(spec, { baseDir: process.cwd() });
  }
  return safeDescribe(spec, ctx);
}

function safeDescribe(spec: DataSpec, ctx: Parameters<typeof describeData>[1]): Described {
  try {
    return { ok: true, info: describeData(spec, ctx) };
  } catch (e) {
    if (e instanceof DataError) return { ok: false, error: e };
    return { ok: false, error: new DataError(e instanceof Error ? e.message : String(e)) };
  }
}

export function dataErrorMessage(e: DataError): string {
  let msg = e.message;
  const parts: string[] = [];
  if (e.row !== undefined && !new RegExp(`\\brow ${e.row}\\b`).test(msg)) parts.push(`row ${e.row}`);
  if (e.column !== undefined && !/\bcolumn\b/.test(msg)) parts.push(`column ${e.column}`);
  if (parts.length > 0) msg += ` (${parts.join(', ')})`;
  return msg;
}

export function checkData(
  cache: NnAnalysisCache,
  contexts: NnDataContextProvider,
  d: ast.DataDecl,
  accept: ValidationAcceptor,
): void {
  const { spec, issues } = readDataSpec(cache.of(d), d);
  report(accept, issues);
  if (!spec) return;
  const r = describeSpec(spec, contexts, d);
  if (r.ok || !r.error) return;
  const e = r.error;
  // Table rows are in the file itself: point at the row.
  if (spec.kind === 'table' && ast.isTableSource(d.source) && e.row !== undefined && d.source.rows[e.row - 1]) {
    accept('error', dataErrorMessage(e), { node: d.source.rows[e.row - 1], code: Codes.DataError });
    return;
  }
  accept('error', dataErrorMessage(e), { node: d, code: Codes.DataError });
}
