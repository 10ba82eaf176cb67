/**
 * `nnlens export FILE --model NAME --to pytorch|onnx [-o OUT] [--weights W.json] [--force]`
 * (spec §8, §12; docs/export.md):
 *
 * - `--to pytorch` without `-o`, or `-o OUT.py`: the single-file script that replays `nnlens train`
 *   exactly (cli/export/pytorch.ts);
 * - `--to pytorch -o DIR/` (a trailing slash): a PyTorch project (cli/export/project/);
 * - `--to onnx -o OUT.onnx`: the forward pass as ONNX (cli/export/onnx/).
 *
 * Exit status: 0 when written; 1 when `nnlens check` rejects the file (its errors are printed,
 * nothing is written); 2 for an unusable request (unknown model or target, missing options, a bad
 * weights file, data that cannot be loaded, an output path that cannot be written — one line).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { DataError, DEFAULT_TRAIN_OPTIONS, initParams, loadData, splitData, type Range } from '../engine';
import { trainingSeeds } from '../engine/train/index';
import { checkAnalysis } from './check';
import { countBySeverity, formatDiagnostic } from './diagnostics';
import { exportOnnx, OnnxExportError } from './export/onnx/index';
import { generateProject, ProjectError } from './export/project/index';
import { generatePyTorch } from './export/pytorch';
import { readParams } from './grad';
import { analyzeCliFile } from './load';
import { UsageError } from './tensorJson';

declare const NNLENS_VERSION: string | undefined;

export const EXPORT_TARGETS = ['pytorch', 'onnx'] as const;

export interface ExportOptions {
  model?: string;
  to?: string;
  out?: string;
  weights?: string;
  force?: boolean;
  workspaceRoot?: string;
}

type Target = { kind: 'stdout' } | { kind: 'script'; path: string } | { kind: 'project'; dir: string } | { kind: 'onnx'; path: string };

/** Where the export goes, checked before anything is computed: an odd path is a usage error (exit 2). */
export function resolveTarget(to: 'pytorch' | 'onnx', out: string | undefined, force: boolean): Target {
  if (out === undefined) {
    if (to === 'onnx') throw new UsageError('nnlens export --to onnx needs -o OUT.onnx');
    return { kind: 'stdout' };
  }
  if (out === '') throw new UsageError('-o needs a path');
  const wantsDir = out.endsWith('/') || out.endsWith(sep);
  const path = resolve(out);
  const what = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return null;
    }
  };
  if (wantsDir) {
    if (to === 'onnx') throw new UsageError(`-o ${out}: --to onnx writes one file (-o OUT.onnx), not a directory`);
    const st = what(path);
    if (st && !st.isDirectory()) throw new UsageError(`-o ${out}: ${out.replace(/[/\\]+$/, '')} is a file, not a directory`);
    if (st) {
      if (!force && readdirSync(path).length > 0) {
        throw new UsageError(`-o ${out}: the directory is not empty (--force writes the project's files into it)`);
      }
      return { kind: 'project', dir: path };
    }
    requireParent(out, path);
    return { kind: 'project', dir: path };
  }
  const st = what(path);
  if (st?.isDirectory()) {
    throw new UsageError(
      `-o ${out} is a directory: give a file (-o ${join(out, to === 'onnx' ? 'model.onnx' : 'model.py')})` +
        (to === 'pytorch' ? ` or, for a project, end the path with / (-o ${out}/)` : ''),
    );
  }
  requireParent(out, path);
  return to === 'onnx' ? { kind: 'onnx', path } : { kind: 'script', path };
}

function requireParent(out: string, path: string): void {
  const parent = dirname(path);
  let st;
  try {
    st = statSync(parent);
  } catch {
    throw new UsageError(`-o ${out}: the directory ${parent} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`-o ${out}: ${parent} is not a directory`);
}

/** A file system error as one line (no stack): the path and what went wrong. */
function writeError(path: string, e: unknown): UsageError {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    ENOENT: 'the directory does not exist',
  };
  return new UsageError(`cannot write ${path}: ${(err.code && why[err.code]) ?? err.message}`);
}

function write(path: string, content: string | Uint8Array): void {
  try {
    writeFileSync(path, content);
  } catch (e) {
    throw writeError(path, e);
  }
}

export async function runExport(file: string, opts: ExportOptions): Promise<number> {
  if (!opts.model) throw new UsageError('nnlens export needs --model NAME');
  if (opts.to === undefined) throw new UsageError('nnlens export needs --to pytorch or --to onnx');
  if (!(EXPORT_TARGETS as readonly string[]).includes(opts.to)) {
    throw new UsageError(`cannot export to ${opts.to}: the targets are pytorch and onnx (--to pytorch, --to onnx)`);
  }
  const to = opts.to as (typeof EXPORT_TARGETS)[number];
  const target = resolveTarget(to, opts.out, opts.force === true);

  const analysis = await analyzeCliFile(file, opts.workspaceRoot);
  const known = [...analysis.program.models.map((m) => m.name), ...analysis.skippedModels];
  if (!known.includes(opts.model)) {
    throw new UsageError(`${file} has no model ${opts.model}${known.length ? ` (models: ${known.join(', ')})` : ''}`);
  }

  // a file `nnlens check` rejects is not exported (spec §12): the same checks, the same errors
  const checked = checkAnalysis(file, analysis, { workspaceRoot: opts.workspaceRoot });
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    const colour = process.stderr.isTTY === true && !process.env.NO_COLOR;
    for (const d of errors.slice(0, 20)) process.stderr.write(formatDiagnostic(file, d, colour) + '\n');
    if (errors.length > 20) process.stderr.write(`… and ${errors.length - 20} more\n`);
    const n = countBySeverity(checked.diagnostics).error;
    process.stderr.write(`nnlens export: nnlens check rejects ${file} (${n} error${n === 1 ? '' : 's'}); nothing exported\n`);
    return 1;
  }
  const model = analysis.program.models.find((m) => m.name === opts.model)!;

  const text = readFileSync(file, 'utf8');
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const slice = (r: Range) => text.slice(lineStarts[r.start.line] + r.start.character, lineStarts[r.end.line] + r.end.character);
  const oneLine = (s: string) => s.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ').trim();
  const statementText = (r: Range) => oneLine(slice(r)) || null;

  const train = analysis.program.trains.find((t) => t.model === model.name) ?? null;
  const options = train?.options ?? DEFAULT_TRAIN_OPTIONS;
  const seeds = trainingSeeds(options.seed);
  const initial = opts.weights ? readParams(opts.weights, model) : initParams(model, seeds.init);
  const initialFrom = opts.weights ? `the weights of ${opts.weights}` : `nnlens's initial weights (train seed ${options.seed})`;
  const command = [
    'nnlens export',
    file,
    '--model',
    model.name,
    '--to',
    to,
    ...(opts.weights ? ['--weights', opts.weights] : []),
    ...(opts.out ? ['-o', opts.out] : []),
  ].join(' ');

  if (target.kind === 'onnx') {
    let result;
    try {
      result = exportOnnx(analysis.program, model, {
        weights: initial,
        producerVersion: typeof NNLENS_VERSION === 'string' ? NNLENS_VERSION : 'dev',
        statementText: (name) => {
          const v = model.values.find((x) => x.name === name);
          return v ? statementText(v.stmtRange) : null;
        },
        doc: `model ${model.name} from ${basename(file)}, exported by ${command}; weights: ${initialFrom}`,
      });
    } catch (e) {
      if (e instanceof OnnxExportError) throw new UsageError(e.message);
      throw e;
    }
    write(target.path, result.bytes);
    process.stderr.write(
      `wrote ${opts.out} (model ${model.name}: ${result.inputs.map((i) => `${i.name} [batch, ${i.shape.join(', ')}]`).join(', ')} → ` +
        `${result.output.name} [${[...(result.output.batched ? ['batch'] : []), ...result.output.shape].join(', ')}], ${result.nodeCount} nodes, opset 13)\n`,
    );
    return 0;
  }

  // the data of the train block
  let loaded = null;
  let dataText: string | null = null;
  let csvPath: string | null = null;
  const decl = train ? analysis.program.data.find((d) => d.name === train.data) : undefined;
  if (train) {
    if (!decl) throw new UsageError(`${file}: the train block of ${model.name} names no data set ${train.data}`);
    try {
      const all = loadData(decl.spec, { baseDir: dirname(resolve(file)), workspaceRoot: opts.workspaceRoot });
      loaded = { all, ...splitData(all, options.split, seeds.split) };
    } catch (e) {
      if (e instanceof DataError) throw new UsageError(`${file}: cannot load data ${decl.name}: ${e.message}`);
      throw e;
    }
    dataText = oneLine(slice(decl.stmtRange));
    if (decl.spec.kind === 'csv') csvPath = resolve(dirname(resolve(file)), decl.spec.path);
  }

  if (target.kind === 'project') {
    let project;
    try {
      project = generateProject({
        program: analysis.program,
        model,
        source: file,
        command,
        projectDir: target.dir,
        train: train && decl && loaded ? { options, decl, dataset: loaded.all, dataText: dataText!, csvPath, splitSeed: seeds.split } : null,
        initial,
        initialFrom,
        statementText,
      });
    } catch (e) {
      if (e instanceof ProjectError) throw new UsageError(e.message);
      throw e;
    }
    if (!existsSync(target.dir)) {
      try {
        mkdirSync(target.dir);
      } catch (e) {
        throw writeError(target.dir, e);
      }
    }
    for (const f of project.files) write(join(target.dir, f.name), f.content);
    process.stderr.write(`wrote ${opts.out} (model ${model.name}: ${project.files.map((f) => f.name).join(', ')})\n`);
    return 0;
  }

  const script = generatePyTorch({
    program: analysis.program,
    model,
    source: file,
    command,
    options,
    dataText,
    data: loaded,
    initial,
    statementText: (v) => statementText(v.stmtRange),
  });
  if (target.kind === 'script') {
    write(target.path, script);
    process.stderr.write(`wrote ${opts.out} (model ${model.name}, ${script.length.toLocaleString('en-US')} characters)\n`);
  } else process.stdout.write(script);
  return 0;
}

