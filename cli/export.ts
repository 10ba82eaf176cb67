/**
 * `nnlens export FILE --model NAME --to pytorch [-o OUT.py]` (§8): a standalone PyTorch script
 * with the same model, initial weights, data and training loop (cli/export/, docs/export.md).
 * Exit 0 when written, 2 on an unusable request (unknown model, a file with errors, data that
 * cannot be loaded, `--to` other than pytorch).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataError, DEFAULT_TRAIN_OPTIONS, initParams, loadData, splitData, type Range } from '../engine';
import { formatDiagnostic, sortDiagnostics, toCliDiagnostic } from './diagnostics';
import { trainingSeeds } from '../engine/train/index';
import { generatePyTorch } from './export/pytorch';
import { analyzeCliFile } from './load';
import { UsageError } from './tensorJson';

export const EXPORT_TARGETS = ['pytorch'] as const;

export async function runExport(
  file: string,
  opts: { model?: string; to?: string; out?: string; workspaceRoot?: string },
): Promise<number> {
  if (!opts.model) throw new UsageError('nnlens export needs --model NAME');
  if (opts.to === undefined) throw new UsageError('nnlens export needs --to pytorch');
  if (!(EXPORT_TARGETS as readonly string[]).includes(opts.to)) {
    throw new UsageError(`cannot export to ${opts.to}: the only target is pytorch (--to pytorch)`);
  }
  const analysis = await analyzeCliFile(file, opts.workspaceRoot);
  const errors = sortDiagnostics(analysis.diagnostics.filter((d) => d.severity === 'error').map(toCliDiagnostic));
  const known = [...analysis.program.models.map((m) => m.name), ...analysis.skippedModels];
  if (!known.includes(opts.model)) {
    throw new UsageError(`${file} has no model ${opts.model}${known.length ? ` (models: ${known.join(', ')})` : ''}`);
  }
  const model = analysis.program.models.find((m) => m.name === opts.model);
  if (!model || errors.length) {
    for (const d of errors.slice(0, 20)) process.stderr.write(formatDiagnostic(file, d, false) + '\n');
    const what = model ? `${file} has ${errors.length} error${errors.length === 1 ? '' : 's'}` : `model ${opts.model} has errors`;
    throw new UsageError(`${what}; nothing exported (fix them first: nnlens check ${file})`);
  }

  const text = readFileSync(file, 'utf8');
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const slice = (r: Range) => text.slice(lineStarts[r.start.line] + r.start.character, lineStarts[r.end.line] + r.end.character);
  const oneLine = (s: string) => s.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ').trim();

  const train = analysis.program.trains.find((t) => t.model === model.name) ?? null;
  const options = train?.options ?? DEFAULT_TRAIN_OPTIONS;
  const seeds = trainingSeeds(options.seed);
  let data = null;
  let dataText: string | null = null;
  if (train) {
    const decl = analysis.program.data.find((d) => d.name === train.data);
    if (!decl) throw new UsageError(`${file}: the train block of ${model.name} names no data set ${train.data}`);
    try {
      const ds = loadData(decl.spec, { baseDir: dirname(resolve(file)), workspaceRoot: opts.workspaceRoot });
      data = { all: ds, ...splitData(ds, options.split, seeds.split) };
    } catch (e) {
      if (e instanceof DataError) throw new UsageError(`${file}: cannot load data ${decl.name}: ${e.message}`);
      throw e;
    }
    dataText = oneLine(slice(decl.stmtRange));
  }
  const command = ['nnlens export', file, '--model', model.name, '--to', opts.to, ...(opts.out ? ['-o', opts.out] : [])].join(' ');
  const script = generatePyTorch({
    program: analysis.program,
    model,
    source: file,
    command,
    options,
    dataText,
    data,
    initial: initParams(model, seeds.init),
    statementText: (v) => oneLine(slice(v.stmtRange)) || null,
  });
  if (opts.out) {
    writeFileSync(opts.out, script);
    process.stderr.write(`wrote ${opts.out} (model ${model.name}, ${script.length.toLocaleString('en-US')} characters)\n`);
  } else process.stdout.write(script);
  return 0;
}
