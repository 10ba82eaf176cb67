/**
 * `nnlens export FILE --model NAME --to pytorch -o DIR/`: a small PyTorch project (spec §12).
 *
 *   model.py              the nn.Module, the loss function, weight helpers   (./module.ts)
 *   data.py               the train block's data set and split              (./data.ts)
 *   train.py              the loop: CPU, GPU, AMP, torchrun / DDP            (./train.ts)
 *   initial.weights.json  the weights nnlens starts from (or --weights)      (P.json)
 *   NAME.npz              digits16 and table data, beside data.py
 *   README.md             how to run it
 *
 * Everything is generated in memory; the caller writes the files.
 */
import { sizeOf, type Dataset, type IRData, type IRModel, type IRProgram, type Range, type TrainOptions } from '../../../engine';
import { accuracyKindOf, outputNodeOf } from '../../../engine/train/index';
import { toNested } from '../../tensorJson';
import { modelOutput } from '../output';
import { emitData } from './data';
import { emitModule } from './module';
import { describeTraining, emitTrain } from './train';

export interface ProjectInput {
  program: IRProgram;
  model: IRModel;
  /** The .nn file as given, and the command, for the headers. */
  source: string;
  command: string;
  /** Absolute path of the project directory. */
  projectDir: string;
  train: {
    options: TrainOptions;
    decl: IRData;
    dataset: Dataset;
    dataText: string;
    csvPath: string | null;
    splitSeed: number;
  } | null;
  /** The weights training starts from (nnlens's initial weights, or --weights). */
  initial: Record<string, Float64Array>;
  /** Where the initial weights come from, for the README. */
  initialFrom: string;
  statementText: (range: Range) => string | null;
}

export interface ProjectFile {
  name: string;
  content: string | Uint8Array;
}

export interface Project {
  files: ProjectFile[];
  className: string;
}

export class ProjectError extends Error {}

export function generateProject(input: ProjectInput): Project {
  const { model, train } = input;
  const output = modelOutput(model);
  if (!output) throw new ProjectError(`model ${model.name} has no output: no named value that does not depend on its target`);
  const provenance = `Exported from ${input.source} by \`${input.command}\`.`;
  const module = emitModule({ program: input.program, model, output, statementText: input.statementText, provenance });
  const files: ProjectFile[] = [{ name: 'model.py', content: module.text }];

  const weights = Object.fromEntries(model.params.map((p) => [p.name, toNested(input.initial[p.name], p.shape)]));
  files.push({ name: 'initial.weights.json', content: JSON.stringify(weights) + '\n' });

  let dataFiles: string[] = [];
  if (train) {
    const data = emitData({
      decl: train.decl,
      dataset: train.dataset,
      text: train.dataText,
      csvPath: train.csvPath,
      projectDir: input.projectDir,
      split: train.options.split,
      splitSeed: train.splitSeed,
    });
    files.push({ name: 'data.py', content: data.text });
    for (const f of data.files) files.push({ name: f.name, content: f.bytes });
    dataFiles = data.files.map((f) => f.name);
    // accuracy exactly as nnlens counts it (engine/train/metrics.ts)
    const out = outputNodeOf(model);
    const outNode = out === null ? null : model.nodes[out];
    const accuracy = outNode?.batched && out === output.node ? accuracyKindOf(train.dataset, sizeOf(outNode.shape)) : null;
    const dataKind = train.decl.spec.kind === 'csv' ? 'a csv file' : dataFiles.length ? 'an .npz file' : 'generated: --data is ignored';
    files.push({ name: 'train.py', content: emitTrain({ modelName: model.name, className: module.className, options: train.options, accuracy, dataKind }) });
  }
  files.push({ name: 'README.md', content: readme(input, module.className, output.name, dataFiles) });
  return { files, className: module.className };
}

function readme(input: ProjectInput, className: string, outputName: string, dataFiles: string[]): string {
  const { model, train } = input;
  const x = model.inputs.map((d) => d.name).join(', ');
  const t = model.targets.map((d) => d.name).join(', ');
  const name = model.name;
  const rows = [
    `| \`model.py\` | \`${className}\`, a \`torch.nn.Module\`: \`${className}()(${x})\` is the output \`${outputName}\`; \`loss(…)\` each example's loss \`${model.loss.name}\` |`,
    ...(train
      ? [
          `| \`data.py\` | the data set \`${train.dataText}\` as a \`torch.utils.data.Dataset\`, split as nnlens splits it |`,
          ...dataFiles.map((f) => `| \`${f}\` | the data, saved by nnlens (NumPy) |`),
          `| \`train.py\` | the train block's loop: ${describeTraining(train.options)} |`,
        ]
      : []),
    `| \`initial.weights.json\` | the weights training starts from: ${input.initialFrom} |`,
  ];
  const lines = [
    `# ${name}: a PyTorch project exported by NN Lens`,
    '',
    `From \`${input.source}\`: \`${input.command}\`. It needs only \`torch\` and \`numpy\` (tested with PyTorch 1.13).`,
    '',
    '| file | |',
    '|---|---|',
    ...rows,
    '',
    '## Use the model',
    '',
    '```python',
    'import torch',
    `from model import ${className}, loss, load_weights`,
    '',
    `net = ${className}()                             # params drawn as the .nn file says`,
    `load_weights(net, "${name}.weights.json")        # or the weights of a run`,
    `${outputName} = net(${x})                                  # batch-first: ${x} is [batch, ${model.inputs[0]?.shape.join(', ')}]`,
    ...(t ? [`${outputName}, ${model.loss.name} = net(${x}, ${t})                  # and each example's loss; ${model.loss.name}.mean() is the batch's loss`] : []),
    '```',
    '',
  ];
  if (train) {
    lines.push(
      '## Train',
      '',
      '```sh',
      'python3 train.py                         # the GPU when there is one, else the CPU',
      'python3 train.py --device cpu --json     # one JSON object per epoch, as `nnlens train --json`',
      'python3 train.py --epochs 5 --lr 0.1 --batch 64',
      '```',
      '',
      `Each epoch writes \`${name}.pt\` (a \`state_dict\`: \`net.load_state_dict(torch.load("${name}.pt"))\`); the end also`,
      `\`${name}.weights.json\` (the P.json format of nnlens). \`python3 train.py --help\` lists every option.`,
      '',
      '## One GPU',
      '',
      '```sh',
      'python3 train.py --device cuda           # float32',
      'python3 train.py --device cuda --amp     # automatic mixed precision (float16 where it is safe)',
      '```',
      '',
      '## Many GPUs, many machines: torchrun',
      '',
      '```sh',
      'torchrun --nproc_per_node 4 train.py                                  # 4 GPUs (or 4 CPU processes) on one machine',
      'torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 \\',
      '         --master_addr HOST0 --master_port 29500 train.py             # machine 0 of 2 (node_rank 1 on the other)',
      '```',
      '',
      `train.py reads torchrun's variables (\`RANK\`, \`WORLD_SIZE\`, \`LOCAL_RANK\`, \`MASTER_ADDR\`, \`MASTER_PORT\`)`,
      'and trains with `DistributedDataParallel`: NCCL on GPUs, Gloo on CPUs. The batch stays the train',
      `block's global batch of ${train.options.batch}: every step, K processes share one global batch (each takes every`,
      "K-th example of it), so K processes follow the same trajectory as one, up to float rounding. Rank 0",
      "alone logs the epoch's loss over all processes and writes the weights.",
      '',
      '## Back in NN Lens',
      '',
      '```sh',
      `nnlens trace ${input.source} --model ${name} --weights ${name}.weights.json`,
      `nnlens grad ${input.source} --model ${name} --params ${name}.weights.json --batch B.json`,
      '```',
      '',
      `In VS Code, set \`nnlens.weightsFile\` to \`${name}.weights.json\` or run **NN Lens: Load Weights**: hovers show`,
      'the values and gradients at these weights.',
      '',
      '## How it differs from `nnlens train`',
      '',
      '- The same data, split, initial weights, optimizer, batch size and epochs; the per-epoch shuffle is',
      "  torch's (`seed + epoch`), not nnlens's, so the losses are close but not equal.",
      "- Gradients come from autograd (a user function's `grad` line is its backward, as in nnlens). A",
      '  `backward {}` block is not used: `nnlens check` verified that it equals these gradients.',
      '- A loss that stops being finite ends the run after that epoch, keeping the weights of the epoch before.',
      '',
    );
  } else {
    lines.push(`The .nn file has no \`train\` block for ${name}, so there is no data.py or train.py.`, '');
  }
  return lines.join('\n');
}
