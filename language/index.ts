/**
 * The language layer's public API: analyze a `.nn` text or file into diagnostics and the
 * engine's IR, plus what the language server builds on (services, lowering, shape queries, the
 * built-in catalog).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { URI, type AstNode, type LangiumDocument } from 'langium';
import type { IRProgram, Range } from '../engine/ir';
import type { ExprInfo } from './analysis';
import type * as ast from './generated/ast';
import { lowerDocument, type LowerResult } from './lower';
import { createNnServices, type NnServices } from './nn-module';

export { createNnServices, NnModule, type NnServices, type NnAddedServices } from './nn-module';
export { lowerDocument, type LowerResult } from './lower';
export { plainRange, rangeOf, nameRangeOf } from './ranges';
export { isName, NAME_CHAR, NAME_CHAR_SOURCE, NAME_SOURCE } from './identifiers';
export { Codes, CODE_INFO, type Code } from '../engine/codes';
export {
  BUILTIN_FUNCTIONS,
  INITIALIZERS,
  DATA_SOURCES,
  OPTIMIZERS,
  TRAIN_OPTIONS,
  CHECK_OPTIONS,
  builtinFunction,
  findCallable,
  formatInterval,
  type BuiltinFunction,
  type ConfigCallable,
  type ArgSpec,
} from './builtins';
export type { ExprInfo, DenseInfo, Issue, ModelAnalysis, DocumentAnalysis } from './analysis';
export { NnAnalysisCache } from './analysis-cache';
export { NnDocumentFactory, type ParseCounts } from './incremental-parse';
export { NnDataContextProvider } from './data-context';
export { fmtShape, sizeOf } from '../engine/shape';
export * as NnAst from './generated/ast';

export interface LangDiagnostic {
  severity: 'error' | 'warning' | 'info' | 'hint';
  /** 0-based (LSP) range. */
  range: Range;
  code: string;
  message: string;
}

export interface AnalyzeOptions {
  /** A file path or URI for the text; csv paths are relative to it. Default: an untitled file in the cwd. */
  uri?: string;
  /** Data files must stay inside this folder. Default: the file's folder. */
  workspaceRoot?: string;
}

export interface Analysis {
  diagnostics: LangDiagnostic[];
  program: IRProgram;
  /** Models not lowered because they (or what they use) have errors. */
  skippedModels: string[];
  /** The parsed, linked and validated document (detached from the workspace). */
  document: LangiumDocument<ast.Program>;
  /** The services that analyzed it (for shape queries and further LSP work). */
  services: NnServices;
  /** The per-example shape of an expression or declaration of this document. */
  shapeOf(node: AstNode): ExprInfo | undefined;
}

const SEVERITIES = ['error', 'error', 'warning', 'info', 'hint'] as const;

/** Converts a Langium (LSP) diagnostic. */
export function toLangDiagnostic(d: {
  severity?: number;
  range: Range;
  code?: number | string;
  message: string;
}): LangDiagnostic {
  return {
    severity: SEVERITIES[d.severity ?? 1] ?? 'error',
    range: {
      start: { line: d.range.start.line, character: d.range.start.character },
      end: { line: d.range.end.line, character: d.range.end.character },
    },
    code: d.code === undefined ? 'unknown' : String(d.code),
    message: d.message,
  };
}

function compareDiagnostics(a: LangDiagnostic, b: LangDiagnostic): number {
  return (
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character ||
    a.range.end.line - b.range.end.line ||
    a.range.end.character - b.range.end.character
  );
}

let services: { shared: ReturnType<typeof createNnServices>['shared']; Nn: NnServices } | undefined;
let untitled = 0;
let queue: Promise<unknown> = Promise.resolve();

/** The services `analyzeText` uses (created on first use, without an LSP connection). */
export function analysisServices(): NnServices {
  services ??= createNnServices();
  return services.Nn;
}

function toUri(uri: string | undefined): URI {
  if (uri === undefined) return URI.file(resolve(process.cwd(), `untitled-${++untitled}.nn`));
  const u = /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(uri) && !/^[a-zA-Z]:[\\/]/.test(uri) ? URI.parse(uri) : URI.file(resolve(uri));
  // Langium picks the language by extension; the folder (for data paths) stays the same.
  return u.path.endsWith('.nn') ? u : u.with({ path: `${u.path}.nn` });
}

/** Parses, links, validates and lowers a `.nn` text. */
export function analyzeText(text: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  // Builds share one workspace: run them one at a time.
  const run = queue.then(() => analyzeNow(text, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function analyzeNow(text: string, opts: AnalyzeOptions): Promise<Analysis> {
  const Nn = analysisServices();
  const shared = Nn.shared;
  const uri = toUri(opts.uri);
  const documents = shared.workspace.LangiumDocuments;
  if (documents.hasDocument(uri)) documents.deleteDocument(uri);
  const document = shared.workspace.LangiumDocumentFactory.fromString<ast.Program>(text, uri);
  documents.addDocument(document);
  const contexts = Nn.analysis.DataContext;
  if (opts.workspaceRoot !== undefined) contexts.setWorkspaceRoot(uri.toString(), opts.workspaceRoot);
  try {
    await shared.workspace.DocumentBuilder.build([document], { validation: true });
    return analyzeDocument(Nn, document);
  } finally {
    contexts.setWorkspaceRoot(uri.toString(), undefined);
    if (documents.hasDocument(uri)) documents.deleteDocument(uri);
  }
}

/**
 * The analysis of a document that is already built (parsed, linked, validated), e.g. one of
 * the language server's workspace: its diagnostics as `LangDiagnostic`s, the lowered program,
 * and shape queries.
 */
export function analyzeDocument(Nn: NnServices, document: LangiumDocument): Analysis {
  const diagnostics = (document.diagnostics ?? []).map(toLangDiagnostic).sort(compareDiagnostics);
  const { program, skippedModels }: LowerResult = lowerDocument(Nn, document);
  const cache = Nn.analysis.Cache;
  return {
    diagnostics,
    program,
    skippedModels,
    document: document as LangiumDocument<ast.Program>,
    services: Nn,
    shapeOf: (node) => cache.shapeOf(node),
  };
}

/** Reads and analyzes a `.nn` file; the workspace root defaults to the file's folder. */
export async function analyzeFile(path: string, opts: Omit<AnalyzeOptions, 'uri'> = {}): Promise<Analysis> {
  const text = await readFile(path, 'utf8');
  return analyzeText(text, { ...opts, uri: resolve(path) });
}
