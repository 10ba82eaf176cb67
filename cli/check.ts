/**
 * `nnlens check FILE [--json] [--mode fast|full]` (§8): the language's diagnostics, the gradient
 * check of every model, and the gradient-health findings the editor shows (vanishing and exploding
 * gradients, dead relu units: warnings and notes at the initial weights, on the same examples).
 */
import { dirname, resolve } from 'node:path';
import { dedupeFindings, evaluateModel, type Finding, type Shape } from '../engine';
import { healthFindings } from '../engine/session/health';
import { HEALTH_EXAMPLES } from '../engine/session/jobs';
import { checkBatchFor, checkProgramModel, type ModelCheckResult, type ModelSummary } from '../engine/session/pipeline';
import { countBySeverity, formatDiagnostic, sortDiagnostics, toCliDiagnostic, type CliDiagnostic } from './diagnostics';
import { analyzeCliFile } from './load';
import type { Analysis } from '../language';
import { fmtShape } from './tensorJson';

/** Above this many parameters, a model is checked in fast mode unless `--mode full` is given. */
export const FULL_CHECK_PARAM_LIMIT = 200_000;

export interface CheckOutput {
  file: string;
  diagnostics: CliDiagnostic[];
  models: Record<string, ModelSummary>;
}

/** What `nnlens check` finds in an analysed file: every diagnostic, each model's check, notes. */
export interface FileCheck {
  diagnostics: CliDiagnostic[];
  results: ModelCheckResult[];
  notes: string[];
}

/** The checks `nnlens check` runs (language diagnostics and every model's gradient check); `nnlens export` refuses what it rejects. */
export function checkAnalysis(file: string, analysis: Analysis, opts: { mode?: 'fast' | 'full'; workspaceRoot?: string }): FileCheck {
  const ctx = { baseDir: dirname(resolve(file)), workspaceRoot: opts.workspaceRoot };
  const results: ModelCheckResult[] = [];
  const health: Finding[] = [];
  const notes: string[] = [];
  for (const model of analysis.program.models) {
    const size = model.params.reduce((s, p) => s + p.size, 0);
    // The check block's mode applies unless the command line says otherwise; the CLI's own
    // default is a full check, except for very large models.
    const block = analysis.program.checks.find((c) => c.model === model.name)?.options.mode;
    let mode = opts.mode ?? block ?? 'full';
    if (!opts.mode && !block && size > FULL_CHECK_PARAM_LIMIT) {
      mode = 'fast';
      notes.push(`${model.name}: ${size.toLocaleString('en-US')} parameters, checked in fast mode (--mode full checks every element)`);
    }
    const r = checkProgramModel({ program: analysis.program, model: model.name, ctx, mode });
    results.push(r);
    // gradient health, as the editor computes it: at the checked weights, on HEALTH_EXAMPLES examples
    const hb = checkBatchFor(analysis.program, model, ctx, HEALTH_EXAMPLES);
    health.push(...healthFindings(analysis.program, model, evaluateModel(analysis.program, model, r.params, hb.batch)));
  }
  const diagnostics = sortDiagnostics([
    ...analysis.diagnostics.map(toCliDiagnostic),
    ...dedupeFindings([...results.flatMap((r) => r.report.findings), ...health]).map(toCliDiagnostic),
  ]);
  return { diagnostics, results, notes };
}

export async function runCheck(
  file: string,
  opts: { json: boolean; mode?: 'fast' | 'full'; workspaceRoot?: string },
): Promise<number> {
  const analysis = await analyzeCliFile(file, opts.workspaceRoot);
  const { diagnostics, results, notes } = checkAnalysis(file, analysis, opts);
  const models: Record<string, ModelSummary> = {};
  for (const r of results) models[r.model] = r.summary;
  const counts = countBySeverity(diagnostics);

  if (opts.json) {
    const out: CheckOutput = { file, diagnostics, models };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
    for (const d of diagnostics) console.log(formatDiagnostic(file, d, colour));
    if (diagnostics.length) console.log('');
    for (const r of results) console.log(describeModel(r));
    for (const n of notes) console.log(`note: ${n}`);
    for (const m of analysis.skippedModels) console.log(`${m}: not checked (it has errors)`);
    console.log(
      `${counts.error} error${counts.error === 1 ? '' : 's'}, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}` +
        (counts.info + counts.hint ? `, ${counts.info + counts.hint} note${counts.info + counts.hint === 1 ? '' : 's'}` : ''),
    );
  }
  return counts.error > 0 ? 1 : 0;
}

function describeModel(r: ModelCheckResult): string {
  const rep = r.report;
  const size = Object.values(rep.params).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const lines = [
    `${r.model}: loss ${fmtNumber(rep.loss)} on ${rep.examples} example${rep.examples === 1 ? '' : 's'} ` +
      `(${r.source === 'random' ? 'random data' : `data ${r.source}`}), ${rep.options.mode} check of ` +
      `${size.toLocaleString('en-US')} parameters, ${rep.forwardPasses.toLocaleString('en-US')} loss evaluations`,
  ];
  const names = Object.keys(rep.params);
  const width = Math.max(0, ...names.map((n) => n.length));
  const shapeWidth = Math.max(0, ...names.map((n) => fmtShape(rep.params[n].shape as Shape).length));
  for (const n of names) {
    const p = rep.params[n];
    lines.push(
      `  ${n.padEnd(width)}  ${fmtShape(p.shape).padEnd(shapeWidth)}  max relative error ` +
        `${Number.isFinite(p.maxRelError) ? p.maxRelError.toExponential(1) : 'n/a'}  ${p.status}`,
    );
  }
  lines.push(...describeBackwardLines(rep));
  return lines.join('\n');
}

/** The backward block's lines and their verdicts, one per line (as `train` counts them). */
function describeBackwardLines(rep: ModelCheckResult['report']): string[] {
  const bl = rep.backwardLines;
  if (!bl.length) return [];
  const out = [`  backward block: ${bl.length} line${bl.length === 1 ? '' : 's'}`];
  const heads = bl.map((l) => `grad ${l.target}`);
  const width = Math.max(...heads.map((h) => h.length));
  const lineOf = (t: string) => (bl.find((x) => x.target === t)?.range.start.line ?? -1) + 1;
  bl.forEach((l, i) => {
    const at = `line ${l.range.start.line + 1}`;
    let verdict: string;
    if (l.status === 'ok') verdict = `ok (relative error ${Number.isFinite(l.relError) ? Math.max(l.relError, l.relErrorAsWritten).toExponential(1) : 'n/a'})`;
    else if (l.status === 'wrong') verdict = `wrong${l.pattern ? `: ${l.pattern}` : ''}`;
    else if (l.status === 'dependent') verdict = `right on its own, wrong through ${l.dependsOn.map((t) => `grad ${t} (line ${lineOf(t)})`).join(', ')}`;
    else verdict = 'not checked';
    out.push(`    ${heads[i].padEnd(width)}  ${at.padEnd(8)}  ${verdict}`);
  });
  return out;
}

function fmtNumber(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toFixed(4) : x.toExponential(3)) : String(x);
}
