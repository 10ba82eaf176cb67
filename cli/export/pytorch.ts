/**
 * `nnlens export --to pytorch`: one standalone Python script (torch, numpy and the standard
 * library only) with the model, its initial weights, its data (already split into training and
 * validation as `nnlens train` splits it) and the training loop of its `train` block.
 * docs/export.md describes the script and how each op maps.
 */
import { sizeOf, type Dataset, type IRModel, type IRProgram, type TrainOptions } from '../../engine';
import { accuracyKindOf, outputNodeOf, trainingSeeds } from '../../engine/train/index';
import { emitFunctions, emitModel, functionsUsedBy } from './model';
import { Names, packFloat64, pyFloat, pyLongString, pyNested, pyString } from './python';
import { PRELUDE, RUNTIME } from './runtime';

/** Up to this many elements a weight is written as readable nested lists; above, packed. */
const READABLE_LIMIT = 64;

export interface ExportInput {
  program: IRProgram;
  model: IRModel;
  /** The .nn file as given on the command line (for messages and the header). */
  source: string;
  /** The whole command, for the header. */
  command: string;
  /** The train block's options (defaults when there is none). */
  options: TrainOptions;
  /** `data NAME = …` of the train block, as written; null without a train block. */
  dataText: string | null;
  /** The whole data set and its split as the trainer splits it. */
  data: { all: Dataset; train: Dataset; validation: Dataset | null } | null;
  initial: Record<string, Float64Array>;
  /** The text of a statement (one line, whitespace collapsed), for comments. */
  statementText: (v: { stmtRange: IRModel['values'][number]['stmtRange'] }) => string | null;
}

function tensorCode(data: Float64Array, shape: number[], indent: string): string {
  if (data.length <= READABLE_LIMIT) return `_tensor(${pyNested(data, shape)})`;
  const tuple = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  return `_unpack(${pyLongString(packFloat64(data), `${indent}    `)}, ${tuple})`;
}

function datasetCode(ds: Dataset): string {
  const x = `_unpack(${pyLongString(packFloat64(ds.x), '        ')}, (${[ds.n, ...ds.xShape].join(', ')}))`;
  const y = `_unpack(${pyLongString(packFloat64(ds.y), '        ')}, (${[ds.n, ...ds.yShape].join(', ')}))`;
  return `(\n    ${x},\n    ${y},\n)`;
}

function trainCode(o: TrainOptions): string {
  const opt =
    o.optimizer.kind === 'sgd'
      ? `"optimizer": "sgd", "lr": ${pyFloat(o.optimizer.lr)}, "momentum": ${pyFloat(o.optimizer.momentum)}`
      : `"optimizer": "adam", "lr": ${pyFloat(o.optimizer.lr)}, "beta1": ${pyFloat(o.optimizer.beta1)}, ` +
        `"beta2": ${pyFloat(o.optimizer.beta2)}, "eps": ${pyFloat(o.optimizer.eps)}`;
  return `TRAIN = {${opt}, "batch": ${o.batch}, "epochs": ${o.epochs}, "split": ${pyFloat(o.split)}, "seed": ${o.seed}, "gradients": ${pyString(o.gradients)}}`;
}

function describeOptimizer(o: TrainOptions): string {
  const p = o.optimizer;
  return p.kind === 'sgd'
    ? `torch.optim.SGD(lr=${pyFloat(p.lr)}, momentum=${pyFloat(p.momentum)})`
    : `torch.optim.Adam(lr=${pyFloat(p.lr)}, betas=(${pyFloat(p.beta1)}, ${pyFloat(p.beta2)}), eps=${pyFloat(p.eps)})`;
}

export function generatePyTorch(input: ExportInput): string {
  const { program, model, options, data } = input;
  const seeds = trainingSeeds(options.seed);
  const script = new Names(['torch', 'F', 'np', 'math', 'os', 'sys', 'json', 'zlib', 'base64', 'argparse', 'softplus',
    'Rng', 'EpochShuffler', 'TRAIN', 'SEEDS', 'DATA', 'INITIAL', 'MODEL', 'MODEL_CLASS', 'SOURCE', 'ACCURACY', 'main',
    'train', 'check', 'evaluate', 'correct_of', 'train_step', 'make_optimizer', 'load_weights', 'save_weights']);
  const fns = functionsUsedBy(program, model);
  const fnNames = new Map(fns.map((f) => [f.name, script.get(`fn:${f.name}`, f.name)]));
  const className = script.get(`model:${model.name}`, model.name);
  // the trainer's output and accuracy (engine/train/metrics.ts)
  const output = model.targets.length ? outputNodeOf(model) : null;
  const outNode = output === null ? null : model.nodes[output];
  const accuracy = outNode?.batched && data ? accuracyKindOf(data.all, sizeOf(outNode.shape)) : null;
  const code = emitModel(model, className, fnNames, input.statementText, accuracy ? output : null);

  const usage = [
    `  python3 SCRIPT                 train as \`nnlens train\` does, print the loss per epoch,`,
    `                                 write ${model.name}.weights.json next to the script`,
    `  python3 SCRIPT --json          one JSON object per epoch: {"epoch", "step", "loss", "valLoss", "accuracy"}`,
    `  python3 SCRIPT --check         the float64 loss and gradients at the initial weights on the training set`,
    `  python3 SCRIPT --check --params P.json --batch B.json     the same as \`nnlens grad\``,
    `Options: --epochs N, --dtype float32|float64 (float32, as nnlens trains), --params P.json (start from`,
    `these weights), --weights PATH, --no-weights, --examples N (--check: the first N training examples).`,
  ];
  const nTrain = data?.train.n ?? 0;
  const nVal = data?.validation?.n ?? 0;
  const dataComment = input.dataText
    ? `# ${input.dataText}: ${nTrain + nVal} examples, split ${pyFloat(options.split)} with seed ${seeds.split}: ` +
      `${nTrain} for training, ${nVal ? `${nVal} for validation` : 'no validation'}`
    : '# no train block: no data (train it with nnlens, or use --check --batch B.json)';

  const lines = [
    '#!/usr/bin/env python3',
    `"""model ${model.name} from ${input.source}, exported by NN Lens:`,
    `    ${input.command}`,
    '',
    'The same model, initial weights, data and training loop as `nnlens train`, in PyTorch',
    '(only torch, numpy and the standard library):',
    ...usage,
    '"""',
    'import argparse',
    'import base64',
    'import json',
    'import math',
    'import os',
    'import sys',
    'import zlib',
    '',
    'import numpy as np',
    'import torch',
    'import torch.nn.functional as F',
    '',
    `SOURCE = ${pyString(input.source)}`,
    `MODEL = ${pyString(model.name)}`,
    input.dataText
      ? `# optimizer ${describeOptimizer(options)}, batches of ${options.batch}, ${options.epochs} epochs, gradients: ${options.gradients}`
      : '# no train block: the defaults',
    trainCode(options),
    `# nnlens draws the initial weights, the split and the per-epoch shuffles from the train seed`,
    `SEEDS = {"init": ${seeds.init}, "split": ${seeds.split}, "shuffle": ${seeds.shuffle}}`,
    `# accuracy as nnlens counts it: "one-hot" (argmax of the output against argmax of the label),`,
    `# "binary" (labels 0/1; the output predicts 1 when >= 0.5), or None (no accuracy)`,
    `ACCURACY = ${accuracy ? pyString(accuracy) : 'None'}`,
    '',
    '',
    PRELUDE,
    '',
  ];
  if (fns.length) lines.push('# ---- functions ' + '-'.repeat(78), '', ...emitFunctions(fns, fnNames, script));
  lines.push(
    '# ---- the model ' + '-'.repeat(78),
    '',
    ...code.lines,
    '',
    `    OUTPUT = ${code.prediction === null ? 'None' : pyString(code.prediction)}  # the value the accuracy reads`,
  );
  if (!model.backward?.length) lines.push('    AUTO_PARAMS = []', '', '    def manual_gradients(self, *args):', '        raise RuntimeError("this model has no backward block")');
  lines.push(
    '',
    '',
    `MODEL_CLASS = ${className}`,
    '',
    `# ---- initial weights (float64, exactly as nnlens draws them from seed ${seeds.init}) ` + '-'.repeat(20),
    'INITIAL = {',
    ...model.params.map((p) => `    ${pyString(p.name)}: ${tensorCode(input.initial[p.name], p.shape, '    ')},`),
    '}',
    '',
    '# ---- data ' + '-'.repeat(83),
    dataComment,
  );
  if (data) {
    lines.push(
      'DATA = {',
      `    "train": ${datasetCode(data.train).replace(/\n/g, '\n    ')},`,
      `    "validation": ${data.validation ? datasetCode(data.validation).replace(/\n/g, '\n    ') : 'None'},`,
      '}',
    );
  } else lines.push('DATA = None');
  lines.push('', '', RUNTIME);
  return lines.join('\n');
}
