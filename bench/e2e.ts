/**
 * The end-to-end side of the benchmark: `nnlens train` as a user runs it (`node out/cli.js train
 * FILE --epochs E`, stdout piped), on a csv file of the workload's synthetic data (the step row's
 * distribution: normal inputs; class labels, or normal targets for mse) with a train block of the
 * workload's batch and SGD lr, no validation split. Everything a run does once — starting Node,
 * analysing the file, the gradient check, parsing the data, starting the worker and compiling,
 * writing the weights — is the same for 1 epoch and for E, so
 *
 *     time per step = (time of E epochs − time of 1 epoch) / ((E − 1) · steps per epoch)
 *
 * is what each further step costs a user: the step itself and everything per epoch (the shuffle,
 * the running metrics, progress messages, the terminal's epoch lines and chart). The times are the
 * training times the command reports ("trained 800 epochs (51,200 steps) in 6.28 s": from its
 * first step to its last, as the user reads them); the commands' wall times are kept too (the
 * same difference plus the noise of starting and ending a process — on a busy machine, a lot).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/rng';
import { BATCHES_PER_EPOCH } from './engine';
import type { Workload } from './workloads';

export interface E2eSetup {
  file: string;
  stepsPerEpoch: number;
}

/** Writes the workload's data (a csv of BATCHES_PER_EPOCH batches) and a .nn file that trains on it. */
export function prepareE2e(w: Workload, dir: string): E2eSetup {
  mkdirSync(dir, { recursive: true });
  const n = BATCHES_PER_EPOCH * w.batch;
  const dx = w.layers[0];
  const k = w.layers[w.layers.length - 1];
  const csv = join(dir, `${w.id}.csv`);
  if (!existsSync(csv)) {
    const rng = new Rng(1);
    const header = [...Array.from({ length: dx }, (_, i) => `x${i}`), ...(w.loss === 'ce' ? ['label'] : Array.from({ length: k }, (_, i) => `t${i}`))];
    const lines = [header.join(',')];
    for (let e = 0; e < n; e++) {
      const row = Array.from({ length: dx }, () => rng.normal().toFixed(4));
      if (w.loss === 'ce') row.push(String(rng.int(k)));
      else for (let i = 0; i < k; i++) row.push(rng.normal().toFixed(4));
      lines.push(row.join(','));
    }
    writeFileSync(csv, lines.join('\n') + '\n');
  }
  if (w.loss !== 'ce' && k !== 1) throw new Error(`${w.id}: the end-to-end csv has one label column; ${k} targets need another format`);
  const data = w.loss === 'ce' ? `csv("${w.id}.csv", classes: ${k})` : `csv("${w.id}.csv")`;
  const file = join(dir, `${w.id}.nn`);
  writeFileSync(
    file,
    `${w.source}\ndata D = ${data}\ntrain ${w.model} on D {\n  optimizer: sgd(lr: ${w.lr})\n  batch: ${w.batch}\n  epochs: 1\n  split: 1\n  seed: 0\n}\n`,
  );
  return { file, stepsPerEpoch: BATCHES_PER_EPOCH };
}

export interface CliTimes {
  /** Wall time of the whole command (ms): starting Node to its exit. */
  wallMs: number;
  /** The training time the command reports ("trained E epochs (N steps) in X s"), ms. */
  trainMs: number;
}

/**
 * One `nnlens train` run of `epochs` epochs with `threads`: its wall time and reported training time.
 * With `cpu`, the command runs on that CPU only (`taskset -c`: its main thread and its training
 * worker share it).
 */
export function timeCli(cli: string, setup: E2eSetup, epochs: number, threads: number | 'auto', cpu: number | null = null): CliTimes {
  const start = performance.now();
  const argv = [cli, 'train', setup.file, '--epochs', String(epochs), '--threads', String(threads)];
  const r = spawnSync(cpu === null ? process.execPath : 'taskset', cpu === null ? argv : ['-c', String(cpu), process.execPath, ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wallMs = performance.now() - start;
  if (r.status !== 0) throw new Error(`nnlens train exited with ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const m = /^trained [\d,]+ epochs? \([\d,]+ steps?\) in ([\d.]+) s/m.exec(r.stdout);
  if (!m) throw new Error(`nnlens train did not say how long it trained:\n${r.stdout.slice(-500)}`);
  return { wallMs, trainMs: 1000 * Number(m[1]) };
}
